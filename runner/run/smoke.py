"""``runner images smoke``: run analyzers in their images on a 3 s made clip.

It sits above the pipeline (it runs one), so the image builder below it never imports the pipeline.
"""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from runner.config import Settings
from runner.images.build import CACHE
from runner.run.pipeline import AnalyzeRequest, analyze
from runner.registry import Registry


def _smoke_clip(path: Path) -> Path:
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y",
                        "-f", "lavfi", "-i", "testsrc2=size=360x640:rate=30:duration=3",
                        "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
                        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac",
                        "-shortest", str(path)], check=True)
    return path


def smoke(settings: Settings, registry: Registry, names: list[str], work_root: Path | None = None):
    """Run ``names`` on the docker backend on a 3 s made clip; ``{name: Envelope}`` for each."""
    clip = _smoke_clip(CACHE / "smoke.mp4")
    with tempfile.TemporaryDirectory(prefix="smoke-", dir=work_root) as wr:
        out = analyze(AnalyzeRequest(source=str(clip), only=names, backend="docker"),
                      settings.with_(work_root=Path(wr)), registry=registry)
        return {n: out.report.analyzers[n] for n in names if n in out.report.analyzers}
