"""The shared workdir layout and the catalogue of frame sets.

Every path a job spec carries is relative to the workdir root, so the same
spec works on the host (``/tmp/run-x/...``) and in a container (``/input/...``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class FrameSetSpec(BaseModel):
    """How one frame set is cut from the video in the single decode pass."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    fps: float = Field(gt=0, description="sampling rate; capped at the video's own rate")
    max_side: int = Field(gt=0, description="longest side in pixels after scaling (never upscaled)")
    gray: bool = False
    quality: int = Field(default=3, ge=2, le=31, description="ffmpeg -q:v for JPEG output")


#: The frame sets an analyzer may declare in ``inputs.frames``. The runner's
#: config may override fps / max_side per run (``runner analyze --sample-fps``).
FRAME_SETS: dict[str, FrameSetSpec] = {
    # colour frames at a working resolution for detectors, OCR, colour, quality
    "sampled": FrameSetSpec(name="sampled", fps=2.0, max_side=640),
    # every frame (capped at 30 fps), small and grey: cuts, motion, flow
    "dense": FrameSetSpec(name="dense", fps=30.0, max_side=192, gray=True, quality=4),
    # fewer, larger frames for faces, text and vision-language models
    "hires": FrameSetSpec(name="hires", fps=1.0, max_side=1280, quality=2),
}

AUDIO_TRACKS = ("main",)  # mono 16 kHz PCM WAV


@dataclass(frozen=True)
class Workdir:
    """Paths inside one run's workdir (host side or ``/input`` in a container)."""

    root: Path

    @property
    def media_json(self) -> Path:
        return self.root / "media.json"

    @property
    def input_dir(self) -> Path:
        """The admitted copy of the input lives here (``input/video.<ext>``); decoders read only it."""
        return self.root / "input"

    def input_video(self, ext: str = "mp4") -> Path:
        return self.input_dir / f"video.{ext}"

    def frames_dir(self, frame_set: str) -> Path:
        return self.root / "frames" / frame_set

    def frame_index(self, frame_set: str) -> Path:
        return self.frames_dir(frame_set) / "index.json"

    def audio(self, track: str = "main") -> Path:
        return self.root / "audio" / f"{track}.wav"

    def job(self, analyzer: str) -> Path:
        return self.root / "jobs" / f"{analyzer}.json"

    def out_dir(self, analyzer: str) -> Path:
        return self.root / "out" / analyzer

    def sandbox_result(self, analyzer: str) -> Path:
        """The envelope as the sandbox wrote it: untrusted data, read through :mod:`runner.core.outbox`."""
        return self.out_dir(analyzer) / "result.json"

    def result(self, analyzer: str) -> Path:
        """The runner's validated final envelope (outside any folder a sandbox can write);
        job specs' ``upstream`` paths point here, so later stages read the runner's verdict."""
        return self.root / "results" / f"{analyzer}.json"

    def log(self, analyzer: str) -> Path:
        """The runner's log of one analyzer (outside any folder a sandbox can write)."""
        return self.root / "logs" / f"{analyzer}.txt"

    @property
    def report(self) -> Path:
        return self.root / "report.json"

    def rel(self, path: Path) -> str:
        """``path`` relative to the root, as carried in job specs."""
        return Path(path).relative_to(self.root).as_posix()
