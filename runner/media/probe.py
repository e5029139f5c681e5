"""ffprobe (through a :class:`MediaExec`, on the admitted copy) -> :class:`MediaInfo`, with one-line
errors for bad input and the caps of :class:`runner.media.admit.Limits` checked."""
from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

from runner.media.admit import Admitted, Limits, admit, check_media
from runner.core.errors import AdmissionError, InputError
from runner.media.tools import HostMediaExec, MediaCall, MediaExec, input_args
from shared_schema.media import AudioStream, MediaInfo, VideoStream
from shared_schema.paths import Workdir

# Containers ffprobe reports for still images; a "video" that is one picture is refused.
_IMAGE_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "bmp_pipe", "webp_pipe", "gif_pipe", "tiff_pipe"}


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


def probe_call(admitted: Admitted) -> MediaCall:
    return MediaCall(argv=("ffprobe", "-v", "error", *input_args(admitted.rel, admitted.demuxer),
                           "-print_format", "json", "-show_format", "-show_streams"), timeout_s=120)


def probe(wd: Workdir, admitted: Admitted, media_exec: MediaExec | None = None,
          limits: Limits | None = None) -> MediaInfo:
    """Describe the admitted copy (``wd``/``admitted.rel``) through ``media_exec``; raise
    :class:`InputError` (one line, exit 2) if it isn't a video or exceeds ``limits``."""
    shown = admitted.display
    limits = limits or Limits()
    res = (media_exec or HostMediaExec()).run(wd.root, probe_call(admitted))
    if res.timed_out:
        raise InputError(shown, "ffprobe took too long to read it (corrupt or hostile header?)")
    if res.returncode != 0:
        detail = (res.stderr.strip().splitlines() or ["unknown error"])[-1]
        detail = detail.replace(f"file:{admitted.rel}: ", "")
        raise InputError(shown, f"not a video ffmpeg can read ({detail})")
    try:
        data = json.loads(res.stdout or "{}")
    except ValueError:
        raise InputError(shown, "ffprobe's description of it is unreadable (too many streams?)") from None
    fmt = data.get("format", {})
    streams = data.get("streams", [])
    if len(streams) > limits.max_streams or int(fmt.get("nb_streams") or 0) > limits.max_streams:
        raise AdmissionError(shown, "too_many_streams", f"has {max(len(streams), int(fmt.get('nb_streams') or 0))} "
                             f"streams, over the {limits.max_streams} cap", fix="raise RUNNER_MAX_STREAMS if intended")
    media = _describe(shown, admitted, fmt, streams)
    check_media(media, limits, shown)
    return media


def _describe(shown: str, admitted: Admitted, fmt: dict, streams: list[dict]) -> MediaInfo:
    vstreams = [s for s in streams if s.get("codec_type") == "video"
                and not (s.get("disposition") or {}).get("attached_pic")]
    if not vstreams:
        kinds = sorted({s.get("codec_type", "?") for s in streams}) or ["none"]
        raise InputError(shown, f"has no video stream (streams: {', '.join(kinds)})")
    if fmt.get("format_name") in _IMAGE_FORMATS:
        raise InputError(shown, f"is a still image ({fmt.get('format_name')}), not a video")
    v = vstreams[0]
    rotation = _rotation(v)
    cw, ch = _int(v.get("width")) or 0, _int(v.get("height")) or 0
    if cw <= 0 or ch <= 0:
        raise InputError(shown, "video stream has no picture size (corrupt header?)")
    dw, dh = (ch, cw) if rotation in (90, 270) else (cw, ch)
    fps = _rate(v.get("avg_frame_rate")) or _rate(v.get("r_frame_rate"))
    try:
        duration = float(fmt.get("duration") or v.get("duration") or 0.0)
    except ValueError:
        duration = 0.0
    if duration <= 0 or fps <= 0:
        raise InputError(shown, "video has no duration or frame rate (truncated or corrupt?)")
    a = next((s for s in streams if s.get("codec_type") == "audio"), None)
    audio = None
    if a is not None and _int(a.get("sample_rate")):
        audio = AudioStream(codec=a.get("codec_name", "?"), sample_rate=int(a["sample_rate"]),
                            channels=_int(a.get("channels")) or 1, bit_rate=_int(a.get("bit_rate")))
    return MediaInfo(
        path=shown, sha256=admitted.sha256, size_bytes=admitted.size_bytes,
        container=fmt.get("format_name", "?"), duration_s=round(duration, 4),
        bit_rate=_int(fmt.get("bit_rate")),
        video=VideoStream(codec=v.get("codec_name", "?"), width=dw, height=dh, coded_width=cw,
                          coded_height=ch, rotation=rotation, fps=round(fps, 4),
                          frame_count=_int(v.get("nb_frames")), pix_fmt=v.get("pix_fmt"),
                          bit_rate=_int(v.get("bit_rate"))),
        audio=audio,
    )


def probe_file(path: Path | str, workdir: Path, *, limits: Limits | None = None,
               media_exec: MediaExec | None = None, display: str | None = None) -> tuple[Admitted, MediaInfo]:
    """Admit ``path`` into the (new or empty) ``workdir`` and probe the copy: ``runner plan`` and tests."""
    wd = Workdir(Path(workdir))
    admitted = admit(path, wd.input_dir, limits, display or str(path))
    return admitted, probe(wd, admitted, media_exec, limits)
