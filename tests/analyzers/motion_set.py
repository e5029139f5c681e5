"""The camera-motion calibration set: which clips, and the truth of each (plain data).

Every clip is a short shot of real footage with a known camera move, rendered by
``motion_render.py`` into what ``camera_analysis`` reads (the ``dense`` frame set: grey,
longest side 192 px, JPEG). Camera moves are a virtual camera over the real photos in
``../shared/assets/media`` and over the real videos ``tree.avi`` (leaves in the wind, a hand
near the lens) and ``vtest.avi`` (a street, people walking); static shots are still photos,
those videos' own still-camera footage, and photos with a cut-out subject crossing them.

Conditions (``Clip.cond``):

- ``ladder``: each move at 4 speeds from barely visible to fast (``SPEEDS``), ``still``;
- ``drift``: a move at a fifth of the slowest speed (truth: static);
- ``intermediate``: each move at 0.6-1.6 times the speed the truth calls a move
  (``LABEL_MIN``): the static/move boundary itself, so a threshold in the wrong place shows;
- ``compound``: pan + zoom and tilt + pan at once (truth: both labels);
- ``big_subject``: a subject covering 55-70 % of the frame, crossing or swaying in front of a
  still camera (static), or held in frame while the camera pans (a tracking shot: a pan);
- ``blur``: fast moves and shake with a 360-degree shutter (each frame the mean of 8
  instants across its interval);
- ``subject``: a quarter-frame cut-out crossing a still photo (static);
- ``video_move`` / ``video_static``: moves over real footage, and that footage still;

and every clip twice (``Clip.variant``): ``raw`` (rendered, area-downscaled, sensor noise,
JPEG) and ``h264``: encoded by libx264 at a phone bitrate (2, 3 or 4 Mbit/s at 720x1280
and 30 fps, the same bits per pixel at other sizes and rates), decoded and downscaled as the
runner's extraction does.

The truth of a move is a convention, stated here: a move is labelled from ``LABEL_MIN`` (half
the slowest ``SPEEDS`` entry: the picture slides 1.5 % of its width per second, 3 % over a 2 s
shot; zooms 1.5 %/s; rolls 1.5 deg/s; shake 0.15 % of the diagonal); slower is static.

Split by source, no source in both halves: ``calib`` (bus.jpg, scenetext01.jpg, tree.avi)
chooses the thresholds (``camera_calibration.py``), ``held_out`` (zidane.jpg, scenetext02.jpg,
vtest.avi) checks them. ``clips()`` needs nothing but the standard library.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace

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
#: the truth's static/move boundary per family: half the slowest ladder speed (a convention)
LABEL_MIN = {family: speeds[0] / 2 for family, speeds in SPEEDS.items()}
#: intermediate speeds, as multiples of LABEL_MIN (under 1: static)
INTERMEDIATE = (0.6, 0.8, 0.9, 1.1, 1.25, 1.6)
#: fast moves for the motion-blur clips
BLUR_SPEEDS = {"pan": (0.15, 0.4, 1.0), "tilt": (0.15, 0.4, 1.0), "zoom": (0.1, 0.25, 0.6),
               "roll": (20.0, 45.0, 90.0), "handheld": (1.2, 2.5, 4.0)}
DIRECTIONS = {"pan": ("pan_left", "pan_right"), "tilt": ("tilt_up", "tilt_down"),
              "zoom": ("zoom_in", "zoom_out"), "roll": ("roll_cw", "roll_ccw"), "handheld": ("handheld",)}
COMPOUND = {  # (move, speed) pairs; directions turn with the clip's index
    "pan+zoom": ((("pan", 0.06), ("zoom", 0.1)), (("pan", 0.15), ("zoom", 0.045)),
                 (("pan", 0.4), ("zoom", 0.1)), (("pan", 0.03), ("zoom", 0.25)),
                 (("pan", 0.15), ("zoom", 0.25))),
    "tilt+pan": ((("tilt", 0.06), ("pan", 0.15)), (("tilt", 0.15), ("pan", 0.06)),
                 (("tilt", 0.4), ("pan", 0.15)), (("tilt", 0.03), ("pan", 0.4)),
                 (("tilt", 0.15), ("pan", 0.15))),
}
PHOTOS = {"calib": ("bus.jpg", "scenetext01.jpg"), "held_out": ("zidane.jpg", "scenetext02.jpg")}
VIDEO = {"calib": "tree.avi", "held_out": "vtest.avi"}
#: where the moving-camera and still-camera clips start in each video (s)
VIDEO_MOVE_T0 = {"tree.avi": (3.0, 17.0), "vtest.avi": (2.0, 40.0)}
VIDEO_STATIC_T0 = {"tree.avi": (3.0, 10.0, 17.0, 24.0, 27.0),  # 27 s: a hand sweeps past the lens
                   "vtest.avi": (10.0, 25.0, 50.0, 65.0, 72.0)}
VIDEO_MOVES = (("pan_right", 0.06), ("pan_left", 0.15), ("tilt_up", 0.06), ("zoom_in", 0.045),
               ("zoom_out", 0.1), ("handheld", 0.6))
#: big subjects: (share of the frame it covers, what it does); the camera pans in "track"
BIG_SHARES = (0.55, 0.7)
BIG_ACTIONS = (("cross", 0.1), ("cross", 0.3), ("sway", 0.05), ("track", 0.06), ("track", 0.15))
H264_MBPS = (2.0, 3.0, 4.0)


@dataclass(frozen=True)
class Clip:
    label: str  # the truth's dominant label
    speed: float | None  # the dominant move's speed in its unit (None for static shots)
    source: str  # photo or video file (and part)
    split: str  # "calib" or "held_out"
    kind: str = "photo"  # how it is rendered: photo | video_move | video_static | subject | big
    cond: str = "ladder"  # the condition it belongs to (module doc)
    truth: tuple[str, ...] = ()  # every label the truth holds (defaults to (label,))
    variant: str = "raw"  # raw | h264
    args: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self):
        if not self.truth:
            object.__setattr__(self, "truth", (self.label,))

    @property
    def base_id(self) -> str:
        """The clip without its variant: the raw and the h264 clip share it (and its rendering)."""
        speed = "" if self.speed is None else f"-{self.speed:g}"
        extra = "+".join(self.truth[1:])
        return f"{self.cond}:{self.label}{speed}{'+' + extra if extra else ''}-{self.source}"

    @property
    def id(self) -> str:
        return self.base_id if self.variant == "raw" else f"{self.base_id}@{self.variant}"

    @property
    def mbps(self) -> float:
        """The H.264 bitrate at 720x1280, 30 fps (2, 3 or 4 Mbit/s, fixed per clip)."""
        return H264_MBPS[zlib.crc32(self.base_id.encode()) % len(H264_MBPS)]


def _moves(sp: str, photo: str) -> list[Clip]:
    out = []
    for family, speeds in SPEEDS.items():
        for label in DIRECTIONS[family]:
            out += [Clip(label, v, photo, sp) for v in speeds]
    out.append(Clip("static", None, photo, sp, kind="photo", cond="still", args={"move": "static"}))
    # a drift a fifth of the slowest speed: no viewer calls it a move over a short shot
    for move, v in (("pan_right", 0.006), ("tilt_down", 0.006), ("zoom_in", 0.006),
                    ("roll_ccw", 0.6), ("handheld", 0.06)):
        out.append(Clip("static", None, f"{photo}-drift-{move}{v:g}", sp, cond="drift",
                        args={"photo": photo, "move": move, "v": v}))
    for family, label_min in LABEL_MIN.items():
        dirs = DIRECTIONS[family]
        for k, m in enumerate(INTERMEDIATE):
            move, v = dirs[k % len(dirs)], round(label_min * m, 5)
            truth = move if m > 1 else "static"
            out.append(Clip(truth, v if m > 1 else None, f"{photo}-{move}{v:g}", sp, cond="intermediate",
                            args={"photo": photo, "move": move, "v": v}))
    for name, pairs in COMPOUND.items():
        for k, pair in enumerate(pairs):
            moves = [(DIRECTIONS[f][(k + j) % 2], v) for j, (f, v) in enumerate(pair)]
            # the dominant one: the larger speed relative to its LABEL_MIN
            ranked = sorted(moves, key=lambda mv: -mv[1] / LABEL_MIN[mv[0].split("_")[0]])
            out.append(Clip(ranked[0][0], ranked[0][1], photo, sp, cond="compound",
                            truth=tuple(m for m, _ in ranked), args={"photo": photo, "moves": moves}))
    for family, speeds in BLUR_SPEEDS.items():
        for k, v in enumerate(speeds):
            label = DIRECTIONS[family][k % len(DIRECTIONS[family])]
            out.append(Clip(label, v, f"{photo}-blur", sp, cond="blur",
                            args={"photo": photo, "move": label, "v": v, "blur": True}))
    return out


def _video_clips(sp: str) -> list[Clip]:
    name = VIDEO[sp]
    out = []
    for t0 in VIDEO_MOVE_T0[name]:
        out += [Clip(label, v, f"{name}@{t0:g}s", sp, kind="video_move", cond="video_move",
                     args={"file": name, "t0": t0}) for label, v in VIDEO_MOVES]
    out += [Clip("static", None, f"{name}@{t0:g}s", sp, kind="video_static", cond="video_static",
                 args={"file": name, "t0": t0}) for t0 in VIDEO_STATIC_T0[name]]
    return out


def _subjects(sp: str) -> list[Clip]:
    a, b = PHOTOS[sp]
    out = []
    # a quarter of the frame crossing at 0.1 to 1 frame widths per second
    bg, fg = (b, a)
    for v in (0.1, 0.3, 1.0):
        out.append(Clip("static", None, f"{bg}+{fg}-subject{v:g}", sp, kind="subject", cond="subject",
                        args={"bg": bg, "fg": fg, "v": v}))
    for bg, fg in ((b, a), (a, b)):
        for share in BIG_SHARES:
            for action, v in BIG_ACTIONS:
                label = "pan_right" if action == "track" else "static"
                out.append(Clip(label, v if action == "track" else None,
                                f"{bg}+{fg}-big{share:g}-{action}{v:g}", sp, kind="big", cond="big_subject",
                                args={"bg": bg, "fg": fg, "share": share, "action": action, "v": v}))
    return out


def clips(split: str | None = None, variants: tuple[str, ...] = ("raw", "h264")) -> list[Clip]:
    """The whole set (or one split), in a fixed order: each raw clip, then its H.264 copy."""
    base: list[Clip] = []
    for sp, photos in PHOTOS.items():
        if split not in (None, sp):
            continue
        for photo in photos:
            base += _moves(sp, photo)
        base += _video_clips(sp) + _subjects(sp)
    return [replace(c, variant=v) for c in base for v in variants]
