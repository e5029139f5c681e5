"""Checks on what a request names: local paths under the configured roots, URLs on the allowlist,
and hosts that resolve to public addresses only.

Every check fails closed with a :class:`Refused` that says which rule refused and why.
"""
from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from runner.core.errors import AdmissionError, RunnerError

MAX_PATH_CHARS = 4096
MAX_URL_CHARS = 2048


class Refused(RunnerError):
    """A request named something the API does not accept; ``code`` is machine-readable."""

    exit_code = 2

    def __init__(self, code: str, message: str, *, status: int = 400, fix: str | None = None):
        self.code = code
        self.status = status
        super().__init__(message, fix=fix)


def resolve_video_path(raw: str, roots: tuple[Path, ...], limits=None) -> Path:
    """The regular file ``raw`` names, if it lies under one of ``roots``, is reached without any
    symlink and passes admission's sniff (an allowed container, not a playlist); :class:`Refused`
    otherwise. The worker admits it again, through the same symlink-free walk, when the job runs."""
    fix = "put the video under one of the folders in RUNNER_API_ROOTS and give its absolute path"
    if not raw or len(raw) > MAX_PATH_CHARS or "\x00" in raw:
        raise Refused("bad_path", "video_path must be a non-empty path without NUL bytes", fix=fix)
    pure = PurePosixPath(raw)
    if not pure.is_absolute():
        raise Refused("bad_path", "video_path must be absolute", fix=fix)
    if ".." in pure.parts:
        raise Refused("path_traversal", "video_path must not contain '..'", fix=fix)
    real_roots = [Path(os.path.realpath(r)) for r in roots]
    # Lexical check first, so nothing outside the roots is even looked at.
    lexical = Path(os.path.normpath(raw))
    if not any(_within(lexical, r) or _within(lexical, Path(os.path.normpath(r))) for r in [*roots, *real_roots]):
        raise Refused("path_outside_roots", "video_path is not under an allowed folder", status=403, fix=fix)
    from runner.media.admit import check

    try:
        check(lexical, tuple(roots), limits, display="video_path")
    except AdmissionError as exc:
        raise refusal(exc) from None
    return lexical


#: admission's codes as the API reports them: (code, HTTP status)
_ADMISSION_STATUS = {"not_found": ("not_found", 404), "outside_roots": ("path_outside_roots", 403),
                     "too_large": ("too_large", 413)}


def refusal(exc: AdmissionError) -> Refused:
    """An :class:`AdmissionError` as the API's :class:`Refused` (same code at submit and in a failed job)."""
    code, status = _ADMISSION_STATUS.get(exc.code, (exc.code, 400))
    fix = exc.fix
    if exc.code == "outside_roots":
        fix = "put the video itself (not a symlink) under one of the folders in RUNNER_API_ROOTS"
    return Refused(code, exc.message, status=status, fix=fix)


def _within(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def check_url(url: str, allowlist: tuple[str, ...]) -> str:
    """``url`` if it is http(s), carries no credentials and names an allowlisted host."""
    fix = "give a TikTok video URL (https://www.tiktok.com/@user/video/ID) or extend RUNNER_URL_ALLOWLIST"
    if not url or len(url) > MAX_URL_CHARS or any(c in url for c in "\x00\r\n\t "):
        raise Refused("bad_url", "tiktok_url must be a URL without spaces or control characters", fix=fix)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed or out-of-range port
    except ValueError as exc:
        raise Refused("bad_url", f"tiktok_url is not a valid URL: {exc}", fix=fix) from None
    if parts.scheme not in ("http", "https") or not url.startswith(("http://", "https://")):
        # literally: the pipeline takes anything else (HTTPS://..., a bare path) for a local file
        raise Refused("bad_url", "tiktok_url must be an http(s) URL (starting http:// or https://)", fix=fix)
    if parts.username is not None or parts.password is not None:
        raise Refused("bad_url", "tiktok_url must not carry credentials", fix=fix)
    host = (parts.hostname or "").rstrip(".").lower()
    if not host or host not in allowlist:
        raise Refused("host_not_allowed", f"host {host or '(none)'!r} is not on the URL allowlist",
                      status=403, fix=fix)
    return url

