"""The downloader against real loopback HTTP servers: a video server, a flaky one, a forwarding proxy.

Loopback addresses are refused by default, so these tests set ``allow_private_urls`` (the
``RUNNER_ALLOW_PRIVATE_URLS=1`` of a test deployment); one test checks the refusal itself.
The video helpers here are shared with ``test_api.py``.
"""
from __future__ import annotations

import hashlib
import http.server
import json
import os
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from runner.core.download_config import DownloadSettings
from runner.core.config import REPO_ROOT
from runner.download.fetch import classify, download_via, in_process
from runner.core.errors import DownloadError
from tests import media


class _Handler(http.server.BaseHTTPRequestHandler):
    server: "LoopbackServer._Server"

    def log_message(self, *args):  # keep test output clean
        pass

    def do_HEAD(self):
        self._serve(head=True)

    def do_GET(self):
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        srv = self.server.owner
        with srv.lock:
            srv.requests.append(self.path)
            failing = srv.fail_first > 0
            if failing:
                srv.fail_first -= 1
        if failing:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = srv.files.get(self.path.split("?")[0])
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


class LoopbackServer:
    """A real HTTP server on 127.0.0.1 that serves ``files`` and records every request path."""

    class _Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        owner: "LoopbackServer"

    def __init__(self, files: dict[str, bytes], fail_first: int = 0, handler=_Handler):
        self.files = files
        self.fail_first = fail_first
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self.httpd = self._Server(("127.0.0.1", 0), handler)
        self.httpd.owner = self
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> "LoopbackServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _ProxyHandler(_Handler):
    """A forwarding HTTP proxy: records the absolute URL it was asked for, fetches it, relays it."""

    def _serve(self, head: bool) -> None:
        srv = self.server.owner
        with srv.lock:
            srv.requests.append(self.path)
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        req = urllib.request.Request(self.path, method="HEAD" if head else "GET",
                                     headers={k: v for k, v in self.headers.items()
                                              if k.lower() in ("range", "user-agent", "accept")})
        try:
            with direct.open(req, timeout=10) as resp:
                body, status, ctype = resp.read(), resp.status, resp.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            body, status, ctype = b"", exc.code, ""
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory) -> bytes:
    """A real 2 s H.264/AAC clip, as served bytes."""
    path = media.testsrc(tmp_path_factory.mktemp("dl") / "clip.mp4", seconds=2)
    return path.read_bytes()


@pytest.fixture
def options(tmp_path) -> DownloadSettings:
    return DownloadSettings(allow_private_urls=True, download_cache=tmp_path / "cache", download_backoff_s=0.05,
                            download_attempts=4)


def _duration(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return float(json.loads(out)["format"]["duration"])


def test_downloads_a_real_video_then_serves_it_from_the_cache(clip_bytes, options):
    notes: list[str] = []
    with LoopbackServer({"/clip.mp4": clip_bytes}) as srv:
        path = download_via(in_process, srv.url("/clip.mp4"), progress=notes.append, options=options)
        assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(clip_bytes).digest()
        assert abs(_duration(path) - 2.0) < 0.2
        assert path.parent == options.download_cache
        seen = len(srv.requests)
        again = download_via(in_process, srv.url("/clip.mp4"), progress=notes.append, options=options)
    assert again == path
    assert any("cache hit" in n for n in notes)
    # the cache key is known only after extraction: one page request, no second media download
    assert len(srv.requests) <= seen + 1


def test_transient_errors_are_retried_then_succeed(clip_bytes, options):
    notes: list[str] = []
    with LoopbackServer({"/clip.mp4": clip_bytes}, fail_first=2) as srv:
        path = download_via(in_process, srv.url("/clip.mp4"), progress=notes.append, options=options)
    assert path.read_bytes() == clip_bytes
    assert srv.requests.count("/clip.mp4") >= 3
    retries = [n for n in notes if "retrying" in n]
    assert len(retries) == 2 and all("network" in n and "503" in n for n in retries)


def test_transient_errors_give_up_after_the_configured_attempts(clip_bytes, options):
    with LoopbackServer({"/clip.mp4": clip_bytes}, fail_first=100) as srv:
        with pytest.raises(DownloadError) as info:
            download_via(in_process, srv.url("/clip.mp4"), options=options.with_(download_attempts=2))
    assert info.value.kind == "network"
    assert 2 <= srv.requests.count("/clip.mp4") <= 4  # yt-dlp's own single retry at most per attempt


def test_not_found_is_not_retried(options):
    notes: list[str] = []
    with LoopbackServer({}) as srv:
        with pytest.raises(DownloadError) as info:
            download_via(in_process, srv.url("/gone.mp4"), progress=notes.append, options=options)
    assert info.value.kind == "not_found"
    assert not any("retrying" in n for n in notes)
    assert info.value.fix


def test_proxies_rotate_across_attempts(clip_bytes, options):
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    notes: list[str] = []
    with LoopbackServer({"/clip.mp4": clip_bytes}) as origin, LoopbackServer({}, handler=_ProxyHandler) as proxy:
        live = f"http://127.0.0.1:{proxy.port}"
        path = download_via(in_process, origin.url("/clip.mp4"), progress=notes.append,
                        options=options.with_(proxies=(dead, live)))
    assert path.read_bytes() == clip_bytes
    assert origin.url("/clip.mp4") in proxy.requests  # the second proxy carried the download
    assert any(dead.split("//")[1] in n and "attempt 1" in n for n in notes)
    assert any(live.split("//")[1] in n and "attempt 2" in n for n in notes)


def test_private_addresses_are_refused_before_any_request(clip_bytes, tmp_path):
    with LoopbackServer({"/clip.mp4": clip_bytes}) as srv:
        with pytest.raises(DownloadError) as info:
            download_via(in_process, srv.url("/clip.mp4"), options=DownloadSettings(download_cache=tmp_path / "c"))
        for url in ("http://localhost:%d/clip.mp4" % srv.port, "http://[::1]:%d/clip.mp4" % srv.port,
                    "http://169.254.169.254/latest/meta-data", "http://10.1.2.3/x.mp4"):
            with pytest.raises(DownloadError) as other:
                download_via(in_process, url, options=DownloadSettings(download_cache=tmp_path / "c"))
            assert other.value.kind == "refused", url
    assert info.value.kind == "refused"
    assert srv.requests == []


def test_yt_dlp_failures_map_to_error_kinds():
    from yt_dlp.networking import Response
    from yt_dlp.networking.exceptions import HTTPError
    from yt_dlp.utils import ExtractorError, GeoRestrictedError, UnsupportedError
    import io

    def http(status):
        return HTTPError(Response(io.BytesIO(b""), "https://www.tiktok.com/x", {}, status=status))

    cases = {
        "unsupported_url": UnsupportedError("https://example.com/page"),
        "geo_blocked": GeoRestrictedError("This video is not available in your country"),
        "private": ExtractorError("This post may not be comfortable for some audiences. Log in for access"),
        "rate_limited": ExtractorError("Unable to download webpage", cause=http(429)),
        "not_found": ExtractorError("Unable to download webpage", cause=http(404)),
        "network": ExtractorError("Unable to download webpage", cause=http(503)),
    }
    for kind, exc in cases.items():
        assert classify(exc)[0] == kind, (kind, exc)
    assert classify(ExtractorError("Your IP address is blocked from accessing this post"))[0] == "rate_limited"


def test_tiktok_video_ids_hit_the_cache_without_any_request(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "tiktok-7301234567890123456.mp4").write_bytes(b"\x00" * 10)
    # no allow_private, no network: a cache hit must not resolve or fetch anything
    got = download_via(in_process, "https://www.tiktok.com/@someone/video/7301234567890123456?lang=en",
                       options=DownloadSettings(download_cache=cache))
    assert got == cache / "tiktok-7301234567890123456.mp4"


@pytest.mark.slow
def test_runner_analyze_url_goes_through_the_downloader(clip_bytes, tmp_path):
    """`runner analyze URL`: the pipeline downloads, analyzes, and records the URL in the report."""
    env = {**os.environ, "RUNNER_ALLOW_PRIVATE_URLS": "1", "RUNNER_DOWNLOAD_CACHE": str(tmp_path / "cache"),
           "RUNNER_TEST_ANALYZERS": "1", "RUNNER_ANALYZERS_DIR": str(REPO_ROOT / "tests" / "toy_analyzers"),
           "RUNNER_WORK_ROOT": str(tmp_path / "runs"), "RUNNER_BACKEND": "local"}
    with LoopbackServer({"/v/clip.mp4": clip_bytes}) as srv:
        url = srv.url("/v/clip.mp4")
        proc = subprocess.run([sys.executable, "-m", "runner.commands.main", "analyze", url, "--only", "toy_good",
                               "--out", str(tmp_path / "report.json")], env=env, capture_output=True, text=True,
                              cwd=REPO_ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["run"]["input"]["url"] == url
    assert report["analyzers"]["toy_good"]["status"] == "ok"
    assert report["analyzers"]["toy_good"]["result"]["frames_seen"] == 4  # 2 s at 2 fps
