"""Admission: the one place the runner opens a user's file, before any decoder sees it.

The file is opened ONCE (for the API, by walking from an allowed root with ``O_NOFOLLOW`` on every
component, so no symlink is followed and a file swapped for one after submission is refused),
checked with ``fstat`` (regular files only, size cap), then copied into
``<workdir>/input/video.<ext>`` from that same descriptor while it is hashed; the head of that copy
is what is sniffed (an allowlist of container families, each mapped to the demuxer ffmpeg is forced
to use; playlists and manifests are refused whatever their name), before anything else is written. Everything downstream (probe, extraction, thumbnails, the cache key) reads
that copy, never the user's path again.
"""
from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from runner.backends.permissions import share_with_sandbox
from runner.core.errors import AdmissionError

CHUNK = 1 << 20
HEAD = 4096
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)

#: ISO-BMFF / QuickTime box types a real file starts with
_BMFF_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot", b"uuid"}

#: family -> (forced demuxer, extension of the workdir copy)
FAMILIES: dict[str, tuple[str, str]] = {
    "mp4": ("mov", "mp4"),
    "matroska": ("matroska", "mkv"),
    "avi": ("avi", "avi"),
    "mpegts": ("mpegts", "ts"),
    "flv": ("flv", "flv"),
}
DEMUXER_BY_EXT = {ext: demuxer for demuxer, ext in FAMILIES.values()}


@dataclass(frozen=True)
class Limits:
    """Caps on what is admitted; the defaults are those of :class:`runner.core.config.Settings`."""

    max_bytes: int = 2 * 2**30
    max_duration_s: float = 20 * 60
    max_pixels: int = 4096 * 4096
    max_fps: float = 240.0
    max_streams: int = 16

    @classmethod
    def from_settings(cls, settings) -> "Limits":
        return cls(max_bytes=settings.max_input_bytes, max_duration_s=settings.max_duration_s,
                   max_pixels=settings.max_pixels, max_fps=settings.max_fps, max_streams=settings.max_streams)


@dataclass(frozen=True)
class Admitted:
    path: Path            # the workdir copy (absolute)
    rel: str              # the same, relative to the workdir root: "input/video.mp4"
    family: str           # "mp4", "matroska", ...
    demuxer: str          # the demuxer ffmpeg is forced to use
    size_bytes: int
    sha256: str
    display: str          # the input as the user named it


# ----------------------------------------------------------------------------- sniffing
def sniff(head: bytes, display: str = "input") -> str:
    """The container family of a file starting with ``head``; :class:`AdmissionError` otherwise."""
    if not head:
        raise AdmissionError(display, "empty", "file is empty (0 bytes)")
    if len(head) >= 8 and head[4:8] in _BMFF_BOXES:
        return "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "matroska"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head[:3] == b"FLV" and len(head) > 3 and head[3] == 1:
        return "flv"
    for first, size in ((0, 188), (4, 192)):
        if len(head) > first + 2 * size and all(head[first + k * size] == 0x47 for k in range(3)):
            return "mpegts"
    _refuse_text(head, display)
    raise AdmissionError(display, "not_a_video", "not a recognised video container (allowed: mp4/mov, "
                         "matroska/webm, avi, mpegts, flv)")


def _refuse_text(head: bytes, display: str) -> None:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    for marker, what in ((b"#extm3u", "an HLS playlist"), (b"<mpd", "a DASH manifest"),
                         (b"<?xml", "an XML document (DASH manifest?)"), (b"ffconcat", "an ffconcat list"),
                         (b"v=0", "an SDP session description"), (b"#ext", "a playlist")):
        if text.startswith(marker):
            raise AdmissionError(display, "playlist_refused",
                                 f"is {what}, not a video file: playlists and manifests are refused")


# ----------------------------------------------------------------------------- opening
def open_input(path: Path | str, roots: tuple[Path, ...] | None = None, display: str | None = None) -> int:
    """A read-only descriptor of the regular file ``path``. With ``roots``, ``path`` must lie under
    one of them and is opened component by component without following any symlink."""
    shown = display or str(path)
    try:
        fd = _open_under(Path(path), roots, shown) if roots is not None else os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise AdmissionError(shown, "not_found", "no such file") from None
    except PermissionError:
        raise AdmissionError(shown, "not_readable", "permission denied") from None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
            raise AdmissionError(shown, "outside_roots", "a symlink (or a file used as a folder) is on the way "
                                 "to the file: symlinks are not followed under the allowed folders") from None
        raise AdmissionError(shown, "not_readable", exc.strerror or str(exc)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = ("a FIFO" if stat.S_ISFIFO(st.st_mode) else "a directory" if stat.S_ISDIR(st.st_mode)
                    else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
                    else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
            raise AdmissionError(shown, "not_regular_file", f"is {kind}, not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_under(path: Path, roots: tuple[Path, ...], shown: str) -> int:
    pure = PurePosixPath(os.path.normpath(str(path)))
    if not pure.is_absolute() or ".." in PurePosixPath(str(path)).parts:
        raise AdmissionError(shown, "outside_roots", "must be an absolute path without '..'")
    for root in roots:
        for form in dict.fromkeys((Path(os.path.normpath(root)), Path(os.path.realpath(root)))):
            if pure != PurePosixPath(form) and pure.is_relative_to(PurePosixPath(form)):
                return _walk(form, pure.relative_to(PurePosixPath(form)).parts)
    raise AdmissionError(shown, "outside_roots", "is not under an allowed folder")


def _walk(root: Path, parts: tuple[str, ...]) -> int:
    fd = os.open(root, _DIR_FLAGS & ~os.O_NOFOLLOW)  # the root itself is configuration, trusted
    try:
        for part in parts[:-1]:
            nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = nxt
        return os.open(parts[-1], _OPEN_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
    finally:
        os.close(fd)


# ----------------------------------------------------------------------------- admission
def admit(path: Path | str, workdir_input_dir: Path, limits: Limits | None = None,
          display: str | None = None, roots: tuple[Path, ...] | None = None) -> Admitted:
    """Open ``path`` once and copy it into ``workdir_input_dir`` while hashing it; what is sniffed is
    the head of that copy (the bytes of the same read), never a separate read of the source, so a
    file rewritten between a sniff and the copy cannot pass one and be the other."""
    limits = limits or Limits()
    shown = display or str(path)
    fd = open_input(path, roots, shown)
    try:
        size = os.fstat(fd).st_size
        if size > limits.max_bytes:
            raise _too_large(shown, size, limits)
        workdir_input_dir.mkdir(parents=True, exist_ok=True)
        family, dest, digest, copied = _copy(fd, workdir_input_dir, shown, limits)
    finally:
        os.close(fd)
    return Admitted(path=dest, rel=f"{workdir_input_dir.name}/{dest.name}", family=family,
                    demuxer=FAMILIES[family][0], size_bytes=copied, sha256=digest, display=shown)


def check(path: Path | str, roots: tuple[Path, ...] | None = None, limits: Limits | None = None,
          display: str | None = None) -> str:
    """Admission without the copy (the API's check at submit): the family, or :class:`AdmissionError`."""
    limits = limits or Limits()
    shown = display or str(path)
    fd = open_input(path, roots, shown)
    try:
        return _sized_family(fd, shown, limits)
    finally:
        os.close(fd)


def _sized_family(fd: int, shown: str, limits: Limits) -> str:
    """The container family of an open input under the size cap (refusals as :class:`AdmissionError`)."""
    size = os.fstat(fd).st_size
    if size > limits.max_bytes:
        raise _too_large(shown, size, limits)
    return sniff(os.pread(fd, HEAD, 0), shown)


def _head(fd: int) -> bytes:
    """The first :data:`HEAD` bytes of the read (fewer at the end of the file)."""
    head = b""
    while len(head) < HEAD and (block := os.read(fd, HEAD - len(head))):
        head += block
    return head


def _copy(fd: int, folder: Path, shown: str, limits: Limits) -> tuple[str, Path, str, int]:
    """``(family, the copy, sha256, bytes)``: one sequential read of ``fd``; its head is sniffed
    before it is written as the copy's head, the rest follows under the size cap. The copy is
    readable by the runner and the sandbox user only (runner.backends.permissions)."""
    os.lseek(fd, 0, os.SEEK_SET)
    head = _head(fd)
    family = sniff(head, shown)  # refuses an empty file, a playlist, anything not allowlisted
    dest = folder / f"video.{FAMILIES[family][1]}"
    h = hashlib.sha256()
    total = 0
    out = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        share_with_sandbox(out, folder=False)
        block = head
        while block:
            total += len(block)
            if total > limits.max_bytes:
                raise _too_large(shown, total, limits)
            h.update(block)
            view = memoryview(block)
            while view:
                view = view[os.write(out, view):]
            block = os.read(fd, CHUNK)
    except BaseException:
        os.close(out)
        dest.unlink(missing_ok=True)
        raise
    os.close(out)
    return family, dest, h.hexdigest(), total


def _too_large(shown: str, size: int, limits: Limits) -> AdmissionError:
    return AdmissionError(shown, "too_large", f"is {size / 2**20:.0f} MiB, over the {limits.max_bytes / 2**20:.0f} "
                          "MiB cap", fix="raise RUNNER_MAX_INPUT_BYTES if this is intended")


def check_media(media, limits: Limits, display: str) -> None:
    """Caps on the probe's result (before any extraction)."""
    v = media.video
    if media.duration_s > limits.max_duration_s:
        raise AdmissionError(display, "too_long", f"lasts {media.duration_s:.0f} s, over the "
                             f"{limits.max_duration_s:.0f} s cap", fix="raise RUNNER_MAX_DURATION_S if intended")
    if v.coded_width * v.coded_height > limits.max_pixels:
        raise AdmissionError(display, "too_many_pixels", f"claims {v.coded_width}x{v.coded_height} pixels a frame, "
                             f"over the {limits.max_pixels} cap", fix="raise RUNNER_MAX_PIXELS if intended")
    if v.fps > limits.max_fps:
        raise AdmissionError(display, "frame_rate_too_high", f"claims {v.fps:g} frames/s, over the "
                             f"{limits.max_fps:g} cap", fix="raise RUNNER_MAX_FPS if intended")
