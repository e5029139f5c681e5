"""Keyframe thumbnails, one per shot, as small base64 JPEG data URIs.

Taken with ffmpeg, through a :class:`runner.media.tools.MediaExec`, from the run's admitted copy
of the input (``<workdir>/input/video.<ext>``, same size as probed; the user's path is never
reopened), else from the run's extracted frames (``<workdir>/frames/<set>/``), else left out with
a note. A few ffmpeg calls in all: each decodes a batch of seek points (``-ss T -i file:SRC`` per
input, forced demuxer and whitelists, one output frame per input) into ``<workdir>/tmp/``.
"""
from __future__ import annotations

import base64
import os
import secrets
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from runner.media.admit import DEMUXER_BY_EXT
from runner.core.errors import RunnerError
from runner.media.tools import HostMediaExec, MediaCall, MediaExec, input_args
from shared_schema.media import FrameIndex
from shared_schema.paths import Workdir
from shared_schema.report import Report

from runner.report.lanes_visual import shot_spans
from runner.report.model import why_missing

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


def _video(report: Report) -> tuple[tuple[str, str] | None, str | None]:
    """The run's admitted copy (``input/video.<ext>``, workdir-relative, with its forced demuxer) if
    it is still there and the size probed; the user's own path is never opened again."""
    folder = Workdir(Path(report.run.workdir)).input_dir
    try:
        with os.scandir(folder) as it:
            entries = [e for e in it if e.is_file(follow_symlinks=False) and e.name.startswith("video.")]
    except OSError:
        return None, None
    for e in entries:
        demuxer = DEMUXER_BY_EXT.get(e.name.rsplit(".", 1)[-1])
        if demuxer is None:
            continue
        if e.stat(follow_symlinks=False).st_size != report.media.size_bytes:
            return None, "the run's copy of the input changed since the run"
        return (f"input/{e.name}", demuxer), None
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


def _input(rel: str, demuxer: str, ss: float | None) -> list[str]:
    seek = ["-ss", f"{ss:.3f}"] if ss is not None else []
    if demuxer == "image2":  # one of the run's own extracted JPEGs
        return [*seek, "-protocol_whitelist", "file", "-format_whitelist", "image2", "-f", "image2",
                "-i", f"file:{rel}"]
    return [*seek, *input_args(rel, demuxer)]


def _grab(workdir: Path, inputs: list[tuple[str, str, float | None]], media_exec: MediaExec) -> list[bytes | None]:
    """One JPEG per (workdir-relative source, demuxer, seek) in batches, through ``media_exec``,
    written into a scratch folder of the workdir; None where ffmpeg gave no frame."""
    w, h = BOX
    out: list[bytes | None] = []
    scratch = Path("tmp") / f"thumbs-{secrets.token_hex(4)}"
    (workdir / scratch).mkdir(parents=True, exist_ok=False)
    try:
        for b0 in range(0, len(inputs), _BATCH):
            batch = inputs[b0:b0 + _BATCH]
            args = ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-threads", "1"]
            for rel, demuxer, ss in batch:
                args += _input(rel, demuxer, ss)
            files = [scratch / f"{b0 + k}.jpg" for k in range(len(batch))]
            for k, f in enumerate(files):
                args += ["-map", f"{k}:v:0", "-frames:v", "1", "-an",
                         "-vf", f"scale={w}:{h}:force_original_aspect_ratio=decrease", "-q:v", "6", f"file:{f}"]
            try:
                media_exec.run(workdir, MediaCall(argv=tuple(args), writable=(scratch.as_posix(),),
                                                  timeout_s=_TIMEOUT_S, memory_bytes=1 << 30, cpus=1.0))
            except (OSError, RunnerError):
                pass
            out += [_small_file(workdir / f) for f in files]
    finally:
        shutil.rmtree(workdir / scratch, ignore_errors=True)
    return out


def _small_file(path: Path, cap: int = 1 << 20) -> bytes | None:
    """The bytes of a regular file ffmpeg wrote, read without following links; None otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or not 0 < st.st_size <= cap:
            return None
        return os.read(fd, cap)
    finally:
        os.close(fd)


def strip(report: Report, limit: int = MAX_THUMBS, media_exec: MediaExec | None = None) -> Strip:
    """The keyframe strip: thumbnails with captions, where they came from, and what is missing.

    Pictures come from the run's workdir only (its admitted copy of the input, else its extracted
    frames), taken by ffmpeg through ``media_exec`` (a sandbox on the docker backend)."""
    thumbs, notes = keyframes(report, limit)
    media_exec = media_exec or HostMediaExec()
    if isinstance(media_exec, HostMediaExec) and shutil.which("ffmpeg") is None:
        return Strip(thumbs, notes=notes + ["thumbnails left out: ffmpeg is not installed (apt-get install ffmpeg)"])
    video, changed = _video(report)
    if changed:
        notes.append(changed)
    if video is not None:
        inputs: list[tuple[str, str, float | None]] = [(video[0], video[1], th.t) for th in thumbs]
        source = "the input video (the run's admitted copy)"
    else:
        found = _frames(report)
        if found is None:
            return Strip(thumbs, notes=notes + ["thumbnails left out: neither the run's copy of the input nor "
                                                f"its extracted frames are still there (workdir {report.run.workdir})"])
        name, folder, index = found
        inputs = []
        for th in thumbs:
            fr = min(index.frames, key=lambda f: abs(f.t - th.t))
            inputs.append((f"frames/{name}/{fr.file}", "image2", None))
        source = f"the run's {name} frames (the input video is gone)"
    jpegs = _grab(Path(report.run.workdir), inputs, media_exec)
    for th, jpg in zip(thumbs, jpegs):
        if jpg:
            th.data_uri = "data:image/jpeg;base64," + base64.b64encode(jpg).decode("ascii")
    lost = sum(1 for th in thumbs if th.data_uri is None)
    if lost:
        notes.append(f"{lost} of {len(thumbs)} thumbnails could not be taken")
    return Strip(thumbs, source=source, notes=notes)
