"""The camera-motion calibration set: short clips of real footage with a known camera move.

Every clip is what ``camera_analysis`` reads: the ``dense`` frame set (grey, longest side
192 px, JPEG), here made in memory. Camera moves are rendered from the real photos in
``../shared/assets/media`` (a virtual camera over the photo: OpenCV warps at twice the
size, then an area downscale, a little sensor noise and JPEG), and over the real fixed-camera
street footage ``vtest.avi`` (people walking through the picture while the camera moves).
Static shots with moving subjects are real videos with a still camera (``vtest.avi``:
walkers; ``tree.avi``: leaves in the wind and a hand near the lens) and a photo with a
moving cut-out crossing it.

Each motion is made at several speeds, from barely visible to fast (``SPEEDS``). The set is
split by source: the ``calib`` half (bus.jpg, scenetext01.jpg, the first parts of the
videos) chooses the thresholds (``camera_calibration.py``), the ``held_out`` half
(zidane.jpg, scenetext02.jpg, later parts of the videos) checks them (``test_camera_calibration.py``).

Rendering needs OpenCV and numpy (the ``cpu`` analyzer environment); ``clips()`` is plain data,
so the core test environment can list the clips (test ids) and run ``camera_calibration.py``
in the cpu environment.
"""
from __future__ import annotations

import math
import subprocess
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

try:  # the clip list is plain data; rendering needs the cpu analyzer environment
    import cv2
    import numpy as np
except ImportError:  # the core test environment: clips() works, render() does not
    cv2 = np = None

MEDIA = Path(__file__).resolve().parents[3] / "shared" / "assets" / "media"
FPS = 30
SECONDS = 2.0
W, H = 108, 192  # the dense set of a 9:16 video: longest side 192
DIAG = math.hypot(W, H)
JPEG_QUALITY = 88  # about ffmpeg -q:v 4, the dense set's quality
NOISE = 1.2  # grey levels of sensor/codec noise, so no two frames are identical

#: speed ladders, barely visible first; units as in the result: pan/tilt in frame widths/heights
#: per second, zoom in log scale per second (0.03 = 3 %/s), roll in degrees per second, handheld
#: as the RMS of the jitter in % of the frame diagonal
SPEEDS: dict[str, tuple[float, ...]] = {
    "pan": (0.03, 0.06, 0.15, 0.4),
    "tilt": (0.03, 0.06, 0.15, 0.4),
    "zoom": (0.03, 0.045, 0.1, 0.25),
    "roll": (3.0, 8.0, 20.0, 45.0),
    "handheld": (0.3, 0.6, 1.2, 2.5),
}
PHOTOS = {"calib": ("bus.jpg", "scenetext01.jpg"), "held_out": ("zidane.jpg", "scenetext02.jpg")}


@dataclass(frozen=True)
class Clip:
    label: str  # the truth
    speed: float | None  # in the label's unit (None for static shots)
    source: str  # photo or video file (and part)
    split: str  # "calib" or "held_out"
    kind: str = "photo"  # photo | video_move | video_static | subject | still
    args: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def id(self) -> str:
        speed = "" if self.speed is None else f"-{self.speed:g}"
        return f"{self.label}{speed}-{self.source}"


class MemFrames:
    """The slice of ``analyzers.base.FrameSet`` that ``_camera_flow.estimate`` reads."""

    def __init__(self, frames: list[np.ndarray], fps: float):
        self._frames = frames
        self.index = SimpleNamespace(fps=fps)
        self.times = [round(i / fps, 4) for i in range(len(frames))]

    def __len__(self) -> int:
        return len(self._frames)

    def read(self, i: int) -> np.ndarray:
        return self._frames[i]


def clips(split: str | None = None) -> list[Clip]:
    """The whole set (or one split), in a fixed order."""
    out: list[Clip] = []
    for sp, photos in PHOTOS.items():
        for photo in photos:
            for family, speeds in SPEEDS.items():
                dirs = {"pan": ("pan_left", "pan_right"), "tilt": ("tilt_up", "tilt_down"),
                        "zoom": ("zoom_in", "zoom_out"), "roll": ("roll_cw", "roll_ccw"),
                        "handheld": ("handheld",)}[family]
                for label in dirs:
                    for v in speeds:
                        out.append(Clip(label, v, photo, sp))
            out.append(Clip("static", None, photo, sp, kind="still"))
            # a drift a fifth of the slowest speed: no viewer calls it a move over a short shot
            for move, v in (("pan_right", 0.006), ("tilt_down", 0.006), ("zoom_in", 0.006),
                            ("roll_ccw", 0.6), ("handheld", 0.06)):
                out.append(Clip("static", None, f"{photo}-drift-{move}{v:g}", sp,
                                args={"photo": photo, "move": move, "v": v}))
    # the real street video: fixed camera, people walking; the camera moves added by a moving crop
    for sp, t0 in (("calib", 2.0), ("held_out", 40.0)):
        for label, v in (("pan_right", 0.06), ("pan_left", 0.15), ("tilt_up", 0.06),
                         ("zoom_in", 0.045), ("zoom_out", 0.1), ("handheld", 0.6)):
            out.append(Clip(label, v, f"vtest.avi@{t0:g}s", sp, kind="video_move", args={"t0": t0}))
    # static camera, moving subjects
    # (tree.avi from 27 s: a hand sweeps past the lens over the still background)
    for sp, parts in (("calib", ((("vtest.avi", 10.0), ("vtest.avi", 25.0), ("tree.avi", 3.0),
                                   ("tree.avi", 10.0), ("tree.avi", 27.0)))),
                      ("held_out", ((("vtest.avi", 50.0), ("vtest.avi", 65.0), ("tree.avi", 17.0),
                                     ("tree.avi", 24.0))))):
        for name, t0 in parts:
            out.append(Clip("static", None, f"{name}@{t0:g}s", sp, kind="video_static",
                            args={"file": name, "t0": t0}))
    for sp, (bg, fg) in (("calib", ("scenetext01.jpg", "bus.jpg")),
                         ("held_out", ("scenetext02.jpg", "zidane.jpg"))):
        for v in (0.1, 0.3, 1.0):  # the subject crosses at 0.1 to 1 frame widths per second
            out.append(Clip("static", None, f"{bg}+{fg}-subject{v:g}", sp, kind="subject",
                            args={"bg": bg, "fg": fg, "v": v}))
    return [c for c in out if split is None or c.split == split]


# ---- rendering -------------------------------------------------------------------------------

_CACHE: dict[str, np.ndarray] = {}


def _photo(name: str) -> np.ndarray:
    if name not in _CACHE:
        img = cv2.imread(str(MEDIA / name), cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise FileNotFoundError(MEDIA / name)
        _CACHE[name] = img.astype(np.float32)
    return _CACHE[name]


def _finish(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Area downscale to the dense size, sensor noise, JPEG round trip."""
    if img.shape[:2] != (H, W):
        img = cv2.resize(img, (W, H), interpolation=cv2.INTER_AREA)
    img = np.clip(img + rng.normal(0, NOISE, img.shape), 0, 255).astype(np.uint8)
    _, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)


def _view(src: np.ndarray, cx: float, cy: float, s: float, theta: float, ss: int = 2) -> np.ndarray:
    """The camera's picture: centre (cx, cy) in source px, s source px per output px, roll theta
    (radians; + turns the camera clockwise, so the picture turns counterclockwise)."""
    w, h = W * ss, H * ss
    c, si = math.cos(theta), math.sin(theta)
    k = s / ss
    # output (u, v) -> source: centre + R(theta) * k * (u - w/2, v - h/2)
    m = np.array([[k * c, -k * si, cx - k * (c * w / 2 - si * h / 2)],
                  [k * si, k * c, cy - k * (si * w / 2 + c * h / 2)]], np.float32)
    return cv2.warpAffine(src, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def _jitter(rng: np.random.Generator, t: np.ndarray, rms_pct: float) -> tuple[np.ndarray, np.ndarray]:
    """A shaky hand: per axis three wobbles at 1.5-8 Hz, random phases, scaled to the RMS (output px)."""
    out = []
    for _ in range(2):
        f = rng.uniform(1.5, 8.0, 3)
        a = rng.uniform(0.5, 1.0, 3)
        ph = rng.uniform(0, 2 * math.pi, 3)
        out.append((a[:, None] * np.sin(2 * math.pi * f[:, None] * t + ph[:, None])).sum(0))
    jx, jy = out
    scale = rms_pct / 100 * DIAG / math.sqrt((jx ** 2 + jy ** 2).mean())
    return jx * scale, jy * scale


def _path(label: str, v: float, t: np.ndarray, rng: np.random.Generator):
    """Per-frame (dx, dy) in output px of the base view, zoom factor, roll (radians)."""
    n = len(t)
    dx, dy, z, roll = np.zeros(n), np.zeros(n), np.ones(n), np.zeros(n)
    tc = t - t.mean()  # moves are centred on the source's middle
    if label.startswith("pan"):
        dx = (1 if label == "pan_right" else -1) * v * W * tc
    elif label.startswith("tilt"):
        dy = (1 if label == "tilt_down" else -1) * v * H * tc
    elif label.startswith("zoom"):
        z = np.exp((1 if label == "zoom_in" else -1) * v * tc)
    elif label.startswith("roll"):
        roll = np.radians((1 if label == "roll_cw" else -1) * v * tc)
    elif label == "handheld":
        dx, dy = _jitter(rng, t, v)
    return dx, dy, z, roll


def render(clip: Clip) -> MemFrames:
    rng = np.random.default_rng(zlib.crc32(clip.id.encode()))
    if clip.kind == "video_static":
        return _video(clip.args["file"], clip.args["t0"], rng)
    if clip.kind == "video_move":
        return _video_move(clip, rng)
    if clip.kind == "subject":
        return _subject(clip, rng)
    src = _photo(clip.args.get("photo", clip.source))
    n = int(round(SECONDS * FPS))
    t = np.arange(n) / FPS
    move = clip.args.get("move", clip.label if clip.kind == "photo" else "static")
    dx, dy, z, roll = _path(move, clip.args.get("v", clip.speed or 0.0), t, rng)
    # the largest source px per output px that keeps the whole path inside the photo
    ph, pw = src.shape
    half_w = np.abs(dx).max() + W / 2 / z.min() * 1.0
    half_h = np.abs(dy).max() + H / 2 / z.min()
    if np.abs(roll).max() > 0:
        r = DIAG / 2 / z.min()
        half_w = half_h = r
    s = 0.98 * min(pw / 2 / half_w, ph / 2 / half_h)
    frames = []
    for i in range(n):
        sc = s / z[i]
        frames.append(_finish(_view(src, pw / 2 + dx[i] * s, ph / 2 + dy[i] * s, sc, roll[i]), rng))
    return MemFrames(frames, FPS)


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
    frames = np.frombuffer(raw[:n * w * h], np.uint8).reshape(n, h, w).astype(np.float32)
    return list(frames), min(fps, 30.0)


def _video(name: str, t0: float, rng) -> MemFrames:
    """A still camera: the whole picture, scaled like the dense set (longest side 192)."""
    raw, fps = _read_video(name, t0, 3.0)
    h, w = raw[0].shape
    k = 192 / max(h, w)
    size = (int(round(w * k)), int(round(h * k)))
    frames = []
    for img in raw:
        # no added noise: the footage has its own, and its repeated frames stay repeated
        img = np.clip(cv2.resize(img, size, interpolation=cv2.INTER_AREA), 0, 255).astype(np.uint8)
        _, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        frames.append(cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE))
    return MemFrames(frames, fps)


def _video_move(clip: Clip, rng) -> MemFrames:
    """A camera move over the street video (10 fps): a moving 9:16 window over each frame."""
    raw, fps = _read_video("vtest.avi", clip.args["t0"], 3.0)
    t = np.arange(len(raw)) / fps
    dx, dy, z, roll = _path(clip.label, clip.speed, t, rng)
    ph, pw = raw[0].shape
    half_w = np.abs(dx).max() + W / 2 / z.min()
    half_h = np.abs(dy).max() + H / 2 / z.min()
    s = 0.98 * min(pw / 2 / half_w, ph / 2 / half_h)
    frames = [_finish(_view(img, pw / 2 + dx[i] * s, ph / 2 + dy[i] * s, s / z[i], roll[i]), rng)
              for i, img in enumerate(raw)]
    return MemFrames(frames, fps)


def _subject(clip: Clip, rng) -> MemFrames:
    """A still camera over a photo while a cut-out of another photo (a quarter of the frame)
    crosses it at ``v`` frame widths per second."""
    bg, fg = _photo(clip.args["bg"]), _photo(clip.args["fg"])
    n = int(round(SECONDS * FPS))
    ph, pw = bg.shape
    s = 0.98 * min(pw / W, ph / H)
    base = _view(bg, pw / 2, ph / 2, s, 0.0)  # at 2x
    sh, sw = base.shape[0] // 2, base.shape[1] // 2
    fph, fpw = fg.shape
    patch = cv2.resize(fg[fph // 4: 3 * fph // 4, fpw // 4: 3 * fpw // 4], (sw, sh),
                       interpolation=cv2.INTER_AREA)
    frames = []
    for i in range(n):
        img = base.copy()
        x = int(round((clip.args["v"] * W * 2) * (i / FPS - SECONDS / 2) + (base.shape[1] - sw) / 2))
        y = (base.shape[0] - sh) // 2
        a, b = max(0, x), min(base.shape[1], x + sw)
        if b > a:
            img[y:y + sh, a:b] = patch[:, a - x:b - x]
        frames.append(_finish(img, rng))
    return MemFrames(frames, FPS)
