"""Fetch a video URL (TikTok, or any direct video URL) through the yt-dlp Python API.

- refuses hosts that resolve to loopback, link-local or private addresses (page and media URLs)
  unless ``allow_private_urls``;
- retries transient failures (network, rate limiting) with exponential backoff, rotating through
  the configured proxies, one per attempt;
- caches downloads under a key the host derives from the URL it was asked for (the TikTok video id
  in the URL, else a hash of the URL), so the same video is fetched once; an entry is never
  overwritten, and nothing a download says picks the entry it lands in;
- raises :class:`runner.core.errors.DownloadError` with a ``kind`` a caller can act on.

What the private-address check cannot see: redirect hops inside yt-dlp's own requests and DNS
answers that change between the check and the fetch. Run the API where the network itself keeps
it away from internal services if that matters.

Where an attempt runs: :func:`download_via` takes the attempt to run: :func:`in_process` runs yt-dlp
in this process (the local backend, which is not a sandbox); the download sandbox's attempt runs it in
a container (:class:`runner.download.docker_fetch.DockerFetch`). :meth:`runner.placement.Placement.fetcher`
chooses. Retries, proxy rotation and the cache stay here either way.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import Callable, Protocol
from urllib.parse import urlsplit

from runner.core.download_config import DownloadSettings
from runner.core.errors import DownloadError
from runner.download.core import VIDEO_EXTS as _VIDEO_EXTS
from runner.download.core import classify, fetch_once, generic_key  # noqa: F401 - classify is part of the API
from runner.download.net_safety import check_public_host

TRANSIENT = frozenset({"network", "rate_limited"})
_TIKTOK_ID = re.compile(r"^https?://(?:www\.|m\.)?tiktok\.com/(?:@[^/]+/video|v|embed(?:/v2)?)/(\d+)")


class Attempt(Protocol):
    """One download attempt: fetch ``url`` (through ``proxy``) and return its file in the cache."""

    def __call__(self, url: str, opts: DownloadSettings, proxy: str | None, n: int,
                 say: Callable[[str], None]) -> Path: ...


def download_via(attempt: Attempt, url: str, options: DownloadSettings,
                 progress: Callable[[str], None] | None = None) -> Path:
    """Download ``url`` into the cache and return the local file, each attempt made by ``attempt``:
    :func:`in_process` or the download sandbox's (:meth:`runner.placement.Placement.fetcher` picks).
    ``options`` is the settings' download section (:attr:`runner.core.config.Settings.download`)."""
    opts = options
    say = progress or (lambda _text: None)
    cache = opts.download_cache
    cache.mkdir(parents=True, exist_ok=True)
    hit = _cached(cache, url_key(url))
    if hit:
        say(f"download: cache hit for {url} ({hit.name})")
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
    for tried in retrying:
        with tried:
            n = tried.retry_state.attempt_number
            proxy = opts.proxies[(n - 1) % len(opts.proxies)] if opts.proxies else None
            return attempt(url, opts, proxy, n, say)
    raise AssertionError("unreachable")  # Retrying re-raises the last error


def cached(cache: Path, key: str) -> Path | None:
    """The cache's file for ``key``, if there is one."""
    return _cached(cache, key)


def url_key(url: str) -> str:
    """The cache key of ``url``, derived here from what was asked for: ``tiktok-<id>`` when the URL
    carries a TikTok video id, else ``generic-<sha256 of the URL>``."""
    m = _TIKTOK_ID.match(url)
    return f"tiktok-{m.group(1)}" if m else generic_key(url)


def keep(src: Path, cache: Path, key: str) -> Path:
    """Put the finished file ``src`` (a fresh temp file in ``cache``) in as ``<key><ext>`` without
    ever replacing an entry: a hard link made with ``link()``, which fails when the name exists
    (then the entry already there is the answer). ``src`` is removed either way."""
    ext = src.suffix.lower() if src.suffix.lower() in _VIDEO_EXTS else ".mp4"
    final = cache / f"{key}{ext}"
    try:
        os.link(src, final)
    except FileExistsError:
        final = _cached(cache, key) or final
    finally:
        src.unlink(missing_ok=True)
    return final


def _cached(cache: Path, key: str) -> Path | None:
    for ext in _VIDEO_EXTS:
        p = cache / f"{key}{ext}"
        if p.is_file() and p.stat().st_size > 0:
            return p
    return None


def check_cookies(url: str, opts: DownloadSettings) -> None:
    if opts.cookies_file is not None and not opts.cookies_file.is_file():
        raise DownloadError(url, "private", f"cookies file {opts.cookies_file} not found",
                            fix="fix RUNNER_COOKIES_FILE")


def redact(proxy: str) -> str:
    """A proxy URL without its credentials, for messages."""
    return _redact(proxy)


def _redact(proxy: str) -> str:
    p = urlsplit(proxy)
    return f"{p.scheme}://{p.hostname}:{p.port}" if p.hostname else "proxy"


def in_process(url: str, opts: DownloadSettings, proxy: str | None, n: int, say: Callable[[str], None]) -> Path:
    """One attempt in this process (yt-dlp parses here: the local backend's way)."""
    via = f" via {_redact(proxy)}" if proxy else ""
    say(f"download: attempt {n}{via}: {url}")
    tmp = opts.download_cache / f".tmp-{secrets.token_hex(6)}"
    tmp.mkdir()
    t0 = time.monotonic()
    try:
        cookiefile = None
        if opts.cookies_file is not None:
            check_cookies(url, opts)
            # yt-dlp writes the jar back on close: hand it a copy so the configured file stays as is
            cookiefile = Path(shutil.copy(opts.cookies_file, tmp / "cookies.txt"))
        got = fetch_once(url, tmp, proxy=proxy, cookiefile=cookiefile, allow_private=opts.allow_private_urls,
                         max_bytes=opts.download_max_bytes)
        final = keep(got.file, opts.download_cache, url_key(url))  # atomic, and never over an entry
        say(f"download: {final.stat().st_size} bytes in {time.monotonic() - t0:.1f}s{via} -> {final.name}")
        return final
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
