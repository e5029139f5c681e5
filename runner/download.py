"""Fetch a video URL (TikTok, or any direct video URL) through the yt-dlp Python API.

- refuses hosts that resolve to loopback, link-local or private addresses (page and media URLs)
  unless ``allow_private_urls``;
- retries transient failures (network, rate limiting) with exponential backoff, rotating through
  the configured proxies, one per attempt;
- caches downloads by video id, so the same video is fetched once;
- raises :class:`runner.errors.DownloadError` with a ``kind`` a caller can act on.

What the private-address check cannot see: redirect hops inside yt-dlp's own requests and DNS
answers that change between the check and the fetch. Run the API where the network itself keeps
it away from internal services if that matters.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from runner.api.security import check_public_host
from runner.api.settings import ApiSettings, from_env
from runner.errors import DownloadError

TRANSIENT = frozenset({"network", "rate_limited"})
_TIKTOK_ID = re.compile(r"^https?://(?:www\.|m\.)?tiktok\.com/(?:@[^/]+/video|v|embed(?:/v2)?)/(\d+)")
_VIDEO_EXTS = (".mp4", ".webm", ".mkv", ".mov", ".m4v")

# Message patterns for errors yt-dlp reports as plain ExtractorErrors (TikTok's own wording).
_PATTERNS: tuple[tuple[str, re.Pattern], ...] = (
    ("unsupported_url", re.compile(r"unsupported url", re.I)),
    ("geo_blocked", re.compile(r"not available in your (country|region)|geo.?restrict|geo.?block", re.I)),
    ("private", re.compile(r"private|log ?in|login|sign in|followers only|friends only|cookies", re.I)),
    ("rate_limited", re.compile(r"too many requests|rate.?limit|ip (address )?(is )?blocked|captcha|"
                                r"your ip|blocked", re.I)),
    ("not_found", re.compile(r"does not exist|not found|unavailable|removed|deleted|no longer", re.I)),
)
_FIX = {
    "not_found": "check the URL: the video is gone or never existed",
    "private": "the video needs a login: set RUNNER_COOKIES_FILE to a cookies.txt of an account that can see it",
    "geo_blocked": "the video is not available from this location: set RUNNER_PROXIES to a proxy where it is",
    "rate_limited": "the site is limiting or blocking this IP: wait, or set RUNNER_PROXIES to rotate proxies",
    "unsupported_url": "give a TikTok video URL (https://www.tiktok.com/@user/video/ID) or a direct video URL",
    "network": "check connectivity (and RUNNER_PROXIES if set)",
}


def download(url: str, settings=None, progress: Callable[[str], None] | None = None,
             options: ApiSettings | None = None) -> Path:
    """Download ``url`` into the cache and return the local file.

    ``settings`` (the runner's :class:`~runner.config.Settings`) is accepted for the pipeline's
    call signature; the downloader's own options come from ``options`` or
    :func:`runner.api.settings.from_env`.
    """
    opts = options or from_env()
    say = progress or (lambda _text: None)
    cache = opts.download_cache
    cache.mkdir(parents=True, exist_ok=True)
    m = _TIKTOK_ID.match(url)
    if m:
        hit = _cached(cache, f"tiktok-{m.group(1)}")
        if hit:
            say(f"download: cache hit for TikTok video {m.group(1)} ({hit.name})")
            return hit
    # Before any request: the page host itself must be public.
    check_public_host(url, opts.allow_private_urls)

    from tenacity import (RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential,
                          wait_none)

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0
        say(f"download: attempt {state.attempt_number} failed ({getattr(exc, 'kind', '?')}: "
            f"{getattr(exc, 'message', exc)}); retrying in {wait:.1f}s")

    retrying = Retrying(
        stop=stop_after_attempt(max(1, opts.download_attempts)),
        wait=wait_exponential(multiplier=opts.download_backoff_s, max=60) if opts.download_backoff_s else wait_none(),
        retry=retry_if_exception(lambda e: isinstance(e, DownloadError) and e.kind in TRANSIENT),
        before_sleep=before_sleep, reraise=True)
    for attempt in retrying:
        with attempt:
            n = attempt.retry_state.attempt_number
            proxy = opts.proxies[(n - 1) % len(opts.proxies)] if opts.proxies else None
            return _attempt(url, opts, proxy, n, say)
    raise AssertionError("unreachable")  # Retrying re-raises the last error


def _cached(cache: Path, key: str) -> Path | None:
    for ext in _VIDEO_EXTS:
        p = cache / f"{key}{ext}"
        if p.is_file() and p.stat().st_size > 0:
            return p
    return None


def _cache_key(url: str, info: dict) -> str:
    ie = str(info.get("extractor_key") or info.get("ie_key") or "generic").lower()
    vid = str(info.get("id") or "")
    if ie == "generic" or not vid:
        # a generic "id" is just the file name: two hosts' clip.mp4 must not collide
        return "generic-" + hashlib.sha256(url.encode()).hexdigest()[:20]
    return re.sub(r"[^a-z0-9_-]", "_", f"{ie}-{vid}".lower())[:120]


def _redact(proxy: str) -> str:
    p = urlsplit(proxy)
    return f"{p.scheme}://{p.hostname}:{p.port}" if p.hostname else "proxy"


class _Log:
    """yt-dlp logger: keep what it says out of stdout; remember the last error line."""

    def __init__(self):
        self.last_error = ""

    def debug(self, msg: str) -> None:
        pass

    info = warning = debug

    def error(self, msg: str) -> None:
        self.last_error = msg


def _attempt(url: str, opts: ApiSettings, proxy: str | None, n: int, say: Callable[[str], None]) -> Path:
    import yt_dlp

    via = f" via {_redact(proxy)}" if proxy else ""
    say(f"download: attempt {n}{via}: {url}")
    tmp = opts.download_cache / f".tmp-{secrets.token_hex(6)}"
    tmp.mkdir()
    log = _Log()
    params = {
        "quiet": True, "no_warnings": True, "noprogress": True, "noplaylist": True,
        "logger": log, "cachedir": False, "overwrites": True, "restrictfilenames": True,
        "format": "b[ext=mp4]/b/bv*+ba",
        "outtmpl": str(tmp / "video.%(ext)s"),
        # yt-dlp's own retries stay small: the retry policy (and proxy rotation) is ours
        "retries": 1, "fragment_retries": 1, "extractor_retries": 0, "file_access_retries": 0,
        "socket_timeout": 20, "max_filesize": opts.download_max_bytes,
    }
    if proxy is not None:
        params["proxy"] = proxy
    if opts.cookies_file is not None:
        if not opts.cookies_file.is_file():
            raise DownloadError(url, "private", f"cookies file {opts.cookies_file} not found",
                                fix="fix RUNNER_COOKIES_FILE")
        # yt-dlp writes the jar back on close: hand it a copy so the configured file stays as is
        params["cookiefile"] = str(shutil.copy(opts.cookies_file, tmp / "cookies.txt"))
    t0 = time.monotonic()
    try:
        with yt_dlp.YoutubeDL(params) as ydl:
            try:
                info = ydl.extract_info(url, download=False)
            except yt_dlp.utils.YoutubeDLError as exc:
                raise _as_download_error(url, exc, log) from None
            if info is None:
                raise DownloadError(url, "unsupported_url", log.last_error or "nothing to download")
            key = _cache_key(url, info)
            hit = _cached(opts.download_cache, key)
            if hit:
                say(f"download: cache hit ({hit.name})")
                return hit
            for media_url in _media_urls(info):
                check_public_host(media_url, opts.allow_private_urls)
            try:
                done = ydl.process_ie_result(info, download=True)
            except yt_dlp.utils.YoutubeDLError as exc:
                raise _as_download_error(url, exc, log) from None
        files = [Path(d["filepath"]) for d in (done or {}).get("requested_downloads") or [] if d.get("filepath")]
        files = [f for f in files if f.is_file() and f.stat().st_size > 0]
        if not files:
            size = (done or info).get("filesize") or (done or info).get("filesize_approx")
            if size and size > opts.download_max_bytes:
                raise DownloadError(url, "refused", f"the video is larger than {opts.download_max_bytes} bytes",
                                    fix="raise RUNNER_DOWNLOAD_MAX_BYTES")
            raise DownloadError(url, "network", log.last_error or "yt-dlp finished without a file")
        src = files[0]
        if src.stat().st_size > opts.download_max_bytes:
            raise DownloadError(url, "refused", f"the video is larger than {opts.download_max_bytes} bytes",
                                fix="raise RUNNER_DOWNLOAD_MAX_BYTES")
        ext = src.suffix.lower() if src.suffix.lower() in _VIDEO_EXTS else ".mp4"
        final = opts.download_cache / f"{key}{ext}"
        src.replace(final)  # atomic: a reader never sees a half-written cache entry
        say(f"download: {final.stat().st_size} bytes in {time.monotonic() - t0:.1f}s{via} -> {final.name}")
        return final
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


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


def _as_download_error(url: str, exc: BaseException, log: _Log) -> DownloadError:
    kind, message = classify(exc, log.last_error)
    return DownloadError(url, kind, message, fix=_FIX.get(kind))


def classify(exc: BaseException, extra: str = "") -> tuple[str, str]:
    """(kind, short message) for a yt-dlp failure."""
    from yt_dlp.networking.exceptions import HTTPError, TransportError
    from yt_dlp.utils import GeoRestrictedError, UnsupportedError

    msg = re.sub(r"^ERROR:\s*", "", str(exc) or extra).strip()
    msg = re.sub(r"\s*;\s*please report this issue.*$", "", msg, flags=re.I | re.S)[:400]
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
