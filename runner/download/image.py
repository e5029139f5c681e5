"""The download sandbox image: yt-dlp + the download core on the cpu base (``images/Dockerfile.fetch``).

Built like the media image (``runner images build fetch``, part of ``--bases-only``), named
``<prefix>/fetch:<FETCH_VERSION>`` and labelled with a digest of what it is built from (its
Dockerfile, the yt-dlp pin and the core modules copied in), so ``runner images status`` can say
built, stale or missing. Its yt-dlp is the one in the runner's lock (``requirements/api.lock``: the
version and its sha256 hashes), installed in hash-checking mode.
"""
from __future__ import annotations

import hashlib

from runner.config import REPO_ROOT, Settings
from runner.lockfile import API_LOCK, Pin, pin
from runner.images.sandbox import image_state, status_line as sandbox_status_line
from runner.sources import IMAGES

FETCH_NAME = "fetch"
FETCH_VERSION = "2"  # 2: the egress proxy (runner/download/egress.py); yt-dlp has network none
DOCKERFILE = "Dockerfile.fetch"
#: the runner modules the image holds: the yt-dlp attempt, its error classification, the host checks,
#: the egress proxy
CORE_FILES = ("runner/__init__.py", "runner/errors.py", "runner/download/__init__.py",
              "runner/download/net_safety.py", "runner/download/egress.py", "runner/download/core.py")
FIX = "runner images build fetch (or: make images)"


def fetch_tag(settings: Settings) -> str:
    return f"{settings.image_prefix}/{FETCH_NAME}:{FETCH_VERSION}"


def ytdlp_pin() -> Pin:
    """yt-dlp as the runner's lock pins it: the fetch image installs exactly this."""
    return pin("yt-dlp", API_LOCK)


def fetch_digest() -> str:
    h = hashlib.sha256((IMAGES / DOCKERFILE).read_bytes())
    h.update(ytdlp_pin().line().encode())
    for f in CORE_FILES:
        h.update(f.encode() + b"\0" + (REPO_ROOT / f).read_bytes())
    return h.hexdigest()[:16]


def fetch_status_with(client, settings: Settings) -> str:
    """``"built" | "stale" | "missing"`` of the fetch image, asking ``client``."""
    return image_state(client, fetch_tag(settings), fetch_digest())


def fetch_status(settings: Settings) -> str:
    """Like :func:`fetch_status_with`; raises BackendUnavailable without a daemon."""
    from runner.backends.docker import connect

    return fetch_status_with(connect(timeout=5), settings)


def status_line(settings: Settings) -> tuple[bool, str]:
    """``(built?, "built <prefix>/fetch:2")`` for ``runner list`` and ``runner doctor``."""
    return sandbox_status_line(lambda client: fetch_status_with(client, settings), fetch_tag(settings), FIX)


def build_fetch(client, settings: Settings, opts, echo, force: bool = False) -> str:
    """Build ``<prefix>/fetch:2`` FROM the cpu base (built first when missing); skip when up to date."""
    from runner.backends.docker import LABEL
    from runner.images.build import CACHE, _build, _Context, _pip_download, _prepare, build_base

    tag = fetch_tag(settings)
    if not force and fetch_status_with(client, settings) == "built":
        return tag
    base = build_base(client, settings, opts, echo)
    ctx = _Context()
    ytdlp = ytdlp_pin()
    _prepare(ctx, opts, DOCKERFILE, _pip_download([ytdlp.line()], CACHE / "wheels-fetch", opts, echo))
    ctx.add_text("images/fetch.lock", ytdlp.line() + "\n")
    for f in CORE_FILES:
        ctx.add(REPO_ROOT / f, f)
    _build(client, ctx, tag, {"BASE": base, "YTDLP_VERSION": ytdlp.version},
           {f"{LABEL}.role": "fetch", f"{LABEL}.source-digest": fetch_digest()}, opts, echo)
    return tag
