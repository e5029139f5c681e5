"""The API under a long load (a soak): ``make bench BENCH_ARGS=api``.

``BENCH_API_JOBS`` submissions (default 1000) from ``BENCH_API_CLIENTS`` concurrent clients (8),
with hostile requests between them, against ``runner serve --role api`` and ``runner worker`` on the
docker backend with the toy analyzers on 1-2 s made clips (``tests/api_load.py``, the machinery of
``tests/integration/test_api_load.py``, which runs 200). Everything the test checks is checked
here too (each job ends once in its right state, each report is its own, nothing left running);
printed: wall seconds, jobs per minute, the load average, the states, and the API's and the
worker's resident memory at job 20 and at every quarter, with the change from job 20 (the test's
bound is 10% at job 200). Needs a Docker daemon and the cpu base image; the toys' images are built
here when missing.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from tests.api_load import check_load, ensure_images, run_load

JOBS = int(os.environ.get("BENCH_API_JOBS", "1000"))
CLIENTS = int(os.environ.get("BENCH_API_CLIENTS", "8"))


def bench() -> list[str]:
    from runner.backends.docker import connect

    client = connect()
    ensure_images(client)
    root = Path(tempfile.mkdtemp(prefix="bench-api-"))
    load_before = open("/proc/loadavg").read().split()[:3]
    run = run_load(root, clients=CLIENTS, jobs=JOBS)
    try:
        figs = check_load(run, client)
    finally:
        run.dep.stop()
        shutil.rmtree(root, ignore_errors=True)
    load_after = open("/proc/loadavg").read().split()[:3]
    lines = [f"{figs['jobs']} jobs from {figs['clients']} clients (+{figs['refused']} hostile requests, all refused) "
             f"in {figs['seconds']:.0f} s: {figs['jobs_per_min']} jobs/min; load average before "
             f"{' '.join(load_before)}, after {' '.join(load_after)}",
             f"states: {figs['states']}; every job ended once, its report its own, no container left",
             "jobs done | API RSS MiB | worker RSS MiB"]
    ref = 20 if 20 in figs["rss_kib"] else min(figs["rss_kib"])
    api20, worker20 = figs["rss_kib"][ref]
    for n, (api, worker) in sorted(figs["rss_kib"].items()):
        lines.append(f"{n:9d} | {api / 1024:11.1f} | {worker / 1024:14.1f}"
                     f"   ({100 * (api - api20) / api20:+.1f}% / {100 * (worker - worker20) / worker20:+.1f}% "
                     f"from job {ref})")
    lines.append(f"max RSS: API {figs['rss_max_kib'][0] / 1024:.1f} MiB, worker {figs['rss_max_kib'][1] / 1024:.1f} MiB; "
                 f"CPU seconds: API {figs['cpu_s']['api']}, worker {figs['cpu_s']['worker']} (its containers not included)")
    return lines
