"""Per-crop measurements used by the caption/scene cues (_text_cues.py), and the screen position of a box."""
from __future__ import annotations

import numpy as np


def stroke_flatness(grey_crop: np.ndarray) -> float | None:
    """Spread (MAD, 0..255) of the flatter of the two brightness classes inside a box.

    Rendered captions are one flat colour (often inside an outline of another
    flat colour); text in the scene carries light, texture and blur. Otsu splits
    the box into two classes; each is eroded to its core (the anti-aliased rim
    is neither colour) and the flatter one is kept.
    """
    import cv2

    if grey_crop.size < 16:
        return None  # too few pixels to tell: no cue, rather than an invented "textured" one
    _, mask = cv2.threshold(grey_crop, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    spreads = []
    for cls in (mask > 0, mask == 0):
        core = cv2.erode(cls.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        px = grey_crop[core].astype(np.float32)
        if px.size >= 16:
            spreads.append(float(np.median(np.abs(px - np.median(px)))))
    return min(spreads, default=None)


def ring_std(grey: np.ndarray, box: tuple) -> float | None:
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
    return float(px.std()) if px.size >= 16 else None


def position(box: tuple) -> tuple[str, str]:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    vertical = "top" if cy < 1 / 3 else "bottom" if cy > 2 / 3 else "middle"
    horizontal = "left" if cx < 0.4 else "right" if cx > 0.6 else "center"
    return vertical, horizontal
