"""``runner batch`` throughput against a plain loop of ``runner analyze``, and a cached rerun.

On ``N`` made short clips (different lengths, so different inputs) with a fixed cheap analyzer
subset on the local backend, each configuration with a fresh result cache:

1. a shell-style loop of ``runner analyze VIDEO`` subprocesses, one after another (baseline);
2. ``runner batch DIR`` on a local Ray (started and stopped by the command, inside its wall time);
3. ``runner batch --serial DIR``: the same driver without Ray (what Ray itself costs or buys);
4. ``runner batch DIR`` again on the cache of (2): every analyzer reused.

Throughput is videos per hour of wall time, whole commands included. Ray's CPUs are the
machine's (``RUNNER_CPU_BUDGET``, default every core); each video reserves its largest
analyzer's CPUs (1 here), so up to that many videos run at once.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.media import testsrc

N = int(os.environ.get("BENCH_BATCH_VIDEOS", "6"))
ONLY = "cut_analysis,scene_segmentation,color_analysis,content_quality"
RUNNER = [sys.executable, "-m", "runner.commands.main"]


def _run(args: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.monotonic()
    p = subprocess.run([*RUNNER, *args], env=env, capture_output=True, text=True, timeout=3600)
    return time.monotonic() - t0, p


def _rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "summary.jsonl").read_text().splitlines()]


def _check_batch(p: subprocess.CompletedProcess, out: Path, what: str) -> list[dict]:
    rows = _rows(out)
    bad = [r for r in rows if r["status"] != "ok"]
    if p.returncode != 0 or bad or len(rows) != N:
        raise RuntimeError(f"{what}: exit {p.returncode}, {len(rows)} rows, not ok: {bad[:1]}\n{p.stderr[-2000:]}")
    return rows


def bench() -> list[str]:
    root = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    videos = root / "videos"
    videos.mkdir()
    lengths = [4 + i % 4 + i / 10 for i in range(N)]     # 4.0 .. 7.x s, all different
    clips = [testsrc(videos / f"clip{i:02d}.mp4", seconds=s) for i, s in enumerate(lengths)]
    base_env = {**os.environ, "RUNNER_BACKEND": "local", "RUNNER_WORK_ROOT": str(root / "runs")}
    cores = os.cpu_count() or 1

    def env(cache: str) -> dict[str, str]:
        return {**base_env, "RUNNER_CACHE_DIR": str(root / cache)}

    # 1. the loop a user would write
    t_loop = 0.0
    for clip in clips:
        dt, p = _run(["analyze", str(clip), "--only", ONLY, "-q", "--out", str(root / "loop" / f"{clip.stem}.json")],
                     env("cache-loop"))
        if p.returncode != 0:
            raise RuntimeError(f"runner analyze {clip.name}: exit {p.returncode}\n{p.stderr[-2000:]}")
        t_loop += dt

    # 2. runner batch on a local Ray
    t_ray, p = _run(["batch", str(videos), "--only", ONLY, "--out", str(root / "ray")], env("cache-ray"))
    rows = _check_batch(p, root / "ray", "runner batch")
    m = re.search(r"started in ([0-9.]+)s", p.stderr)
    ray_start = float(m.group(1)) if m else float("nan")
    queue = sum(r["timings"]["queue_s"] for r in rows) / N

    # 3. the same driver without Ray
    t_serial, p = _run(["batch", "--serial", str(videos), "--only", ONLY, "--out", str(root / "serial")],
                       env("cache-serial"))
    _check_batch(p, root / "serial", "runner batch --serial")

    # 4. rerun of (2): everything from the cache
    t_cached, p = _run(["batch", str(videos), "--only", ONLY, "--out", str(root / "ray")], env("cache-ray"))
    cached_rows = _check_batch(p, root / "ray", "cached rerun")
    ran = sum(r["executed"] for r in cached_rows)
    m = re.search(r"started in ([0-9.]+)s", p.stderr)
    ray_start2 = float(m.group(1)) if m else float("nan")

    vph = lambda t: N * 3600 / t  # noqa: E731
    n_an = len(ONLY.split(","))
    return [
        f"{N} clips (4-7.5 s, 360x640 @30 fps, tone), analyzers {ONLY}, local backend; this machine has "
        f"{cores} cores (Ray's CPUs = RUNNER_CPU_BUDGET, default all); one run each, wall times of whole commands",
        f"loop of `runner analyze`:     {t_loop:6.1f} s = {vph(t_loop):5.0f} videos/hour (baseline)",
        f"`runner batch` (local Ray):   {t_ray:6.1f} s = {vph(t_ray):5.0f} videos/hour = {t_loop / t_ray:.2f} x the loop "
        f"(Ray start {ray_start:.1f} s inside it; mean queue wait {queue:.1f} s)",
        f"`runner batch --serial`:      {t_serial:6.1f} s = {vph(t_serial):5.0f} videos/hour = "
        f"{t_loop / t_serial:.2f} x the loop",
        f"cached rerun of the batch:    {t_cached:6.1f} s = {t_cached / t_ray:.2f} x the first batch run "
        f"({ran} of {N * n_an} analyzers executed; Ray start {ray_start2:.1f} s of it)",
    ]
