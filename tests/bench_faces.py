"""Face and segmentation analyzers on this CPU: wall time, frames/s and peak memory on a 30 s clip.

The clip is 720x1280 portrait (TikTok's shape), 30 s: zidane.jpg with a slow
zoom (two faces), bus.jpg (four people), then vtest.avi (a street). The
pipeline runs the three analyzers once (probe, extract, run); then each
analyzer's harness runs again alone on that workdir, its peak RSS read from
wait4(). The baseline, measured in the same run, is the same harness on a 1 s
clip: its wall time is the start-up cost (imports, model load), so the
steady per-frame cost is (wall_30s - wall_1s) / (frames_30s - frames_1s).
These figures set the manifests' ``memory`` and ``timeout_s``.

    .venv/bin/python -m tests.bench faces
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from runner.core.config import Settings
from runner.run.pipeline import AnalyzeRequest, analyze
from runner.core.registry import load_registry
from tests.bench_harness import run_alone
from tests.media import MEDIA, MODELS, ffmpeg

ANALYZERS = ("age_estimation", "eye_tracking", "background_segmentation")
GROUP = "face"
THREADS = 1  # the manifests ask for one CPU
PORTRAIT = "scale=720:1280:force_original_aspect_ratio=decrease,pad=720:1280:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=30"


def make_clip(folder: Path, seconds: float) -> Path:
    """``seconds`` of the three-part portrait clip (each part a third)."""
    part = seconds / 3
    out = folder / f"faces_{seconds:g}s.mp4"
    ffmpeg("-loop", "1", "-t", f"{part}", "-i", str(MEDIA / "zidane.jpg"),
           "-loop", "1", "-t", f"{part}", "-i", str(MEDIA / "bus.jpg"),
           "-t", f"{part}", "-i", str(MEDIA / "vtest.avi"),
           "-filter_complex",
           f"[0:v]scale=1280:720,zoompan=z='min(1+0.01*on,1.3)':d=1:s=1280x720:fps=30,{PORTRAIT}[a];"
           f"[1:v]{PORTRAIT}[b];[2:v]{PORTRAIT}[c];[a][b][c]concat=n=3:v=1:a=0[v]",
           "-map", "[v]", "-t", f"{seconds}", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", str(out))
    return out


def _alone(settings: Settings, workdir: Path, name: str, out: Path) -> dict:
    """Peak RSS (MiB), wall (s), status, analyzer time and frames of one harness run."""
    a = run_alone(settings.envs_dir / GROUP / "bin" / "python", workdir, name, out, settings.models_dir, THREADS)
    result = a.envelope.get("result") or {}
    return {"rss": a.rss_mib, "wall": a.wall_s, "status": a.envelope["status"],
            "analyzer_s": a.envelope["duration_s"], "frames": result.get("frames_analyzed", 0)}


def _pipeline(settings: Settings, registry, clip: Path, work: Path):
    s = settings.with_(work_root=work)
    t0 = time.monotonic()
    outcome = analyze(AnalyzeRequest(source=str(clip), only=list(ANALYZERS), backend="local", use_cache=False), s,
                      registry=registry)
    return outcome, time.monotonic() - t0


def bench() -> list[str]:
    settings = Settings.from_env().with_(models_dir=Path(os.environ.get("RUNNER_MODELS_DIR", MODELS)))
    if not (settings.envs_dir / GROUP / "bin" / "python").exists():
        return [f"skipped: the {GROUP} environment is not built (make envs)"]
    registry = load_registry(settings.analyzers_dirs)
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        runs = {}
        for seconds in (1.0, 30.0):
            clip = make_clip(tmp, seconds)
            outcome, total = _pipeline(settings, registry, clip, tmp / f"runs{seconds:g}")
            statuses = {n: outcome.report.analyzers[n].status.value for n in ANALYZERS}
            if seconds > 1:
                lines.append(f"pipeline, all three on a {seconds:g} s 720x1280 clip: {total:.1f} s wall "
                             f"({statuses})")
            runs[seconds] = {n: _alone(settings, outcome.workdir, n, tmp / f"alone{seconds:g}" / n)
                             for n in ANALYZERS}
        for name in ANALYZERS:
            base, full = runs[1.0][name], runs[30.0][name]
            extra_frames = full["frames"] - base["frames"]
            per_frame = (full["wall"] - base["wall"]) / extra_frames if extra_frames > 0 else float("nan")
            limit = registry[name].manifest.resources.memory
            lines.append(
                f"{name} ({full['status']}): 30 s clip {full['wall']:.1f} s wall alone, "
                f"{full['frames']} frames = {full['frames'] / full['wall']:.1f} frames/s, "
                f"{30.0 / full['wall']:.1f}x realtime; start-up (1 s clip) {base['wall']:.1f} s = "
                f"{base['wall'] / full['wall']:.0%} of the 30 s wall; steady {per_frame * 1000:.0f} ms/frame; "
                f"peak RSS {full['rss']:.0f} MiB ({full['rss'] / base['rss']:.2f}x the 1 s run; "
                f"manifest memory {limit})")
    return lines


if __name__ == "__main__":
    print("\n".join(bench()))
    sys.exit(0)
