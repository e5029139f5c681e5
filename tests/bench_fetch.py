"""``make bench BENCH_ARGS=fetch``: what a download through the sandbox costs over one in-process.

A 1 MiB-ish real clip served by a loopback HTTP server, downloaded N times (``BENCH_FETCH_ROUNDS``,
default 5) into a fresh download cache each time: in-process (the local backend's way) and through
the download sandbox (yt-dlp's container with network none plus the egress proxy's container on
network ``host``, the code-only test allowance letting it reach the loopback origin). Wall seconds,
median of N, and the ratio; both in the same sitting. Needs the daemon and ``<prefix>/fetch:2``.
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path


def bench() -> list[str]:
    from runner.core.download_config import DownloadSettings
    from runner.backends.docker import connect
    from runner.core.config import Settings
    from runner.download.fetch import download_via, in_process
    from runner.images.runner_images import FETCH
    from runner.download.docker_fetch import DockerFetch
    from tests import media
    from tests.integration.test_download import LoopbackServer

    client = connect(timeout=10)
    settings = Settings.from_env()
    if FETCH.state(client, settings) != "built":
        return [f"skipped: {FETCH.tag(settings)} is not built (runner images build fetch)"]
    rounds = int(os.environ.get("BENCH_FETCH_ROUNDS", "5"))
    root = Path(tempfile.mkdtemp(prefix="bench-fetch-"))
    clip = media.testsrc(root / "clip.mp4", seconds=8, size="640x360").read_bytes()
    fx = DockerFetch(client, FETCH.tag(settings), run_id=f"bench-fetch-{uuid.uuid4().hex[:6]}")
    local, boxed = [], []
    with LoopbackServer({"/clip.mp4": clip}) as srv:
        for i in range(rounds):
            opts = DownloadSettings(allow_private_urls=True, download_cache=root / f"c{i}", fetch_network="host",
                                    fetch_private_for_tests=True, download_attempts=1)
            t0 = time.monotonic()
            download_via(in_process, srv.url("/clip.mp4"), options=opts)
            local.append(time.monotonic() - t0)
            t0 = time.monotonic()
            download_via(fx, srv.url("/clip.mp4"), options=opts.with_(download_cache=root / f"d{i}"))
            boxed.append(time.monotonic() - t0)
    lo, bo = statistics.median(local), statistics.median(boxed)
    return [f"clip {len(clip) / 2**20:.2f} MiB from a loopback server, n={rounds} each, load {os.getloadavg()[0]:.1f}",
            f"in-process median {lo:.2f} s; sandbox (yt-dlp network none + egress proxy) median {bo:.2f} s; "
            f"+{bo - lo:.2f} s ({bo / lo:.1f}x)"]
