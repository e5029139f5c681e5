"""The media sandbox image: ffprobe + ffmpeg on the cpu base (``images/Dockerfile.media``).

Built like a base (``runner images build --bases-only`` or ``runner images build media``),
named ``<prefix>/media:<MEDIA_VERSION>`` and labelled with a digest of its Dockerfile, so
``runner images status`` / ``runner list`` / ``runner doctor`` can say built, stale or missing.
"""
from __future__ import annotations

import hashlib

from runner.config import Settings
from runner.images.sandbox import image_state, status_line as sandbox_status_line
from runner.sources import IMAGES

MEDIA_NAME = "media"
MEDIA_VERSION = "1"
DOCKERFILE = "Dockerfile.media"
FIX = "runner images build media (or: make images)"


def media_tag(settings: Settings) -> str:
    return f"{settings.image_prefix}/{MEDIA_NAME}:{MEDIA_VERSION}"


def media_digest() -> str:
    """What the image is built from: its Dockerfile (the cpu base is named by its own tag)."""
    return hashlib.sha256((IMAGES / DOCKERFILE).read_bytes()).hexdigest()[:16]


def media_status_with(client, settings: Settings) -> str:
    """``"built" | "stale" | "missing"`` of the media image, asking ``client``."""
    return image_state(client, media_tag(settings), media_digest())


def media_status(settings: Settings) -> str:
    """Like :func:`media_status_with`; raises BackendUnavailable without a daemon."""
    from runner.backends.docker import connect

    return media_status_with(connect(timeout=5), settings)


def status_line(settings: Settings) -> tuple[bool, str]:
    """``(built?, "built <prefix>/media:1")`` for ``runner list`` and ``runner doctor``."""
    return sandbox_status_line(lambda client: media_status_with(client, settings), media_tag(settings), FIX)


def build_media(client, settings: Settings, opts, echo, force: bool = False) -> str:
    """Build ``<prefix>/media:1`` FROM the cpu base (built first when missing); skip when up to date."""
    from runner.backends.docker import LABEL
    from runner.images.build import _build, _Context, _prepare, build_base

    tag = media_tag(settings)
    if not force and media_status_with(client, settings) == "built":
        return tag
    base = build_base(client, settings, opts, echo)
    ctx = _Context()
    _prepare(ctx, opts, DOCKERFILE, None)
    _build(client, ctx, tag, {"BASE": base},
           {f"{LABEL}.role": "media", f"{LABEL}.source-digest": media_digest()}, opts, echo)
    return tag
