"""Linking OCR readings over frames into segments, and the cues that tell a caption from scene text."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import numpy as np

_NON_WORD = re.compile(r"[^0-9a-z]+")


def norm_text(s: str) -> str:
    return _NON_WORD.sub(" ", s.lower()).strip()


def similar(a: str, b: str, threshold: float = 0.7) -> bool:
    """OCR misreads a letter or two between frames; that is still the same text."""
    a, b = norm_text(a), norm_text(b)
    return a == b or difflib.SequenceMatcher(None, a, b).ratio() >= threshold


def box_iou(a: tuple, b: tuple) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


@dataclass
class Reading:
    frame: int           # index among analyzed frames
    text: str
    conf: float
    box: tuple           # normalized xyxy
    flatness: float      # spread of the stroke colour (0 = one flat colour)
    slanted: bool
    background_change: float  # mean abs change of the whole frame since the previous OCR'd frame
    ring_std: float = 255.0   # brightness spread of a band around the box


@dataclass
class Segment:
    readings: list[Reading] = field(default_factory=list)

    @property
    def last(self) -> Reading:
        return self.readings[-1]

    def best_text(self) -> str:
        weight: dict[str, float] = {}
        for r in self.readings:
            weight[r.text] = weight.get(r.text, 0.0) + r.conf
        return max(weight, key=weight.get)


def link(readings_per_frame: list[list[Reading]], max_gap: int = 1) -> list[Segment]:
    """Greedy: a reading joins the open segment with similar text at about the same place."""
    open_: list[Segment] = []
    done: list[Segment] = []
    for k, readings in enumerate(readings_per_frame):
        still = []
        for s in open_:
            (still if k - s.last.frame <= max_gap + 1 else done).append(s)
        open_ = still
        taken: set[int] = set()
        for r in sorted(readings, key=lambda r: -r.conf):
            best, best_iou = None, 0.0
            for si, s in enumerate(open_):
                if si in taken or s.last.frame == k or not similar(s.last.text, r.text):
                    continue
                ov = box_iou(s.last.box, r.box)
                if ov >= 0.3 and ov > best_iou:
                    best, best_iou = si, ov
            if best is None:
                open_.append(Segment([r]))
                taken.add(len(open_) - 1)
            else:
                open_[best].readings.append(r)
                taken.add(best)
    return sorted(done + open_, key=lambda s: s.readings[0].frame)


def stroke_flatness(grey_crop: np.ndarray) -> float:
    """Spread (MAD, 0..255) of the flatter of the two brightness classes inside a box.

    Rendered captions are one flat colour (often inside an outline of another
    flat colour); text in the scene carries light, texture and blur. Otsu splits
    the box into two classes; each is eroded to its core (the anti-aliased rim
    is neither colour) and the flatter one is kept.
    """
    import cv2

    if grey_crop.size < 16:
        return 255.0
    _, mask = cv2.threshold(grey_crop, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    spreads = []
    for cls in (mask > 0, mask == 0):
        core = cv2.erode(cls.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        px = grey_crop[core].astype(np.float32)
        if px.size >= 16:
            spreads.append(float(np.median(np.abs(px - np.median(px)))))
    return min(spreads, default=255.0)


def ring_std(grey: np.ndarray, box: tuple) -> float:
    """Brightness spread of a band half a text height wide around a normalized box.

    A camera never sees a perfectly even surface (noise, light, texture); a
    caption on a letterbox bar or a colour card sits on exactly one value.
    """
    h, w = grey.shape
    x1, y1, x2, y2 = box[0] * w, box[1] * h, box[2] * w, box[3] * h
    m = (y2 - y1) / 2
    outer = (int(max(0, x1 - m)), int(max(0, y1 - m)), int(min(w, x2 + m)), int(min(h, y2 + m)))
    mask = np.zeros(grey.shape, bool)
    mask[outer[1]:outer[3], outer[0]:outer[2]] = True
    mask[int(y1):int(np.ceil(y2)), int(x1):int(np.ceil(x2))] = False
    px = grey[mask]
    return float(px.std()) if px.size >= 16 else 255.0


def overlay_evidence(seg: Segment) -> tuple[float, list[str]]:
    """Score 0..1 (1 = overlay caption) from the cues available, with a neutral prior."""
    cues: list[tuple[float, float, str]] = []  # (value, weight, why)
    boxes = np.array([r.box for r in seg.readings])
    centers = np.c_[(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2]
    moving_bg = [r.background_change for r in seg.readings[1:] if r.background_change >= 0]
    # The decisive cue needs motion: a caption stays put while the picture under
    # it changes. Without it (a still) the other cues only lean one way, and the
    # prior's weight keeps a single one of them from deciding alone.
    if len(seg.readings) >= 2 and moving_bg and float(np.median(moving_bg)) > 3.0:
        if float(centers.std(axis=0).max()) < 0.01:
            cues.append((1.0, 2.5, "fixed on screen while the picture changes"))
        else:
            cues.append((0.15, 1.5, "moves with the picture"))
    flat = float(np.median([r.flatness for r in seg.readings]))
    if flat <= 6:
        cues.append((0.65, 1.0, f"flat text colour (spread {flat:.0f})"))
    elif flat >= 15:
        cues.append((0.2, 1.0, f"textured text colour (spread {flat:.0f})"))
    ring = float(np.median([r.ring_std for r in seg.readings]))
    if ring <= 2.0:
        cues.append((0.9, 1.5, f"on an even, drawn background (spread {ring:.1f})"))
    if any(r.slanted for r in seg.readings):
        cues.append((0.1, 1.0, "slanted (perspective)"))
    cx = float(np.median(centers[:, 0]))
    if abs(cx - 0.5) < 0.08:
        cues.append((0.75, 0.5, "horizontally centred"))
    prior = 1.5
    score = (0.5 * prior + sum(v * w for v, w, _ in cues)) / (prior + sum(w for _, w, _ in cues))
    return round(score, 4), [why for _, _, why in cues]


def position(box: tuple) -> tuple[str, str]:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    vertical = "top" if cy < 1 / 3 else "bottom" if cy > 2 / 3 else "middle"
    horizontal = "left" if cx < 0.4 else "right" if cx > 0.6 else "center"
    return vertical, horizontal
