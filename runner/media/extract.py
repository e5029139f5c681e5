"""ONE ffmpeg decode pass -> every frame set the plan needs + the mono 16 kHz audio.

The decoded video is split inside a single filter graph, one branch per frame
set (``fps`` then ``scale`` then optionally ``format=gray``), so the video is
read and decoded once however many sets are asked for. ffmpeg applies the
rotation metadata itself (autorotate), so frames come out upright.
"""
from __future__ import annotations

import os
import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from runner.media.admit import Admitted
from runner.core.errors import ExtractionError, InputError
from runner.media.tools import HostMediaExec, MediaCall, MediaExec, input_args
from shared_schema.media import FrameEntry, FrameIndex, MediaInfo
from shared_schema.paths import FrameSetSpec, Workdir

AUDIO_RATE = 16000
_DECODE_ERRORS = re.compile(r"partial file|Invalid data found|Error while decoding|corrupt|truncat",
                            re.IGNORECASE)


@dataclass(frozen=True)
class ExtractResult:
    frame_sets: dict[str, FrameIndex]
    audio: Path | None
    seconds: float
    warnings: list[str]


def _even(x: float) -> int:
    return max(2, int(round(x / 2)) * 2)


def target_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Scale so the longest side is at most ``max_side``; never upscale; even sizes."""
    scale = min(1.0, max_side / max(width, height))
    return _even(width * scale), _even(height * scale)


def build_command(admitted: Admitted, media: MediaInfo, wd: Workdir, sets: list[FrameSetSpec],
                  with_audio: bool, timeout_s: float = 1800) -> tuple[MediaCall, dict[str, tuple[float, int, int]]]:
    """The ffmpeg call (workdir-relative paths, forced demuxer, whitelists), and per set its
    effective (fps, width, height). Creates the output folders it names as writable."""
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-v", "warning", "-y",
           *input_args(admitted.rel, admitted.demuxer)]
    geometry: dict[str, tuple[float, int, int]] = {}
    writable: list[str] = []
    if sets:
        branches = [f"[0:v:0]split={len(sets)}" + "".join(f"[v{i}]" for i in range(len(sets)))
                    if len(sets) > 1 else "[0:v:0]null[v0]"]
        for i, spec in enumerate(sets):
            fps = min(spec.fps, media.video.fps)
            w, h = target_size(media.video.width, media.video.height, spec.max_side)
            geometry[spec.name] = (fps, w, h)
            # round=up: the slot at t holds the last input frame at or before t, so a frame's index
            # time is the time it shows (the default round=near shows the frame up to half a slot
            # later: at 2 fps the frame labelled 2.0 s was the one at 2.233 s)
            chain = f"[v{i}]fps={fps:.6g}:round=up,scale={w}:{h}:flags=area"
            chain += ",format=gray" if spec.gray else ",format=yuvj420p"
            branches.append(chain + f"[o{i}]")
        cmd += ["-filter_complex", ";".join(branches)]
        for i, spec in enumerate(sets):
            out = wd.frames_dir(spec.name)
            out.mkdir(parents=True, exist_ok=True)
            writable.append(wd.rel(out))
            cmd += ["-map", f"[o{i}]", "-q:v", str(spec.quality), "-start_number", "1",
                    f"file:{wd.rel(out)}/%06d.jpg"]
    if with_audio:
        wd.audio().parent.mkdir(parents=True, exist_ok=True)
        writable.append(wd.rel(wd.audio().parent))
        cmd += ["-map", "0:a:0", "-vn", "-ac", "1", "-ar", str(AUDIO_RATE), "-c:a", "pcm_s16le",
                f"file:{wd.rel(wd.audio())}"]
    return MediaCall(argv=tuple(cmd), writable=tuple(writable), timeout_s=timeout_s), geometry


def _frame_files(folder: Path) -> list[str]:
    """The JPEGs ffmpeg wrote, read without following links: regular files only."""
    try:
        with os.scandir(folder) as it:
            return sorted(e.name for e in it if e.name.endswith(".jpg") and e.is_file(follow_symlinks=False))
    except FileNotFoundError:
        return []


def extract(wd: Workdir, admitted: Admitted, media: MediaInfo, sets: list[FrameSetSpec],
            with_audio: bool, media_exec: MediaExec | None = None, timeout_s: float = 1800) -> ExtractResult:
    t0 = time.monotonic()
    with_audio = with_audio and media.has_audio
    if not sets and not with_audio:
        return ExtractResult({}, None, 0.0, [])
    call, geometry = build_command(admitted, media, wd, sets, with_audio, timeout_s)
    res = (media_exec or HostMediaExec()).run(wd.root, call)
    if res.timed_out:
        raise ExtractionError(f"ffmpeg took longer than {timeout_s:.0f}s to decode {media.path}")
    errors = [ln for ln in res.stderr.splitlines() if _DECODE_ERRORS.search(ln)]
    if res.returncode != 0:
        tail = (res.stderr.strip().splitlines() or ["?"])[-1]
        raise InputError(media.path, f"ffmpeg could not decode it ({tail})")
    indexes: dict[str, FrameIndex] = {}
    for spec in sets:
        fps, w, h = geometry[spec.name]
        files = _past_the_end(wd.frames_dir(spec.name), _frame_files(wd.frames_dir(spec.name)), fps,
                              _video_end(media))
        entries = [FrameEntry(i=i, t=round(min(i / fps, media.duration_s), 4), file=name)
                   for i, name in enumerate(files)]
        index = FrameIndex(name=spec.name, fps=fps, width=w, height=h, gray=spec.gray, frames=entries)
        _write_new(wd.frame_index(spec.name), index.model_dump_json())
        indexes[spec.name] = index
        covered = len(files) / fps
        if errors and covered < 0.9 * media.duration_s:
            raise InputError(media.path, f"truncated or corrupt: decoded {covered:.1f}s of "
                                         f"{media.duration_s:.1f}s ({errors[0].strip()})")
        if not files:
            raise InputError(media.path, "no frame could be decoded")
    audio = wd.audio() if with_audio and _regular(wd.audio()) else None
    if audio is not None and errors and not sets:
        heard = (os.lstat(audio).st_size - 44) / (2 * AUDIO_RATE)
        if heard < 0.9 * media.duration_s:
            raise InputError(media.path, f"truncated or corrupt: decoded {heard:.1f}s of audio of "
                                         f"{media.duration_s:.1f}s ({errors[0].strip()})")
    warnings = [f"ffmpeg reported {len(errors)} decode error(s), e.g. {errors[0].strip()}"] if errors else []
    return ExtractResult(indexes, audio, round(time.monotonic() - t0, 4), warnings)


def _video_end(media: MediaInfo) -> float:
    """When the picture ends: its frame count over its rate where the container says (an audio
    track may run longer), else the duration."""
    v = media.video
    if v.frame_count and v.fps > 0:
        return min(media.duration_s, v.frame_count / v.fps)
    return media.duration_s


def _past_the_end(folder: Path, files: list[str], fps: float, duration_s: float) -> list[str]:
    """Drop slots at or after the end of the picture (round=up fills the slot at the end with the
    last frame): a 2 s clip at 2 fps has frames at 0, 0.5, 1, 1.5 s, as with the old rounding."""
    keep = [name for i, name in enumerate(files) if i / fps < duration_s - 1e-6] or files[:1]
    for name in files[len(keep):]:
        try:
            os.unlink(folder / name)  # unlink never follows a link
        except OSError:
            pass
    return keep


def _write_new(path: Path, text: str) -> None:
    """Write a runner file into a folder the decoder could write: whatever it left under that
    name (a symlink, a FIFO) is removed, never followed."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except IsADirectoryError:
        raise ExtractionError(f"the decoder left a folder named {path.name} in {path.parent}") from None
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False
