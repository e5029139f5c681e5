"""Checks on what a request names: local paths under the configured roots, URLs on the allowlist,
and hosts that resolve to public addresses only.

Every check fails closed with a :class:`Refused` that says which rule refused and why.
"""
from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from runner.errors import DownloadError, RunnerError

MAX_PATH_CHARS = 4096
MAX_URL_CHARS = 2048


class Refused(RunnerError):
    """A request named something the API does not accept; ``code`` is machine-readable."""

    exit_code = 2

    def __init__(self, code: str, message: str, *, status: int = 400, fix: str | None = None):
        self.code = code
        self.status = status
        super().__init__(message, fix=fix)


def resolve_video_path(raw: str, roots: tuple[Path, ...]) -> Path:
    """The regular file ``raw`` names, if it lies under one of ``roots`` before and after
    following symlinks; :class:`Refused` otherwise."""
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
    real = Path(os.path.realpath(lexical))
    if not any(_within(real, r) for r in real_roots):
        raise Refused("path_outside_roots", "video_path leads outside the allowed folders (symlink)",
                      status=403, fix=fix)
    if not real.is_file():
        raise Refused("not_found", "video_path is not an existing file", status=404)
    return real


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
    if parts.scheme not in ("http", "https"):
        raise Refused("bad_url", "tiktok_url must be an http(s) URL", fix=fix)
    if parts.username is not None or parts.password is not None:
        raise Refused("bad_url", "tiktok_url must not carry credentials", fix=fix)
    host = (parts.hostname or "").rstrip(".").lower()
    if not host or host not in allowlist:
        raise Refused("host_not_allowed", f"host {host or '(none)'!r} is not on the URL allowlist",
                      status=403, fix=fix)
    return url


def host_of(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return host, port


def is_public(addr: str) -> bool:
    ip = ipaddress.ip_address(addr.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_public_host(url: str, allow_private: bool) -> list[str]:
    """Resolve ``url``'s host and refuse it unless EVERY address is public (or ``allow_private``).

    Raises :class:`DownloadError` with kind ``refused`` (private address) or ``network``
    (the name does not resolve).
    """
    host, port = host_of(url)
    if not host:
        raise DownloadError(url, "unsupported_url", "the URL has no host")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DownloadError(url, "network", f"cannot resolve {host}: {exc}") from None
    addrs = sorted({info[4][0] for info in infos})
    if not allow_private:
        bad = [a for a in addrs if not is_public(a)]
        if bad:
            raise DownloadError(url, "refused", f"{host} resolves to a non-public address ({', '.join(bad)})",
                                fix="only public hosts are fetched; RUNNER_ALLOW_PRIVATE_URLS=1 lifts this "
                                    "(for tests only)")
    return addrs
