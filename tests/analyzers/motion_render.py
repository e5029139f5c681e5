"""Render the clips of ``motion_set`` into the dense frames ``camera_analysis`` reads.

Each clip is first rendered as a master: a 720x1280 grey picture per frame for the photo and
moving-window clips (OpenCV warps of the photo or video frame; the mean of 8 instants across
the frame interval for the motion-blur clips), the video's own frames for the still-camera
video clips. From the master:

- ``raw``: area downscale to the dense size, a little sensor noise (1.2 grey levels), JPEG;
- ``h264``: sensor noise at full size (3 grey levels), libx264 (``veryfast``, one thread so the
  bytes are the same on every run) at the clip's bitrate (``Clip.mbps`` at 720x1280 and
  30 fps, scaled by pixels per second for other sizes and rates), decoded by ffmpeg with the
  runner's dense scaling (``scale=..:flags=area``, grey), then JPEG.

Needs OpenCV and numpy (the ``cpu`` analyzer environment) and ffmpeg.
"""
from __future__ import annotations

import hashlib
import math
import subprocess
import tempfile
import zlib
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np

from tests.analyzers.motion_set import Clip

MEDIA = Path(__file__).resolve().parents[3] / "shared" / "assets" / "media"
FPS = 30
SECONDS = 2.0
W, H = 108, 192  # the dense set of a 9:16 video: longest side 192
MW, MH = 720, 1280  # the master: a phone's 9:16 picture
DIAG = math.hypot(W, H)
JPEG_QUALITY = 88  # about ffmpeg -q:v 4, the dense set's quality
NOISE = 1.2  # grey levels at the dense size (raw)
NOISE_MASTER = 3.0  # grey levels at 720x1280 (h264)
BLUR_STEPS = 8  # instants averaged per frame for motion blur (a 360-degree shutter)
RENDER_VERSION = 1  # of the rendering as a whole: the --cache key (bump when it changes)
JITTER_VERSION = 2  # of the shaky-hand path (2: it ends where it starts)


class MemFrames:
    """The slice of ``analyzers.base.FrameSet`` that ``flow.estimate`` reads."""

    def __init__(self, frames: list[np.ndarray], fps: float):
        self._frames = frames
        self.index = SimpleNamespace(fps=fps)
        self.times = [round(i / fps, 4) for i in range(len(frames))]

    def __len__(self) -> int:
        return len(self._frames)

    def read(self, i: int) -> np.ndarray:
        return self._frames[i]


_CACHE: dict[str, np.ndarray] = {}


def _photo(name: str) -> np.ndarray:
    if name not in _CACHE:
        img = cv2.imread(str(MEDIA / name), cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise FileNotFoundError(MEDIA / name)
        _CACHE[name] = img.astype(np.float32)
    return _CACHE[name]


def _view(src: np.ndarray, cx: float, cy: float, s: float, theta: float) -> np.ndarray:
    """The camera's 720x1280 picture: centre (cx, cy) in source px, ``s`` source px per dense px,
    roll theta (radians; + turns the camera clockwise, so the picture turns counterclockwise)."""
    c, si = math.cos(theta), math.sin(theta)
    k = s * W / MW  # source px per master px
    # output (u, v) -> source: centre + R(theta) * k * (u - w/2, v - h/2)
    m = np.array([[k * c, -k * si, cx - k * (c * MW / 2 - si * MH / 2)],
                  [k * si, k * c, cy - k * (si * MW / 2 + c * MH / 2)]], np.float32)
    return cv2.warpAffine(src, m, (MW, MH), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


# ---- camera paths: functions of time -------------------------------------------------------------

def _jitter(rng: np.random.Generator, t_frames: np.ndarray, rms_pct: float):
    """A shaky hand that holds its framing: per axis three wobbles at 1.5-8 Hz, random phases, less
    the straight line from where they start to where they end over the clip (so the shot ends where
    it began: a net drift would be a pan), scaled so that the RMS over the clip's frames is
    ``rms_pct`` % of the dense diagonal; a function of time."""
    params = [(rng.uniform(1.5, 8.0, 3), rng.uniform(0.5, 1.0, 3), rng.uniform(0, 2 * math.pi, 3))
              for _ in range(2)]
    t0, t1 = float(t_frames[0]), float(t_frames[-1])

    def wobble(t: np.ndarray, f, a, ph) -> np.ndarray:
        return (a[:, None] * np.sin(2 * math.pi * f[:, None] * np.atleast_1d(t) + ph[:, None])).sum(0)

    def raw(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = []
        for f, a, ph in params:
            w0, w1 = wobble(t0, f, a, ph)[0], wobble(t1, f, a, ph)[0]
            out.append(wobble(t, f, a, ph) - (w0 + (w1 - w0) * (t - t0) / max(t1 - t0, 1e-9)))
        return tuple(out)

    jx, jy = raw(t_frames)
    scale = rms_pct / 100 * DIAG / math.sqrt((jx ** 2 + jy ** 2).mean())
    return lambda t: tuple(j * scale for j in raw(t))


def _move(label: str, v: float, t_frames: np.ndarray, rng: np.random.Generator):
    """t -> (dx, dy in dense px of the base view, zoom factor, roll radians) for one move."""
    centre = t_frames.mean()  # moves are centred on the source's middle
    sign = 1 if label in ("pan_right", "tilt_down", "zoom_in", "roll_cw") else -1
    shake = _jitter(rng, t_frames, v) if label == "handheld" else None

    def at(t: np.ndarray):
        z0, tc = np.zeros_like(t), t - centre
        if label.startswith("pan"):
            return sign * v * W * tc, z0, np.ones_like(t), z0
        if label.startswith("tilt"):
            return z0, sign * v * H * tc, np.ones_like(t), z0
        if label.startswith("zoom"):
            return z0, z0, np.exp(sign * v * tc), z0
        if label.startswith("roll"):
            return z0, z0, np.ones_like(t), np.radians(sign * v * tc)
        if shake is not None:
            dx, dy = shake(t)
            return dx, dy, np.ones_like(t), z0
        return z0, z0, np.ones_like(t), z0  # static
    return at


def _path(moves: list[tuple[str, float]], t_frames: np.ndarray, rng: np.random.Generator):
    """Several moves at once (compound): shifts and rolls add, zooms multiply."""
    parts = [_move(label, v, t_frames, rng) for label, v in moves]

    def at(t: np.ndarray):
        dx, dy, z, roll = np.zeros_like(t), np.zeros_like(t), np.ones_like(t), np.zeros_like(t)
        for p in parts:
            a, b, c, d = p(t)
            dx, dy, z, roll = dx + a, dy + b, z * c, roll + d
        return dx, dy, z, roll
    return at


def _scale_to_fit(path, t: np.ndarray, pw: int, ph: int) -> float:
    """The largest source px per dense px that keeps the whole path inside the source."""
    dx, dy, z, roll = path(t)
    half_w = np.abs(dx).max() + W / 2 / z.min()
    half_h = np.abs(dy).max() + H / 2 / z.min()
    if np.abs(roll).max() > 0:
        r = DIAG / 2 / z.min()
        half_w, half_h = np.abs(dx).max() + r, np.abs(dy).max() + r
    return 0.98 * min(pw / 2 / half_w, ph / 2 / half_h)


def _render_path(src_at, path, n: int, fps: float, blur: bool) -> list[np.ndarray]:
    """Master frames along ``path``; ``src_at(i)`` is the source picture of frame i."""
    t = np.arange(n) / fps
    ph, pw = src_at(0).shape
    s = _scale_to_fit(path, np.linspace(-0.5 / fps, t[-1] + 0.5 / fps, 4 * n), pw, ph)
    out = []
    for i in range(n):
        ts = (t[i] + (np.arange(BLUR_STEPS) + 0.5 - BLUR_STEPS / 2) / (BLUR_STEPS * fps)
              if blur else t[i:i + 1])
        dx, dy, z, roll = path(ts)
        acc = sum(_view(src_at(i), pw / 2 + dx[k] * s, ph / 2 + dy[k] * s, s / z[k], roll[k])
                  for k in range(len(ts)))
        out.append(np.clip(acc / len(ts), 0, 255).astype(np.uint8))
    return out


def _read_video(name: str, t0: float, seconds: float) -> tuple[list[np.ndarray], float]:
    """Grey frames of a real video from ``t0`` (decoded by ffmpeg, as the runner's extraction is:
    OpenCV's own reader stops early on tree.avi)."""
    cap = cv2.VideoCapture(str(MEDIA / name))
    fps, w, h = (cap.get(p) for p in (cv2.CAP_PROP_FPS, cv2.CAP_PROP_FRAME_WIDTH,
                                      cv2.CAP_PROP_FRAME_HEIGHT))
    cap.release()
    w, h = int(w), int(h)
    raw = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-ss", f"{t0}",
                          "-i", str(MEDIA / name), "-t", f"{seconds}", "-f", "rawvideo",
                          "-pix_fmt", "gray", "-"], check=True, capture_output=True).stdout
    n = len(raw) // (w * h)
    return list(np.frombuffer(raw[:n * w * h], np.uint8).reshape(n, h, w)), min(fps, 30.0)


def _big(clip: Clip, rng) -> list[np.ndarray]:
    """A still (or, for ``track``, right-panning) camera over a photo with a subject from another
    photo covering ``share`` of the frame: crossing, swaying, or held in frame while the camera pans."""
    a = clip.args
    n = int(round(SECONDS * FPS))
    t = np.arange(n) / FPS
    bg, fg = _photo(a["bg"]), _photo(a["fg"])
    cam = _path([("pan_right", a["v"])] if a["action"] == "track" else [("static", 0.0)], t, rng)
    frames = _render_path(lambda i: bg, cam, n, FPS, False)
    side = math.sqrt(a["share"])  # a subject share x share of the frame: sw x sh at 720x1280
    sw, sh = int(round(side * MW)), int(round(side * MH))
    fph, fpw = fg.shape
    crop = fg[fph // 8: 7 * fph // 8, fpw // 8: 7 * fpw // 8]
    patch = cv2.resize(crop, (sw, sh), interpolation=cv2.INTER_AREA).astype(np.uint8)
    for i, img in enumerate(frames):
        if a["action"] == "cross":
            x = a["v"] * MW * (t[i] - SECONDS / 2) + (MW - sw) / 2
        elif a["action"] == "sway":  # side to side, +-v frame widths at 0.7 Hz (a talking head)
            x = a["v"] * MW * math.sin(2 * math.pi * 0.7 * t[i]) + (MW - sw) / 2
        else:  # track: the subject stays where it is on screen while the camera pans
            x = (MW - sw) / 2
        x, y = int(round(x)), (MH - sh) // 2
        lo, hi = max(0, x), min(MW, x + sw)
        if hi > lo:
            img[y:y + sh, lo:hi] = patch[:, lo - x:hi - x]
    return frames


def _subject(clip: Clip, rng) -> list[np.ndarray]:
    """A still camera over a photo while a cut-out of another photo (a quarter of the frame)
    crosses it at ``v`` frame widths per second."""
    args = {"bg": clip.args["bg"], "fg": clip.args["fg"], "share": 0.25, "action": "cross",
            "v": clip.args["v"]}
    return _big(Clip(clip.label, None, clip.source, clip.split, kind="big", args=args), rng)


def master(clip: Clip) -> tuple[list[np.ndarray], float]:
    """The clip's full-size grey frames and their rate."""
    rng = np.random.default_rng(zlib.crc32(clip.base_id.encode()))
    a = clip.args
    if clip.kind == "video_static":
        return _read_video(a["file"], a["t0"], 3.0)
    if clip.kind == "video_move":
        raw, fps = _read_video(a["file"], a["t0"], 3.0)
        path = _path([(clip.label, clip.speed)], np.arange(len(raw)) / fps, rng)
        return _render_path(lambda i: raw[i].astype(np.float32), path, len(raw), fps, False), fps
    if clip.kind == "subject":
        return _subject(clip, rng), FPS
    if clip.kind == "big":
        return _big(clip, rng), FPS
    n = int(round(SECONDS * FPS))
    t = np.arange(n) / FPS
    if "moves" in a:
        moves = [tuple(m) for m in a["moves"]]
    else:
        moves = [(a.get("move", clip.label), a.get("v", clip.speed or 0.0))]
    src = _photo(a.get("photo", clip.source))
    return _render_path(lambda i: src, _path(moves, t, rng), n, FPS, bool(a.get("blur"))), FPS


def _dense_size(w: int, h: int) -> tuple[int, int]:
    k = 192 / max(w, h)
    return int(round(w * k)), int(round(h * k))


def _jpeg(img: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])[1].tobytes()


def _decode(jpegs: list[bytes]) -> list[np.ndarray]:
    return [cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_GRAYSCALE) for b in jpegs]


def dense_raw(frames: list[np.ndarray], rng: np.random.Generator, noise: bool) -> list[bytes]:
    h, w = frames[0].shape
    size = _dense_size(w, h)
    out = []
    for img in frames:
        small = cv2.resize(img.astype(np.float32), size, interpolation=cv2.INTER_AREA)
        if noise:  # real footage has its own noise, and its repeated frames stay repeated
            small = small + NOISE * rng.standard_normal(small.shape, np.float32)
        out.append(_jpeg(np.clip(small, 0, 255).astype(np.uint8)))
    return out


def dense_h264(frames: list[np.ndarray], fps: float, mbps: float, rng: np.random.Generator,
               noise: bool) -> list[bytes]:
    """Encode at a phone bitrate, decode, downscale as the runner's dense extraction does."""
    h, w = frames[0].shape
    rate = mbps * 1e6 * (w * h * fps) / (MW * MH * 30)  # the same bits per pixel as mbps at 720x1280@30
    data = np.stack(frames).astype(np.float32)
    if noise:
        data += NOISE_MASTER * rng.standard_normal(data.shape, np.float32)
    raw = np.clip(data, 0, 255).astype(np.uint8).tobytes()
    dw, dh = _dense_size(w, h)
    with tempfile.TemporaryDirectory(prefix="motion_h264_") as tmp:
        video = Path(tmp) / "clip.mp4"
        subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-f", "rawvideo",
                        "-pix_fmt", "gray", "-s", f"{w}x{h}", "-r", f"{fps:g}", "-i", "-",
                        "-c:v", "libx264", "-preset", "veryfast", "-threads", "1", "-g", f"{int(fps)}",
                        "-b:v", f"{rate:.0f}", "-maxrate", f"{rate:.0f}", "-bufsize", f"{2 * rate:.0f}",
                        "-pix_fmt", "yuv420p", str(video)], input=raw, check=True, capture_output=True)
        out = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-threads", "1",
                              "-i", str(video), "-vf", f"scale={dw}:{dh}:flags=area,format=gray",
                              "-f", "rawvideo", "-"], check=True, capture_output=True).stdout
    n = len(out) // (dw * dh)
    return [_jpeg(f) for f in np.frombuffer(out[:n * dw * dh], np.uint8).reshape(n, dh, dw)]


def render(clips: list[Clip], cache: Path | None = None) -> dict[str, MemFrames]:
    """Clip id -> its dense frames; clips that share a base (raw and h264) share one master.

    ``cache``: a folder that keeps each clip's JPEG frames between runs, keyed by the clip and
    this module's and the set's source (a change to either renders again)."""
    out: dict[str, MemFrames] = {}
    by_base: dict[str, list[Clip]] = {}
    for c in clips:
        by_base.setdefault(c.base_id, []).append(c)
    for group in by_base.values():
        todo = []
        for c in group:
            hit = _cached(cache, c)
            if hit is not None:
                out[c.id] = MemFrames(_decode(hit[0]), hit[1])
            else:
                todo.append(c)
        if not todo:
            continue
        frames, fps = master(todo[0])
        noise = todo[0].kind != "video_static"
        for c in todo:
            rng = np.random.default_rng(zlib.crc32(c.id.encode()))
            jpegs = (dense_raw(frames, rng, noise) if c.variant == "raw"
                     else dense_h264(frames, fps, c.mbps, rng, noise))
            if cache is not None:
                with _cache_path(cache, c).open("wb") as f:  # no pickle: lengths and bytes
                    np.savez(f, fps=fps, lens=np.array([len(b) for b in jpegs]),
                             data=np.frombuffer(b"".join(jpegs), np.uint8))
            out[c.id] = MemFrames(_decode(jpegs), fps)
    return out


def _cache_path(cache: Path, clip: Clip) -> Path:
    # the clip (its id and arguments) and the version of how it is rendered: bump RENDER_VERSION (or
    # JITTER_VERSION for the shaky-hand path alone) when rendering changes; the stored statistics are
    # checked against the whole source anyway (camera_calibration.digest)
    shaky = "handheld" in clip.truth or "handheld" in repr(clip.args)
    key = hashlib.sha256(f"{RENDER_VERSION}:{JITTER_VERSION if shaky else 0}:{clip.id}:"
                         f"{sorted(clip.args.items())}".encode()).hexdigest()[:32]
    cache.mkdir(parents=True, exist_ok=True)
    return cache / f"{key}.npz"


def _cached(cache: Path | None, clip: Clip) -> tuple[list[bytes], float] | None:
    if cache is None or not _cache_path(cache, clip).is_file():
        return None
    with np.load(_cache_path(cache, clip), allow_pickle=False) as z:
        data, ends = z["data"].tobytes(), np.cumsum(z["lens"])
        return [data[a:b] for a, b in zip(np.r_[0, ends[:-1]], ends)], float(z["fps"])
