"""Caption (added in editing) or scene text: cues measured on a tracked line, and their weights.

Each cue is a number measured from the frames; ``overlay_score`` is a logistic
model over them, sigmoid(bias + sum(weight x cue)), with the weights fitted on a
labelled set of made clips (tests/analyzers/text_calibration.py: captions drawn
with ffmpeg over real moving footage in several fonts, colours, outlines and
positions; the sign photos panned, zoomed and held still).
"""
from __future__ import annotations

import math

import numpy as np

from ._text_motion import box_crop
from ._text_records import Track
from ._text_segments import ring_std, stroke_flatness

#: hand-set prior weights (what each cue should say, in logit units); the fit is pulled towards them
PRIOR: dict[str, float] = {
    "bias": -0.6,
    "fixed_while_picture_moves": 2.6,   # log1p(ring change around the box, in the box's frame) when it stays put
    "still_picture": -1.5,              # the whole picture does not change: no motion cue either way
    "moves_with_picture": -4.0,         # the box moves (line heights per frame / 0.1), capped at 1
    "size_changes": -3.0,               # |log| height ratio per frame (zoom), x10, capped at 1
    "flat_colour": 0.8,                 # 1 - stroke colour spread / 20, clipped 0..1
    "crisp_edges": 1.2,                 # edge sharpness (0..1)
    "even_background": 1.0,             # ring around the box is one value
    "centred": 0.8,                     # 1 - |centre x - 0.5| / 0.15, clipped 0..1
    "with_the_shot": -0.8,              # appears on the first frame / a cut and lasts to the end / a cut
}
#: fitted by tests/analyzers/text_calibration.py on the fit half of the labelled set (figures in analyzer.toml)
WEIGHTS: dict[str, float] = {
    "bias": -1.74, "fixed_while_picture_moves": 3.75, "still_picture": -3.87, "moves_with_picture": -3.76,
    "size_changes": -3.02, "flat_colour": 0.8, "crisp_edges": 1.2, "even_background": 1.31, "centred": 2.11,
    "with_the_shot": -0.0,
}
OVERLAY_AT, SCENE_AT = 0.6, 0.4


def crispness(grey_crop: np.ndarray) -> float | None:
    """How sharp the strongest edges are for the crop's contrast (drawn text: a step within ~1 px)."""
    import cv2

    if grey_crop.size < 64 or min(grey_crop.shape) < 6:
        return None
    g = grey_crop.astype(np.float32)
    lo, hi = np.percentile(g, 5), np.percentile(g, 95)
    if hi - lo < 20:
        return None
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3) / 4
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3) / 4
    mag = np.hypot(gx, gy)
    return float(np.clip(np.percentile(mag, 98) / (hi - lo), 0, 1))


def measure(track: Track, greys: dict[int, np.ndarray], frame_wh: tuple[int, int], cuts: set[int],
            n_frames: int, changes: list[float] | None = None) -> dict[str, float | None]:
    """The raw cue values of one track (greys: analyzed frame index -> grey frame, for OCR'd readings;
    changes: whole-picture change of each analyzed frame since the previous one)."""
    w, h = frame_wh
    flats, crisps, rings = [], [], []
    for r in track.readings:
        g = greys.get(r.frame)
        if g is None or not r.ocr:
            continue
        c = box_crop(g, r.box)
        f = stroke_flatness(c)
        if f is not None:
            flats.append(f)
        cr = crispness(c)
        if cr is not None:
            crisps.append(cr)
        nb = (r.box[0] / w, r.box[1] / h, r.box[2] / w, r.box[3] / h)
        rs = ring_std(g, nb)
        if rs is not None:
            rings.append(rs)
    boxes = np.array([r.box for r in track.readings], dtype=float)
    cx = float(np.median((boxes[:, 0] + boxes[:, 2]) / 2)) / w
    first, last = track.first.frame, track.last.frame
    def med(values) -> float | None:
        return float(np.median(values)) if len(values) else None

    # None: not measured on this line (no frame pair, no readable crop); features() then uses the
    # cue's prior (UNMEASURED), and the result lists only the cues that were measured
    cues = {
        "ring_motion": med(track.ring_change),
        "inside_motion": med(track.inside_change),
        "text_shift": med(track.shift),
        "picture_shift": med(track.global_shift),
        "scale_change": med(track.scale_change),
        "flatness": med(flats),
        "crispness": med(crisps),
        "ring_std": med(rings),
        "centre_x": cx,
        "starts_with_shot": float(first == 0 or first in cuts),
        "ends_with_shot": float(last == n_frames - 1 or (last + 1) in cuts),
        "measured_frames": float(len(track.ring_change)),
        "picture_change": med(changes[first + 1:last + 1]) if changes and last > first else None,
    }
    return cues


#: the value a cue's feature is computed from when the cue was not measured on a line (the weights
#: in WEIGHTS were fitted with these); never reported as a measurement
UNMEASURED = {"ring_motion": 0.0, "inside_motion": 0.0, "text_shift": 0.0, "picture_shift": 0.0,
              "scale_change": 0.0, "flatness": 10.0, "crispness": 0.3, "ring_std": 30.0, "picture_change": 0.0}


def features(cues: dict[str, float | None]) -> dict[str, float]:
    """Cue values -> the model's inputs (each about 0..1 or 0..3); an unmeasured cue takes its prior."""
    c = {k: (UNMEASURED.get(k, 0.0) if v is None else v) for k, v in cues.items()}
    moving = min(1.0, c["text_shift"] / 0.1)
    return {
        "fixed_while_picture_moves": (1.0 - moving) * min(1.0, math.log1p(c["ring_motion"]) / math.log1p(20.0)),
        "still_picture": float(np.clip(1 - c.get("picture_change", 0.0) / 1.0, 0, 1)),
        "moves_with_picture": moving,
        "size_changes": min(1.0, c["scale_change"] * 10),
        "flat_colour": float(np.clip(1 - c["flatness"] / 20, 0, 1)),
        "crisp_edges": float(np.clip((c["crispness"] - 0.15) / 0.25, 0, 1)),
        "even_background": float(np.clip(1 - c["ring_std"] / 8, 0, 1)),
        "centred": float(np.clip(1 - abs(c["centre_x"] - 0.5) / 0.15, 0, 1)),
        "with_the_shot": c["starts_with_shot"] * c["ends_with_shot"],
    }


def score(c: dict[str, float], weights: dict[str, float] | None = None) -> tuple[float, dict[str, float]]:
    """(overlay probability, each cue's contribution to the logit)."""
    wts = weights or WEIGHTS
    x = features(c)
    contrib = {k: wts[k] * v for k, v in x.items() if k in wts}
    z = wts["bias"] + sum(contrib.values())
    return 1 / (1 + math.exp(-z)), contrib


def kind(p: float, contrib: dict[str, float]) -> str:
    """overlay / scene; uncertain only when strong cues pull both ways and the sum is near the middle."""
    if p >= OVERLAY_AT:
        return "overlay"
    if p <= SCENE_AT:
        return "scene"
    pos = sum(v for v in contrib.values() if v > 0)
    neg = -sum(v for v in contrib.values() if v < 0)
    if min(pos, neg) >= 0.5:
        return "uncertain"
    return "overlay" if p >= 0.5 else "scene"


def evidence(contrib: dict[str, float]) -> list[str]:
    return [f"{k} {v:+.2f}" for k, v in sorted(contrib.items(), key=lambda kv: -abs(kv[1])) if abs(v) >= 0.05]
