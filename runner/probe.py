"""ffprobe -> :class:`MediaInfo`, with one-line errors for bad input."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

from runner.errors import InputError, RunnerError
from shared_schema.media import AudioStream, MediaInfo, VideoStream

# Containers ffprobe reports for still images; a "video" that is one picture is refused.
_IMAGE_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "bmp_pipe", "webp_pipe", "gif_pipe", "tiff_pipe"}


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise RunnerError(f"{name} not found on PATH", fix="install it: apt-get install ffmpeg")
    return path


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _rate(value: str | None) -> float:
    try:
        r = Fraction(value or "0")
    except (ValueError, ZeroDivisionError):
        return 0.0
    return float(r) if r > 0 else 0.0


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _rotation(stream: dict) -> int:
    for sd in stream.get("side_data_list") or []:
        if "rotation" in sd:
            return int(round(float(sd["rotation"]))) % 360
    rot = (stream.get("tags") or {}).get("rotate")
    return int(rot) % 360 if rot and rot.lstrip("-").isdigit() else 0


def probe(path: Path | str, *, display_path: str | None = None) -> MediaInfo:
    """Describe a video file; raise :class:`InputError` (one line, exit 2) if it isn't one."""
    path = Path(path)
    shown = display_path or str(path)
    if not path.exists():
        raise InputError(shown, "no such file")
    if not path.is_file():
        raise InputError(shown, "not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise InputError(shown, "file is empty (0 bytes)")
    proc = subprocess.run(
        [require_tool("ffprobe"), "-v", "error", "-print_format", "json",
         "-show_format", "-show_streams", str(path)],
        capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or ["unknown error"])[-1]
        if str(path) in detail:
            detail = detail.split(": ", 1)[-1]
        raise InputError(shown, f"not a video ffmpeg can read ({detail})")
    data = json.loads(proc.stdout or "{}")
    fmt = data.get("format", {})
    streams = data.get("streams", [])
    vstreams = [s for s in streams if s.get("codec_type") == "video"
                and not (s.get("disposition") or {}).get("attached_pic")]
    if not vstreams:
        kinds = sorted({s.get("codec_type", "?") for s in streams}) or ["none"]
        raise InputError(shown, f"has no video stream (streams: {', '.join(kinds)})")
    if fmt.get("format_name") in _IMAGE_FORMATS:
        raise InputError(shown, f"is a still image ({fmt.get('format_name')}), not a video")
    v = vstreams[0]
    rotation = _rotation(v)
    cw, ch = int(v.get("width") or 0), int(v.get("height") or 0)
    if cw <= 0 or ch <= 0:
        raise InputError(shown, "video stream has no picture size (corrupt header?)")
    dw, dh = (ch, cw) if rotation in (90, 270) else (cw, ch)
    fps = _rate(v.get("avg_frame_rate")) or _rate(v.get("r_frame_rate"))
    duration = float(fmt.get("duration") or v.get("duration") or 0.0)
    if duration <= 0 or fps <= 0:
        raise InputError(shown, "video has no duration or frame rate (truncated or corrupt?)")
    a = next((s for s in streams if s.get("codec_type") == "audio"), None)
    audio = None
    if a is not None and _int(a.get("sample_rate")):
        audio = AudioStream(codec=a.get("codec_name", "?"), sample_rate=int(a["sample_rate"]),
                            channels=int(a.get("channels") or 1), bit_rate=_int(a.get("bit_rate")))
    return MediaInfo(
        path=shown, sha256=sha256_file(path), size_bytes=size,
        container=fmt.get("format_name", "?"), duration_s=round(duration, 4),
        bit_rate=_int(fmt.get("bit_rate")),
        video=VideoStream(codec=v.get("codec_name", "?"), width=dw, height=dh, coded_width=cw,
                          coded_height=ch, rotation=rotation, fps=round(fps, 4),
                          frame_count=_int(v.get("nb_frames")), pix_fmt=v.get("pix_fmt"),
                          bit_rate=_int(v.get("bit_rate"))),
        audio=audio,
    )
