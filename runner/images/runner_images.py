"""The runner's own sandbox images, one table: :data:`MEDIA` (ffprobe + ffmpeg, ``images/Dockerfile.media``)
and :data:`FETCH` (yt-dlp + the download core, ``images/Dockerfile.fetch``), both on the cpu base.

Each is a :class:`SandboxImage`: its name (the tag's name, the role label, ``runner images build
NAME``), the version in its tag (``<prefix>/<name>:<version>``), its Dockerfile, the repository files
it copies and the packages it installs from the runner's lock (``requirements/api.lock``, in
hash-checking mode). Its digest covers the Dockerfile, those lock lines and those files, and is the
image's ``source-digest`` label, so :func:`status_lines` (``runner list``, ``runner doctor``) and
``runner images status`` can say built, stale or missing; :func:`build` is the one way either is
built (``runner images build media|fetch``, part of ``--bases-only``).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from runner.core.config import REPO_ROOT, Settings
from runner.core.lockfile import API_LOCK, Pin, pin
from runner.core.sources import IMAGES

__all__ = ["SandboxImage", "MEDIA", "FETCH", "SANDBOXES", "image_state", "status_lines", "build"]


@dataclass(frozen=True)
class SandboxImage:
    name: str                           # "media" | "fetch": the tag's name, the role label, the build argument
    version: str                        # the tag's version: bumped when what runs inside changes meaning
    dockerfile: str                     # under images/
    label: str                          # "media sandbox": how status lines name it
    copies: tuple[str, ...] = ()        # repository files copied in (at the same path), part of the digest
    pins: tuple[tuple[str, str], ...] = ()  # (package of requirements/api.lock, build arg given its version)

    @property
    def fix(self) -> str:
        return f"runner images build {self.name} (or: make images)"

    def tag(self, settings: Settings) -> str:
        return f"{settings.image_prefix}/{self.name}:{self.version}"

    def pinned(self) -> list[Pin]:
        """The lock's lines of :attr:`pins`: the image installs exactly these."""
        return [pin(package, API_LOCK) for package, _ in self.pins]

    def digest(self) -> str:
        """What the image is built from: its Dockerfile, its lock lines, the files it copies (the cpu base
        is named by its own tag)."""
        h = hashlib.sha256((IMAGES / self.dockerfile).read_bytes())
        for p in self.pinned():
            h.update(p.line().encode())
        for f in self.copies:
            h.update(f.encode() + b"\0" + (REPO_ROOT / f).read_bytes())
        return h.hexdigest()[:16]

    def state(self, client, settings: Settings) -> str:
        """``"built" | "stale" | "missing"``, asking ``client``."""
        return image_state(client, self.tag(settings), self.digest())


MEDIA = SandboxImage("media", "1", "Dockerfile.media", "media sandbox")
FETCH = SandboxImage(
    "fetch", "2",  # 2: the egress proxy (runner/download/egress.py); yt-dlp has network none
    "Dockerfile.fetch", "download sandbox",
    # the yt-dlp attempt, its error classification, the host checks, the egress proxy
    copies=("runner/__init__.py", "runner/core/__init__.py", "runner/core/errors.py", "runner/download/__init__.py",
            "runner/download/net_safety.py", "runner/download/egress.py", "runner/download/core.py"),
    pins=(("yt-dlp", "YTDLP_VERSION"),))
SANDBOXES = {s.name: s for s in (MEDIA, FETCH)}


def image_state(client, tag: str, digest: str) -> str:
    """``"built" | "stale" | "missing"``: whether ``tag`` exists and carries ``digest`` as its source label."""
    import docker.errors

    from runner.backends.docker import LABEL

    try:
        img = client.images.get(tag)
    except docker.errors.ImageNotFound:
        return "missing"
    return "built" if (img.labels or {}).get(f"{LABEL}.source-digest") == digest else "stale"


def status_lines(settings: Settings, client=None) -> list[tuple[SandboxImage, bool, str]]:
    """``(image, built?, "built <tag>")`` of each sandbox image, for ``runner list`` and ``runner doctor``;
    one daemon connection for all (none answering: ``unknown`` with the reason)."""
    from runner.core.errors import RunnerError

    try:
        if client is None:
            from runner.backends.docker import connect

            client = connect(timeout=5)
        states = [(s, s.state(client, settings)) for s in SANDBOXES.values()]
    except (ImportError, RunnerError) as exc:
        return [(s, False, f"unknown ({getattr(exc, 'message', exc)})") for s in SANDBOXES.values()]
    return [(s, state == "built", f"{state} {s.tag(settings)}" + ("" if state == "built" else f" ({s.fix})"))
            for s, state in states]


def build(client, image: SandboxImage, settings: Settings, opts, echo, force: bool = False) -> str:
    """Build ``image`` FROM the cpu base (built first when missing); skip when up to date. Its tag."""
    from runner.backends.docker import LABEL
    from runner.images.build import CACHE, _build, _Context, _pip_download, _prepare, build_base

    tag = image.tag(settings)
    if not force and image.state(client, settings) == "built":
        return tag
    base = build_base(client, settings, opts, echo)
    ctx = _Context()
    pinned = image.pinned()
    lines = [p.line() for p in pinned]
    _prepare(ctx, opts, image.dockerfile, _pip_download(lines, CACHE / f"wheels-{image.name}", opts, echo))
    if lines:  # the Dockerfile installs them with --require-hashes
        ctx.add_text(f"images/{image.name}.lock", "".join(line + "\n" for line in lines))
    for f in image.copies:
        ctx.add(REPO_ROOT / f, f)
    _build(client, ctx, tag, {"BASE": base, **{arg: p.version for (_, arg), p in zip(image.pins, pinned)}},
           {f"{LABEL}.role": image.name, f"{LABEL}.source-digest": image.digest()}, opts, echo)
    return tag
