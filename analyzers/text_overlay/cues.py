"""Caption (added in editing) or scene text: cues measured on a tracked line, and their weights.

Each cue is a number measured from the frames, or None when the line gave nothing to measure it on
(seen in one analyzed frame only: no motion; a crop too small or flat: no rendering cue). A feature
is computed from a cue only when the cue was measured; an unmeasured cue's feature is 0, so it adds
nothing to the logit (it is neither evidence for a caption nor for scene text).

``overlay_score`` is a score, sigmoid(bias + sum(weight x feature)), with the weights fitted on the
fit half of a labelled set of made clips (tests/analyzers/text_calibration.py; figures in
docs/text_overlay.md). It is not a calibrated probability.

Two groups of cues:
- motion, measured over pairs of analyzed frames: the line stays fixed while the picture around it
  changes (a caption), the line moves or scales with the picture (scene text);
- rendering, measured in any single frame: an outline or shadow hugging the letters, an even box or bar
  behind them and a box's straight edges right above and below the line, one flat stroke colour, crisp
  drawn edges, centred on the frame, in a caption zone or a corner, and cut by the frame's edge (scene).
A line seen in one frame, or over a still picture (no motion measured), is decided by the rendering
cues alone, and is ``uncertain`` only when they pull both ways.
"""
from __future__ import annotations

import math

import numpy as np

from .motion import box_crop
from .records import Track
from .crop_measures import box_edges, rim_cues, ring_std, stroke_flatness
from .line_boxes import overlap_1d

#: hand-set prior weights (what each cue should say, in logit units); the fit is pulled towards them
PRIOR: dict[str, float] = {
    "bias": 0.0,
    "fixed_while_picture_moves": 3.0,   # log-scaled change around the box, in its own frame, when it stays put
    "moves_with_picture": -4.0,         # the box moves: (line heights per frame - 0.05) / 0.15, clipped 0..1
    "size_changes": -3.0,               # |log| height ratio per frame (zoom): (x - 0.04) / 0.16, clipped 0..1
    "outline": 2.0,                     # an even rim around the letters, unlike what lies beyond (0..1)
    "even_background": 1.0,             # the band around the box is one value (a box, a bar)
    "flat_colour": 0.8,                 # 1 - stroke colour spread / 20, clipped 0..1
    "crisp_edges": 0.5,                 # edge sharpness (0..1)
    "centred": 1.0,                     # (0.05 - |centre x - 0.5|) / 0.03, clipped 0..1: 1 within 0.02 of the middle
    "caption_zone": 0.5,                # centred on the frame's middle band or its lower or upper fifth
    "corner": 1.0,                      # near a corner: in the top or bottom 15%, within 8% of a side edge
    "box": 1.0,                         # one even grey right around the letters and a little further out
    "textured": -2.0,                   # stroke colour spread over 12 (photo light and texture), x / 20
    "box_edges": 2.0,                   # a straight edge right above and below the line: (x - 0.7) / 0.25, 0..1
    "at_edge": -3.0,                    # cut by the frame's edge (within 1% of it): a caption is placed inside
    "in_block": -2.0,                   # in a block of 3+ stacked lines (a sign, a screen): median lines - 2, 0..1
}
#: fitted by tests/analyzers/text_calibration.py on the fit half of the labelled set (`fit`; the refit test
#: in tests/analyzers/test_text_classifier.py reproduces them from tests/data/text_overlay_cues_fit.json)
WEIGHTS: dict[str, float] = {
    "bias": 0.06, "fixed_while_picture_moves": 1.01, "moves_with_picture": -5.79, "size_changes": -3.01,
    "outline": 2.4, "even_background": 0.06, "flat_colour": -1.78, "crisp_edges": 0.5, "centred": 4.25,
    "caption_zone": -0.65, "corner": 2.86, "box": 1.7, "textured": 0.24, "box_edges": 2.6, "at_edge": -3.89,
    "in_block": -4.81,
}
#: kind: overlay at or above OVERLAY_AT, scene at or below SCENE_AT, between: see kind()
OVERLAY_AT, SCENE_AT = 0.7, 0.3
#: a cue's contribution (logit units) that counts as strong evidence either way in kind()
STRONG = 2.0
MOTION = ("fixed_while_picture_moves", "moves_with_picture", "size_changes")


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


def _med(values) -> float | None:
    return float(np.median(values)) if len(values) else None


def _rendering(track: Track, greys: dict[int, np.ndarray], wh: tuple[int, int]) -> dict[str, float | None]:
    """Median over the line's recognized readings of the single-frame cues."""
    w, h = wh
    flats, crisps, rings, outlines, boxes, edges = [], [], [], [], [], []
    for r in track.readings:
        g = greys.get(r.frame)
        if g is None or not r.ocr:
            continue
        c = box_crop(g, r.box)
        for values, v in ((flats, stroke_flatness(c)), (crisps, crispness(c)), (edges, box_edges(g, r.box)),
                          (rings, ring_std(g, (r.box[0] / w, r.box[1] / h, r.box[2] / w, r.box[3] / h)))):
            if v is not None:
                values.append(v)
        m = 0.5 * (r.box[3] - r.box[1])
        o, b = rim_cues(box_crop(g, (r.box[0] - m, r.box[1] - m, r.box[2] + m, r.box[3] + m)), 2 * m)
        for values, v in ((outlines, o), (boxes, b)):
            if v is not None:
                values.append(v)
    return {"flatness": _med(flats), "crispness": _med(crisps), "ring_std": _med(rings), "outline": _med(outlines),
            "box": _med(boxes), "box_edges": _med(edges)}


def block_lines(tracks: list[Track]) -> dict[int, float]:
    """Track id -> how many lines the block it is part of holds, the median over its analyzed frames: lines
    seen in the same frame, overlapping horizontally, less than a line height apart vertically and of
    alike heights (within 1.6x), joined transitively. A caption is one or two lines; a sign or a screen is often a block of three or more
    that keeps its lines (a caption crossing lettering in a moving picture joins a block for a frame or
    two only)."""
    per_frame: dict[int, list[tuple[int, tuple]]] = {}
    for tr in tracks:
        for r in tr.readings:
            per_frame.setdefault(r.frame, []).append((tr.id, r.box))
    seen: dict[int, list[int]] = {tr.id: [] for tr in tracks}
    for lines in per_frame.values():
        n = len(lines)
        group = list(range(n))

        def root(i: int) -> int:
            while group[i] != i:
                i = group[i]
            return i

        for i in range(n):
            a = lines[i][1]
            for j in range(i + 1, n):
                b = lines[j][1]
                lh, big = sorted((a[3] - a[1], b[3] - b[1]))
                if (overlap_1d(a[0], a[2], b[0], b[2]) > 0 and max(b[1] - a[3], a[1] - b[3]) < lh
                        and big <= 1.6 * lh):
                    group[root(j)] = root(i)
        sizes: dict[int, int] = {}
        for i in range(n):
            sizes[root(i)] = sizes.get(root(i), 0) + 1
        for i, (tid, _) in enumerate(lines):
            seen[tid].append(sizes[root(i)])
    return {tid: float(np.median(v)) for tid, v in seen.items() if v}


def measure(track: Track, greys: dict[int, np.ndarray], frame_wh: tuple[int, int], cuts: set[int],
            n_frames: int, changes: list[float] | None = None, block: float | None = None) -> dict[str, float | None]:
    """The raw cue values of one track (greys: analyzed frame index -> grey frame, for OCR'd readings;
    changes: whole-picture change of each analyzed frame since the previous one; block: block_lines' count
    for the track). None: not measured."""
    w, h = frame_wh
    boxes = np.array([r.box for r in track.readings], dtype=float)
    first, last = track.first.frame, track.last.frame
    return {
        "ring_motion": _med(track.ring_change),
        "inside_motion": _med(track.inside_change),
        "text_shift": _med(track.shift),
        "picture_shift": _med(track.global_shift),
        "scale_change": _med(track.scale_change),
        **_rendering(track, greys, frame_wh),
        "centre_x": float(np.median((boxes[:, 0] + boxes[:, 2]) / 2)) / w,
        "left": float(np.median(boxes[:, 0])) / w,
        "right": float(np.median(boxes[:, 2])) / w,
        "centre_y": float(np.median((boxes[:, 1] + boxes[:, 3]) / 2)) / h,
        "top": float(np.median(boxes[:, 1])) / h,
        "bottom": float(np.median(boxes[:, 3])) / h,
        "starts_with_shot": float(first == 0 or first in cuts),
        "ends_with_shot": float(last == n_frames - 1 or (last + 1) in cuts),
        "measured_frames": float(len(track.shift)),
        "picture_change": _med(changes[first + 1:last + 1]) if changes and last > first else None,
        "block_lines": None if block is None else float(block),
    }


def features(cues: dict[str, float | None]) -> dict[str, float | None]:
    """Cue values -> the model's inputs (each 0..1); None where the cues behind a feature were not measured."""
    c = cues

    def have(*names: str) -> bool:
        return all(c.get(n) is not None for n in names)

    # a box found again in each frame wobbles by a pixel or two (0.05 line heights): motion above that
    moving = float(np.clip((c["text_shift"] - 0.05) / 0.15, 0, 1)) if have("text_shift") else None
    still = have("picture_change") and c["picture_change"] < 0.5
    fixed = None
    if moving is not None and have("ring_motion") and not still:
        fixed = (1.0 - moving) * min(1.0, math.log1p(c["ring_motion"]) / math.log1p(20.0))
    cy = c.get("centre_y")
    return {
        "fixed_while_picture_moves": fixed,
        "moves_with_picture": moving,
        "size_changes": float(np.clip((c["scale_change"] - 0.04) / 0.16, 0, 1)) if have("scale_change") else None,
        "outline": c["outline"] if have("outline") else None,
        "even_background": float(np.clip(1 - c["ring_std"] / 8, 0, 1)) if have("ring_std") else None,
        "flat_colour": float(np.clip(1 - c["flatness"] / 20, 0, 1)) if have("flatness") else None,
        "crisp_edges": float(np.clip((c["crispness"] - 0.15) / 0.25, 0, 1)) if have("crispness") else None,
        # editors centre a caption on the frame exactly; a sign is centred only as closely as it was framed
        "centred": float(np.clip((0.05 - abs(c["centre_x"] - 0.5)) / 0.03, 0, 1)) if have("centre_x") else None,
        "caption_zone": (float(cy < 0.2 or cy > 0.8 or 0.35 <= cy <= 0.65) if cy is not None else None),
        "corner": (float((cy < 0.15 or cy > 0.85) and (c["left"] < 0.08 or c["right"] > 0.92))
                   if cy is not None and have("left", "right") else None),
        "box": c["box"] if have("box") else None,
        "textured": float(np.clip((c["flatness"] - 12) / 20, 0, 1)) if have("flatness") else None,
        "box_edges": float(np.clip((c["box_edges"] - 0.7) / 0.25, 0, 1)) if have("box_edges") else None,
        # a caption is placed inside the frame; text the frame cuts through is in the picture
        "at_edge": (float(c["left"] < 0.01 or c["right"] > 0.99 or c["top"] < 0.01 or c["bottom"] > 0.99)
                    if have("left", "right", "top", "bottom") else None),
        "in_block": float(np.clip(c["block_lines"] - 2, 0, 1)) if have("block_lines") else None,
    }


def score(c: dict[str, float | None], weights: dict[str, float] | None = None
          ) -> tuple[float, dict[str, float | None]]:
    """(overlay score 0..1, each feature's contribution to the logit, the bias included: the logit is their
    sum; None for a feature whose cues were not measured)."""
    wts = weights or WEIGHTS
    x = features(c)
    contrib: dict[str, float | None] = {"bias": wts["bias"]}
    contrib.update({k: (None if v is None else wts[k] * v) for k, v in x.items() if k in wts})
    z = sum(v for v in contrib.values() if v is not None)
    return 1 / (1 + math.exp(-z)), contrib


def kind(p: float, contrib: dict[str, float | None]) -> str:
    """overlay / scene; between the two thresholds, ``uncertain`` only when measured cues disagree: one cue
    pulls towards a caption and another towards scene text by at least STRONG each (the bias, the prior
    odds, is no cue); else the nearer side. (Cues every line has about equally, such as crisp edges, add
    a near-constant to every line and disagree with nothing.)"""
    if p >= OVERLAY_AT:
        return "overlay"
    if p <= SCENE_AT:
        return "scene"
    vals = [v for k, v in contrib.items() if v is not None and k != "bias"]
    if vals and max(vals) >= STRONG and min(vals) <= -STRONG:
        return "uncertain"
    return "overlay" if p >= 0.5 else "scene"


def evidence(contrib: dict[str, float | None]) -> list[str]:
    vals = {k: v for k, v in contrib.items() if v is not None}
    return [f"{k} {v:+.2f}" for k, v in sorted(vals.items(), key=lambda kv: -abs(kv[1])) if abs(v) >= 0.05]
