"""Benchmark of the classical analyzers (color_analysis, content_quality, audio_analysis).

On a made 30 s 720x1280 clip with a 120 BPM click-and-tone track:
- each analyzer's own run time (its envelope's ``duration_s``, through the real pipeline and
  local backend) as a ratio of the clip's duration, and the whole pipeline's wall time likewise;
- each analyzer's peak memory and CPU time, from a direct harness call on the same workdir
  wrapped in a fresh process that reads ``ru_maxrss`` and CPU time of its only child (CPU time
  is the figure to compare across runs: wall time depends on what else the 2 cores are doing).
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from runner.backends.analyzer_env import analyzer_environment
from runner.core.config import REPO_ROOT, Settings
from runner.core.registry import load_registry
from tests.conftest import ANALYZERS, TOYS, run_analyzers
from tests.media import MODELS, ffmpeg

NAMES = ["color_analysis", "content_quality", "audio_analysis"]
CLIP_S = 30.0
_PEAK = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
         "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
         "r = resource.getrusage(resource.RUSAGE_CHILDREN); "
         "print(r.ru_maxrss, r.ru_utime + r.ru_stime)")


def make_clip(path: Path) -> Path:
    click = r"0.8*sin(2*PI*1000*t)*exp(-mod(t\,0.5)/0.004)*lt(mod(t\,0.5)\,0.02)+0.2*sin(2*PI*220*t)"
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=720x1280:rate=30:duration={CLIP_S}",
           "-f", "lavfi", "-i", f"aevalsrc={click}:s=44100:d={CLIP_S}",
           "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-shortest", str(path))
    return path


def direct_run(settings: Settings, workdir: Path, name: str, entry) -> tuple[float, float]:
    """Peak RSS (MiB) and CPU seconds of one harness run on ``workdir``'s job for ``name``."""
    py = settings.envs_dir / entry.manifest.env / "bin" / "python"
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    out = tmp / "out"
    out.mkdir()
    env = analyzer_environment(threads=1, tmp=str(tmp))
    env["PYTHONPATH"] = str(REPO_ROOT)
    argv = [str(py), "-m", "analyzers.harness", "--analyzer-dir", str(entry.path),
            "--input", str(workdir), "--job", str(workdir / "jobs" / f"{name}.json"),
            "--out", str(out), "--models", str(MODELS)]
    kb, cpu = subprocess.run([sys.executable, "-c", _PEAK, *argv], env=env, check=True,
                             capture_output=True, text=True).stdout.split()
    return int(kb) / 1024, float(cpu)


def bench() -> list[str]:
    root = Path(tempfile.mkdtemp(prefix="bench-classical-"))
    settings = Settings.from_env().with_(
        analyzers_dirs=(ANALYZERS, TOYS), work_root=root / "runs",
        models_dir=Path(os.environ.get("RUNNER_MODELS_DIR", MODELS)), include_test_only=True,
        backend="local")
    registry = load_registry(settings.analyzers_dirs, include_test_only=True)
    clip = make_clip(root / "clip.mp4")
    lines = [f"clip: {CLIP_S:g} s, 720x1280 @30 fps, 120 BPM clicks + tone; ratios are "
             "time / clip duration and peak RSS / manifest memory limit"]
    # A first run warms what a fresh environment compiles once (librosa's numba kernels), with a result
    # cache of its own: the timed run must execute audio_analysis (and write its job for direct_run below)
    run_analyzers(settings.with_(cache_dir=root / "warm-cache"), clip, ["audio_analysis"])
    t0 = time.monotonic()
    outcome = run_analyzers(settings, clip, NAMES)
    wall = time.monotonic() - t0
    for name in NAMES:
        env = outcome.report.analyzers[name]
        if env.status.value != "ok":
            raise RuntimeError(f"{name}: {env.status.value}: {env.error}")
        entry = registry[name]
        limit_mb = entry.manifest.resources.memory_bytes / 2**20
        rss, cpu = direct_run(settings, outcome.workdir, name, entry)
        lines.append(f"{name:16s} run {env.duration_s:6.2f} s = {env.duration_s / CLIP_S:.3f} x clip; "
                     f"CPU {cpu:5.2f} s = {cpu / CLIP_S:.3f} x clip; peak RSS {rss:4.0f} MiB = "
                     f"{rss / limit_mb:.2f} x limit ({entry.manifest.resources.memory})")
    lines.append(f"pipeline (probe + one extraction + 3 analyzers): {wall:.1f} s = {wall / CLIP_S:.2f} x clip")
    return lines
