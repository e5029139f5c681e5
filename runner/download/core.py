"""One yt-dlp attempt into a folder, and what its failures mean: the download core.

It parses pages, picks a format and fetches the media (yt-dlp's Python API), so on the docker
backend it runs only inside the download sandbox (``<prefix>/fetch:2``, ``images/Dockerfile.fetch``,
:mod:`runner.download.docker_fetch`), started as ``python -m runner.download.core``; on the local
backend :mod:`runner.download.fetch` calls :func:`fetch_once` in-process. It imports nothing of the
runner but :mod:`runner.core.errors`, :mod:`runner.download.net_safety` and :mod:`runner.download.egress`
(the image holds only those).

In the sandbox (network ``none``) it reads ``/in/request.json`` (the URL and the size cap; no proxy
credentials, no cache keys), reaches the network only through the egress proxy's unix socket
(``/egress/proxy.sock``, offered to yt-dlp as an HTTP proxy on the sandbox's own loopback), and
writes ``/out/video.<ext>`` and, last, ``/out/result.json``:
``{"status": "ok", "file", "id", "title", "ext", "extractor"}`` or
``{"status": "error", "kind", "message", "fix"}``. The host reads both as untrusted data and names
the cache entry itself, from the URL it asked for.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from runner.download.egress import REFUSED, splice
from runner.download.net_safety import check_public_host
from runner.core.errors import DownloadError

VIDEO_EXTS = (".mp4", ".webm", ".mkv", ".mov", ".m4v")

# Message patterns for errors yt-dlp reports as plain ExtractorErrors (TikTok's own wording).
_PATTERNS: tuple[tuple[str, re.Pattern], ...] = (
    ("unsupported_url", re.compile(r"unsupported url", re.I)),
    ("geo_blocked", re.compile(r"not available in your (country|region)|geo.?restrict|geo.?block", re.I)),
    ("private", re.compile(r"private|log ?in|login|sign in|followers only|friends only|cookies", re.I)),
    ("rate_limited", re.compile(r"too many requests|rate.?limit|ip (address )?(is )?blocked|captcha|"
                                r"your ip|blocked", re.I)),
    ("not_found", re.compile(r"does not exist|not found|unavailable|removed|deleted|no longer", re.I)),
)
FIX = {
    "not_found": "check the URL: the video is gone or never existed",
    "private": "the video needs a login: set RUNNER_COOKIES_FILE to a cookies.txt of an account that can see it",
    "geo_blocked": "the video is not available from this location: set RUNNER_PROXIES to a proxy where it is",
    "rate_limited": "the site is limiting or blocking this IP: wait, or set RUNNER_PROXIES to rotate proxies",
    "unsupported_url": "give a TikTok video URL (https://www.tiktok.com/@user/video/ID) or a direct video URL",
    "network": "check connectivity (and RUNNER_PROXIES if set)",
    "refused": "only public hosts are fetched: the URL, a redirect or its media named a non-public address",
}
KINDS = frozenset({"not_found", "private", "geo_blocked", "rate_limited", "unsupported_url", "refused", "network"})



@dataclass(frozen=True)
class Fetched:
    """What one attempt gave: a file in the attempt's folder and what yt-dlp said about it."""

    file: Path
    info: dict


def generic_key(url: str) -> str:
    return "generic-" + hashlib.sha256(url.encode()).hexdigest()[:20]


class _Log:
    """yt-dlp logger: keep what it says out of stdout; remember the last error line."""

    def __init__(self):
        self.last_error = ""
        self.too_large = False

    def debug(self, msg: str) -> None:
        if "max-filesize" in msg:  # yt-dlp's HTTP downloader says it aborted over the size cap
            self.too_large = True

    info = warning = debug

    def error(self, msg: str) -> None:
        self.last_error = msg


def fetch_once(url: str, dest: Path, *, proxy: str | None, cookiefile: Path | None, allow_private: bool,
               max_bytes: int, check_hosts: bool = True) -> Fetched:
    """Download ``url`` with yt-dlp into the folder ``dest`` (``video.<ext>``); raises
    :class:`DownloadError`. ``cookiefile`` is a copy yt-dlp may write back to. ``check_hosts``:
    resolve and check the page and media hosts here (in process); the sandbox leaves that to the
    egress proxy, which checks every connection (it has no DNS of its own)."""
    import yt_dlp

    log = _Log()
    params = {
        "quiet": True, "no_warnings": True, "noprogress": True, "noplaylist": True,
        "logger": log, "cachedir": False, "overwrites": True, "restrictfilenames": True,
        "format": "b[ext=mp4]/b/bv*+ba",
        "outtmpl": str(dest / "video.%(ext)s"),
        # yt-dlp's own retries stay small: the retry policy (and proxy rotation) is the caller's
        "retries": 1, "fragment_retries": 1, "extractor_retries": 0, "file_access_retries": 0,
        "socket_timeout": 20, "max_filesize": max_bytes,
    }
    if proxy is not None:
        params["proxy"] = proxy
    if cookiefile is not None:
        params["cookiefile"] = str(cookiefile)
    with yt_dlp.YoutubeDL(params) as ydl:
        try:
            info = ydl.extract_info(url, download=False)
        except yt_dlp.utils.YoutubeDLError as exc:
            raise as_download_error(url, exc, log) from None
        if info is None:
            raise DownloadError(url, "unsupported_url", log.last_error or "nothing to download")
        for media_url in _media_urls(info) if check_hosts else ():
            check_public_host(media_url, allow_private)
        try:
            done = ydl.process_ie_result(info, download=True)
        except yt_dlp.utils.YoutubeDLError as exc:
            raise as_download_error(url, exc, log) from None
    files = [Path(d["filepath"]) for d in (done or {}).get("requested_downloads") or [] if d.get("filepath")]
    files = [f for f in files if f.is_file() and f.stat().st_size > 0]
    if not files:
        size = (done or info).get("filesize") or (done or info).get("filesize_approx")
        if (size and size > max_bytes) or log.too_large:
            raise too_large(url, max_bytes)
        raise DownloadError(url, "network", log.last_error or "yt-dlp finished without a file")
    if files[0].stat().st_size > max_bytes:
        raise too_large(url, max_bytes)
    return Fetched(files[0], _summary(done or info))


def too_large(url: str, max_bytes: int) -> DownloadError:
    return DownloadError(url, "refused", f"the video is larger than {max_bytes} bytes",
                         fix="raise RUNNER_DOWNLOAD_MAX_BYTES")


def _summary(info: dict) -> dict:
    out = {k: info.get(k) for k in ("id", "title", "ext")}
    out["extractor"] = info.get("extractor_key") or info.get("ie_key")
    return {k: (str(v)[:300] if v is not None else None) for k, v in out.items()}


def _media_urls(info: dict) -> list[str]:
    urls = [info.get("webpage_url")]
    for f in info.get("requested_formats") or [info]:
        urls.append(f.get("url"))
    return [u for u in urls if isinstance(u, str) and u.startswith(("http://", "https://"))]


def _causes(exc: BaseException):
    seen = set()
    stack = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        stack += [getattr(e, "exc_info", (None, None))[1] if getattr(e, "exc_info", None) else None,
                  getattr(e, "cause", None), e.__cause__, e.__context__]


def as_download_error(url: str, exc: BaseException, log: _Log) -> DownloadError:
    kind, message = classify(exc, log.last_error)
    return DownloadError(url, kind, message, fix=FIX.get(kind))


def classify(exc: BaseException, extra: str = "") -> tuple[str, str]:
    """(kind, short message) for a yt-dlp failure."""
    from yt_dlp.networking.exceptions import HTTPError, TransportError
    from yt_dlp.utils import GeoRestrictedError, UnsupportedError

    msg = re.sub(r"^ERROR:\s*", "", str(exc) or extra).strip()
    msg = re.sub(r"\s*;\s*please report this issue.*$", "", msg, flags=re.I | re.S)[:400]
    if any(REFUSED.lower() in str(e).lower() for e in _causes(exc)) or REFUSED.lower() in msg.lower():
        return "refused", msg  # the egress proxy's 403: a non-public address (never retried)
    for e in _causes(exc):
        if isinstance(e, UnsupportedError):
            return "unsupported_url", msg
        if isinstance(e, GeoRestrictedError):
            return "geo_blocked", msg
        if isinstance(e, HTTPError):
            status = e.status
            if status in (404, 410):
                return "not_found", msg
            if status == 401:
                return "private", msg
            if status in (403, 429):
                return "rate_limited", msg
            return "network", msg
        if isinstance(e, (TransportError, OSError)):
            return "network", msg
    for kind, pattern in _PATTERNS:
        if pattern.search(msg):
            return kind, msg
    return "network", msg


# -- the sandbox's entry point ----------------------------------------------------------------
IN = Path("/in")
OUT = Path("/out")
REQUEST = "request.json"
RESULT = "result.json"
COOKIES = "cookies.txt"


def _write_result(out: Path, doc: dict) -> None:
    tmp = out / f".{RESULT}.tmp"
    tmp.write_text(json.dumps(doc))
    os.replace(tmp, out / RESULT)


def loopback_door(unix_path: str) -> str:
    """An HTTP proxy URL on this sandbox's loopback whose every connection is carried to the egress
    proxy's unix socket (the sandbox has no other network)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(32)

    def carry(conn: socket.socket) -> None:
        with conn, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as out:
            try:
                out.connect(unix_path)
            except OSError:
                return
            splice(conn, out, 120.0)

    def accept() -> None:
        while True:
            conn, _ = server.accept()
            threading.Thread(target=carry, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return f"http://127.0.0.1:{server.getsockname()[1]}"


def main(inbox: Path = IN, out: Path = OUT) -> int:
    """Read ``inbox/request.json``, fetch into ``out``, write ``out/result.json``; exit 0 either way
    (a failed download is a result, not a crash)."""
    req = json.loads((inbox / REQUEST).read_text())
    url = str(req["url"])
    cookiefile = None
    if (inbox / COOKIES).is_file():
        # yt-dlp writes the jar back on close: hand it a writable copy in /tmp
        cookiefile = Path(shutil.copy(inbox / COOKIES, Path(os.environ.get("TMPDIR", "/tmp")) / COOKIES))
    egress = req.get("egress_socket")
    try:
        got = fetch_once(url, out, proxy=loopback_door(str(egress)) if egress else None, cookiefile=cookiefile,
                         allow_private=False, max_bytes=int(req["max_bytes"]), check_hosts=not egress)
    except DownloadError as exc:
        prefix = f"{exc.url}: {exc.kind}: "
        message = exc.message[len(prefix):] if exc.message.startswith(prefix) else exc.message
        _write_result(out, {"status": "error", "kind": exc.kind, "message": message, "fix": exc.fix})
        return 0
    _write_result(out, {"status": "ok", "file": got.file.name, **got.info})
    return 0


if __name__ == "__main__":
    sys.exit(main())
