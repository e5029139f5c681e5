"""First vs second run of audio_analysis in a fresh local environment, without and with the warmup.

``python -m tests.bench warm`` (part of ``make bench``). Builds a ``cpu`` environment with only
audio_analysis's requirements in ``.work/bench-warm-envs`` (pip, once; later runs reuse it, and
``make clean`` removes it), then, with numba's cache emptied each time (a fresh environment as far as
the first-run cost goes; pip had already compiled the .pyc files):
  before: numba's cache emptied, run 1 (cold) and run 2;
  after:  numba's cache emptied, ``runner.backends.envs.warm`` (what ``make envs`` now does), run 1 and run 2.
Each run is ``runner analyze --only audio_analysis --backend local --no-cache`` on a 10 s clip;
figures are the analyzer's duration (envelope) and the CPU seconds of the whole runner process tree
(steadier than wall time on a shared machine). Goal: after, run 1 / run 2 <= 1.2.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from runner.core.config import REPO_ROOT, Settings


def _clip(path: Path) -> Path:
    subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc2=size=360x640:rate=30:duration=10",
                    "-f", "lavfi", "-i", "sine=frequency=330:duration=10",
                    "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
                    str(path)], check=True)
    return path


def _drop_numba_cache(env_dir: Path) -> int:
    n = 0
    for p in env_dir.rglob("*"):
        if p.suffix in (".nbi", ".nbc"):
            p.unlink()
            n += 1
    return n


def _run(envs: Path, clip: Path, tmp: Path, tag: str) -> tuple[float, float]:
    out = tmp / f"{tag}.json"
    env = {**os.environ, "RUNNER_CONFIG": "", "RUNNER_ENVS_DIR": str(envs), "RUNNER_WORK_ROOT": str(tmp / "runs"),
           "RUNNER_CACHE_DIR": str(tmp / f"cache-{tag}")}
    proc = subprocess.Popen([sys.executable, "-m", "runner.commands.main", "analyze", str(clip), "--only", "audio_analysis",
                             "--backend", "local", "--no-cache", "--out", str(out)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    report = json.loads(out.read_text())
    entries = report["analyzers"].values() if isinstance(report["analyzers"], dict) else report["analyzers"]
    e = next(iter(entries))
    assert e["status"] == "ok", e
    return float(e["duration_s"]), usage.ru_utime + usage.ru_stime


def bench() -> list[str]:
    from runner.backends import envs as envs_mod
    from runner.core.registry import registry_for

    settings = Settings.from_env()
    registry = {k: v for k, v in registry_for(settings).items() if k == "audio_analysis"}
    tmp = Path(tempfile.mkdtemp(prefix="bench-warm-"))
    try:
        clip = _clip(tmp / "clip.mp4")
        envs = REPO_ROOT / ".work" / "bench-warm-envs"
        t0 = time.monotonic()
        # a fresh environment: pip install only (the warmup is measured separately below)
        warm = envs_mod.warm
        envs_mod.warm = lambda *a, **k: []
        try:
            envs_mod.build(registry, "cpu", envs, echo=lambda s: None)
        finally:
            envs_mod.warm = warm
        lines = [f"env {envs}/cpu (audio_analysis requirements only): {time.monotonic() - t0:.0f}s to install/check"]
        figures = {}
        for phase in ("before", "after"):
            _drop_numba_cache(envs / "cpu")
            if phase == "after":
                t0 = time.monotonic()
                envs_mod.warm(registry, "cpu", envs, echo=lambda s: None)
                lines.append(f"warmup (make envs / runner envs build): {time.monotonic() - t0:.1f}s")
            a = _run(envs, clip, tmp, f"{phase}-1")
            b = _run(envs, clip, tmp, f"{phase}-2")
            figures[phase] = (a, b)
            lines.append(f"{phase:<6} run1 {a[0]:6.1f}s ({a[1]:5.1f} CPU s)  run2 {b[0]:6.1f}s ({b[1]:5.1f} CPU s)  "
                         f"first/second: {a[0] / b[0]:.2f}x wall, {a[1] / b[1]:.2f}x CPU")
        ok = figures["after"][0][1] / figures["after"][1][1] <= 1.2
        lines.append(f"goal first/second <= 1.2x (CPU) after the warmup: {'met' if ok else 'NOT met'}")
        return lines
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    print("\n".join(bench()))
