"""Keyframe thumbnails, one per shot, as small base64 JPEG data URIs.

Taken with ffmpeg from the input video when it is still there (same size as
probed), else from the run's extracted frames (``<workdir>/frames/<set>/``), else
left out with a note. A few ffmpeg processes in all: each decodes a batch of
seek points (``-ss T -i SRC`` per input, one output frame per input).
"""
from __future__ import annotations

import base64
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from shared_schema.media import FrameIndex
from shared_schema.paths import Workdir
from shared_schema.report import Report

from runner.report_html.lanes_visual import shot_spans
from runner.report_html.model import why_missing

__all__ = ["Thumb", "Strip", "keyframes", "strip", "MAX_THUMBS", "BOX"]

MAX_THUMBS = 40
BOX = (160, 200)        # thumbnails fit in this box (px), aspect kept
_BATCH = 8              # seek points per ffmpeg process
_TIMEOUT_S = 60
_FRAME_SETS = ("sampled", "hires", "dense")


@dataclass
class Thumb:
    t: float
    caption: str
    data_uri: str | None = None


@dataclass
class Strip:
    thumbs: list[Thumb]
    source: str = ""                       # where the pictures came from
    notes: list[str] = field(default_factory=list)


def keyframes(report: Report, limit: int = MAX_THUMBS) -> tuple[list[Thumb], list[str]]:
    """One instant per shot (its middle), at most ``limit`` spread over the video; notes on what was left out."""
    d = max(report.media.duration_s, 0.0)
    shots = shot_spans(report)
    notes: list[str] = []
    if shots:
        if len(shots) > limit:
            notes.append(f"showing {limit} of {len(shots)} shots, spread evenly")
            shots = [shots[round(k * (len(shots) - 1) / (limit - 1))] for k in range(limit)]
        thumbs = [Thumb((a + b) / 2, f"shot {i} \u00b7 {a:.1f}\u2013{b:.1f} s") for i, a, b in shots]
    else:
        n = 8 if d > 0 else 1
        notes.append(f"one frame every {d / n:.1f} s instead of one per shot: shots not in this report: "
                     + why_missing(report, "cut_analysis"))
        thumbs = [Thumb((k + 0.5) * d / n, f"{(k + 0.5) * d / n:.1f} s") for k in range(n)]
    last = max(0.0, d - 0.1)
    for th in thumbs:
        th.t = min(max(th.t, 0.0), last)
    return thumbs, notes


def _video(report: Report) -> tuple[Path | None, str | None]:
    """The input video if it is still there and the same size as when it was probed."""
    for p in dict.fromkeys((report.run.input.path, report.media.path)):
        path = Path(p)
        if path.is_file():
            if path.stat().st_size == report.media.size_bytes:
                return path, None
            return None, f"the input {p} changed since the run"
    return None, None


def _frames(report: Report) -> tuple[str, Path, FrameIndex] | None:
    wd = Workdir(Path(report.run.workdir))
    for name in _FRAME_SETS:
        try:
            index = FrameIndex.model_validate_json(wd.frame_index(name).read_text())
        except (OSError, ValueError):
            continue
        if index.frames:
            return name, wd.frames_dir(name), index
    return None


def _grab(inputs: list[tuple[Path, float | None]], tmp: Path) -> list[bytes | None]:
    """One JPEG per (source, seek) in batches; None where ffmpeg gave no frame."""
    w, h = BOX
    out: list[bytes | None] = []
    for b0 in range(0, len(inputs), _BATCH):
        batch = inputs[b0:b0 + _BATCH]
        args = ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-threads", "1"]
        for src, ss in batch:
            args += (["-ss", f"{ss:.3f}"] if ss is not None else []) + ["-i", str(src)]
        files = [tmp / f"{b0 + k}.jpg" for k in range(len(batch))]
        for k, f in enumerate(files):
            args += ["-map", f"{k}:v:0", "-frames:v", "1", "-an",
                     "-vf", f"scale={w}:{h}:force_original_aspect_ratio=decrease", "-q:v", "6", str(f)]
        try:
            subprocess.run(args, capture_output=True, timeout=_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired):
            pass
        out += [f.read_bytes() if f.is_file() and f.stat().st_size else None for f in files]
    return out


def strip(report: Report, limit: int = MAX_THUMBS) -> Strip:
    """The keyframe strip: thumbnails with captions, where they came from, and what is missing."""
    thumbs, notes = keyframes(report, limit)
    if shutil.which("ffmpeg") is None:
        return Strip(thumbs, notes=notes + ["thumbnails left out: ffmpeg is not installed (apt-get install ffmpeg)"])
    video, changed = _video(report)
    if changed:
        notes.append(changed)
    if video is not None:
        inputs: list[tuple[Path, float | None]] = [(video, th.t) for th in thumbs]
        source = f"the input video ({video.name})"
    else:
        found = _frames(report)
        if found is None:
            return Strip(thumbs, notes=notes + ["thumbnails left out: neither the input video nor the run's "
                                                f"extracted frames are still there (workdir {report.run.workdir})"])
        name, folder, index = found
        inputs = []
        for th in thumbs:
            fr = min(index.frames, key=lambda f: abs(f.t - th.t))
            inputs.append((folder / fr.file, None))
        source = f"the run's {name} frames (the input video is gone)"
    with tempfile.TemporaryDirectory(prefix="runner-thumbs-") as tmp:
        jpegs = _grab(inputs, Path(tmp))
    for th, jpg in zip(thumbs, jpegs):
        if jpg:
            th.data_uri = "data:image/jpeg;base64," + base64.b64encode(jpg).decode("ascii")
    lost = sum(1 for th in thumbs if th.data_uri is None)
    if lost:
        notes.append(f"{lost} of {len(thumbs)} thumbnails could not be taken")
    return Strip(thumbs, source=source, notes=notes)
