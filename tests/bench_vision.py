"""Vision analyzers on a 30 s vertical clip on this CPU: wall time, frames/s, peak memory.

Each analyzer runs alone through the real pipeline (local backend, its group
environment). A watcher samples ``/proc/<pid>/status`` of the analyzer's
harness process: VmHWM is its peak resident memory, VmData its private data
(what the local backend's RLIMIT_DATA limits). The figures set each manifest's
``memory`` and ``timeout_s``. Baseline: the clip's own length (x realtime).

    .venv/bin/python -m tests.bench vision
"""
from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

from runner.core.config import Settings
from runner.run.pipeline import AnalyzeRequest, analyze
from runner.core.registry import load_registry
from tests.media import MEDIA, MODELS, ffmpeg

ANALYZERS = ("object_detection", "body_pose", "text_overlay")
CLIP_S = 30.0
CAPTIONS = ["WAIT FOR IT", "FOLLOW FOR PART 2", "LINK IN BIO", "THE END"]


def make_clip(out: Path) -> Path:
    """30 s of vtest.avi (people walking) letterboxed into 720x1280, a caption every 7.5 s."""
    step = CLIP_S / len(CAPTIONS)
    draws = [f"drawtext=text='{c}':fontcolor=white:fontsize=56:borderw=3:bordercolor=black:"
             f"x=(w-tw)/2:y=h*0.8:enable='between(t,{k * step},{k * step + step - 1})'"
             for k, c in enumerate(CAPTIONS)]
    ffmpeg("-i", str(MEDIA / "vtest.avi"), "-t", str(CLIP_S),
           "-vf", "scale=720:-2,pad=720:1280:0:(oh-ih)/2," + ",".join(draws),
           "-r", "30", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(out))
    return out


class PeakWatcher(threading.Thread):
    """Polls the harness process of one analyzer and keeps its peak VmHWM / VmData."""

    def __init__(self, name: str, every: float = 0.1):
        super().__init__(daemon=True)
        self.marker = f"/analyzers/{name}".encode()
        self.every = every
        self.stop = threading.Event()
        self.hwm = self.data = 0

    def _pids(self):
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                cmd = Path(f"/proc/{d}/cmdline").read_bytes()
            except OSError:
                continue
            if b"analyzers.harness" in cmd and self.marker in cmd:
                yield d

    def run(self) -> None:
        while not self.stop.is_set():
            for pid in self._pids():
                try:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            self.hwm = max(self.hwm, int(line.split()[1]) * 1024)
                        elif line.startswith("VmData:"):
                            self.data = max(self.data, int(line.split()[1]) * 1024)
                except OSError:
                    pass
            self.stop.wait(self.every)


def bench() -> list[str]:
    repo = Path(__file__).resolve().parents[1]
    settings = Settings.from_env()
    if not (settings.envs_dir / "torch" / "bin" / "python").exists():
        return ["skipped: the torch environment is not built (runner envs build torch)"]
    lines = []
    with tempfile.TemporaryDirectory(prefix="bench-vision-") as tmp:
        clip = make_clip(Path(tmp) / "clip.mp4")
        settings = settings.with_(analyzers_dirs=(repo / "analyzers",), work_root=Path(tmp) / "runs",
                                  models_dir=Path(os.environ.get("RUNNER_MODELS_DIR", MODELS)),
                                  backend="local")
        registry = load_registry(settings.analyzers_dirs)
        lines.append(f"clip: {CLIP_S:.0f} s, 720x1280, 30 fps (vtest.avi letterboxed + captions)")
        for name in ANALYZERS:
            watcher = PeakWatcher(name)
            watcher.start()
            t0 = time.monotonic()
            outcome = analyze(AnalyzeRequest(source=str(clip), only=[name], backend="local", use_cache=False), settings,
                              registry=registry)
            wall = time.monotonic() - t0
            watcher.stop.set()
            watcher.join()
            env = outcome.report.analyzers[name]
            frames = (env.result or {}).get("frames_analyzed", 0)
            run_s = env.duration_s or wall
            lines.append(
                f"{name}: {env.status.value}; analyzer {run_s:.1f} s ({CLIP_S / run_s:.2f}x realtime), "
                f"pipeline {wall:.1f} s; {frames} frames, {frames / run_s:.2f} frames/s; "
                f"peak RSS {watcher.hwm / 2**20:.0f} MiB, peak VmData {watcher.data / 2**20:.0f} MiB "
                f"(manifest memory {registry[name].manifest.resources.memory}, "
                f"timeout {registry[name].manifest.resources.timeout_s:.0f} s)")
            if env.result:
                lines.append(f"  found: {_found(name, env.result)}")
    return lines


def _found(name: str, result: dict) -> str:
    """One line on what the analyzer saw, so a fast but blind run shows up."""
    if name == "object_detection":
        return f"max persons {result['max_persons']}, {len(result['tracks'])} tracks"
    if name == "body_pose":
        return f"max persons {result['max_persons']}, mean movement {result['mean_movement_energy']}"
    segs = ", ".join(f"{s['text']!r} {s['start']:.1f}-{s['end']:.1f}s {s['kind']}" for s in result["segments"])
    ocr = (f"; detector runs {result.get('detector_runs')}, recognitions {result.get('recognitions')}, "
           f"hires reads {result.get('hires_reads')}" if result.get("detector_runs") is not None else "")
    return f"segments: {segs} (captions drawn: {CAPTIONS}){ocr}"
