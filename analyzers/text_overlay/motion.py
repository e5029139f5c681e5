"""Pixels under a line: its crop, how the crop changed, where it went, and the motion cues it yields."""
from __future__ import annotations

import numpy as np

from .line_boxes import clip_box
from .records import Track


def to_grey(img: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img


def box_crop(grey: np.ndarray, b) -> np.ndarray:
    """The pixels of a box (rounded to whole pixels, at least 1x1 when inside the frame)."""
    x1, y1, x2, y2 = (int(np.rint(v)) for v in b)
    return grey[max(0, y1):max(y1 + 1, y2), max(0, x1):max(x1 + 1, x2)]


def crop_diff(a: np.ndarray | None, b: np.ndarray) -> float:
    """Mean absolute grey difference of two crops at a common 64x16 size."""
    import cv2

    if a is None or a.size == 0 or b.size == 0:
        return 255.0
    sz = (64, 16)
    return float(np.abs(cv2.resize(a, sz).astype(np.float32) - cv2.resize(b, sz).astype(np.float32)).mean())


def follow(prev_grey: np.ndarray, grey: np.ndarray, box: tuple, guess: tuple[float, float]) -> tuple[tuple, float]:
    """Where the crop at ``box`` in ``prev_grey`` is in ``grey``: (box, match score -1..1).

    Searches a window around the box shifted by ``guess`` (the picture's own
    motion) and around the unshifted box (a caption stays put).
    """
    import cv2

    h, w = grey.shape
    tpl = box_crop(prev_grey, box)
    if tpl.shape[0] < 4 or tpl.shape[1] < 4 or float(tpl.std()) < 1.0:
        return box, 0.0
    bh = box[3] - box[1]
    best = (box, -1.0)
    for gx, gy in {(0.0, 0.0), (round(guess[0]), round(guess[1]))}:
        m = max(6.0, bh * 0.6)
        win = clip_box((box[0] + gx - m, box[1] + gy - m, box[2] + gx + m, box[3] + gy + m), w, h)
        region = box_crop(grey, win)
        if region.shape[0] < tpl.shape[0] or region.shape[1] < tpl.shape[1]:
            continue
        res = cv2.matchTemplate(region, tpl, cv2.TM_CCOEFF_NORMED)
        _, score, _, loc = cv2.minMaxLoc(res)
        if score > best[1]:
            x1, y1 = int(win[0]) + loc[0], int(win[1]) + loc[1]
            best = ((float(x1), float(y1), float(x1 + tpl.shape[1]), float(y1 + tpl.shape[0])), float(score))
    return best


def global_shift(prev_grey: np.ndarray, grey: np.ndarray) -> tuple[float, float]:
    """The picture's own translation between two frames (phase correlation on a 1/4 copy)."""
    import cv2

    a = cv2.resize(prev_grey, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA).astype(np.float32)
    b = cv2.resize(grey, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA).astype(np.float32)
    (dx, dy), resp = cv2.phaseCorrelate(a, b)
    if resp < 0.05:
        return 0.0, 0.0
    return dx * 4.0, dy * 4.0


def aligned_ring_change(prev_grey: np.ndarray, grey: np.ndarray, pbox, box) -> float | None:
    """Mean abs grey change of the band around a line, in the line's own frame of reference.

    The band around ``box`` in this frame is compared with the band around ``pbox`` in the previous
    one (the same offset from the text). A caption over a moving picture: large; text in the
    scene, moving with its surroundings: small.
    """
    h, w = grey.shape
    m = max(4, int(np.rint((box[3] - box[1]) * 0.6)))
    dx, dy = int(np.rint(box[0] - pbox[0])), int(np.rint(box[1] - pbox[1]))
    x1, y1, x2, y2 = int(box[0]) - m, int(box[1]) - m, int(np.ceil(box[2])) + m, int(np.ceil(box[3])) + m
    # keep the part valid in both frames
    x1, y1 = max(x1, 0, dx), max(y1, 0, dy)
    x2, y2 = min(x2, w, w + dx), min(y2, h, h + dy)
    if x2 - x1 < 8 or y2 - y1 < 8:
        return None
    cur = grey[y1:y2, x1:x2].astype(np.float32)
    old = prev_grey[y1 - dy:y2 - dy, x1 - dx:x2 - dx].astype(np.float32)
    mask = np.ones(cur.shape, bool)
    ix1, iy1 = int(box[0]) - x1, int(box[1]) - y1
    ix2, iy2 = int(np.ceil(box[2])) - x1, int(np.ceil(box[3])) - y1
    mask[max(0, iy1):max(0, iy2), max(0, ix1):max(0, ix2)] = False
    if mask.sum() < 16 or old.shape != cur.shape:
        return None
    return float(np.abs(cur - old)[mask].mean())


def record_motion(tr: Track, prev_grey: np.ndarray, grey: np.ndarray, pbox, box, gshift, at: int | None = None) -> None:
    """Add one frame pair's motion cues to a line (it was at ``pbox`` in ``prev_grey``, is at ``box``);
    ``at``: the index of the reading they lead to (default: the next one appended; -1: none to take back)."""
    lh = max(1.0, box[3] - box[1])
    change = aligned_ring_change(prev_grey, grey, pbox, box)
    tr.motion_at.append(len(tr.readings) if at is None else at)
    tr.ring_kept.append(change is not None)
    if change is not None:
        tr.ring_change.append(change)
    tr.inside_change.append(crop_diff(box_crop(prev_grey, pbox), box_crop(grey, box)))
    cx0, cy0 = (pbox[0] + pbox[2]) / 2, (pbox[1] + pbox[3]) / 2
    cx1, cy1 = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    tr.shift.append(float(np.hypot(cx1 - cx0, cy1 - cy0)) / lh)
    tr.global_shift.append(float(np.hypot(*gshift)) / lh)
    tr.scale_change.append(abs(float(np.log(max(1.0, box[3] - box[1]) / max(1.0, pbox[3] - pbox[1])))))
