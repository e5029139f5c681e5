"""Make test media with ffmpeg whose truth is known. Used by fixtures and analyzer tests."""
from __future__ import annotations

import subprocess
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[2] / "shared" / "assets"
MEDIA = ASSETS / "media"
MODELS = ASSETS / "models"


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", *args], check=True)


def testsrc(path: Path, seconds: float = 4, size: str = "360x640", rate: int = 30,
            audio: bool = True, src: str = "testsrc2") -> Path:
    """A synthetic clip (moving test pattern; a 440 Hz tone when ``audio``)."""
    args = ["-f", "lavfi", "-i", f"{src}=size={size}:rate={rate}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    args += ["-c:a", "aac", "-shortest"] if audio else ["-an"]
    ffmpeg(*args, str(path))
    return path


def solid_cuts(path: Path, colors: list[str], seconds_each: float = 1.0, size: str = "320x240",
               rate: int = 30) -> Path:
    """Solid colour shots joined with hard cuts at known times (k * seconds_each)."""
    args: list[str] = []
    for c in colors:
        args += ["-f", "lavfi", "-i", f"color=c={c}:size={size}:rate={rate}:duration={seconds_each}"]
    n = len(colors)
    graph = "".join(f"[{i}:v]" for i in range(n)) + f"concat=n={n}:v=1:a=0[v]"
    ffmpeg(*args, "-filter_complex", graph, "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", str(path))
    return path
