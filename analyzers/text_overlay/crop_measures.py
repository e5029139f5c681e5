"""Per-crop measurements used by the caption/scene cues (cues.py), and the screen position of a box."""
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


def rim_cues(grey_crop: np.ndarray, line_h: float) -> tuple[float | None, float | None]:
    """(outline, box): what lies right around the letters, against what lies a little further out (0..1 each).

    Captions are drawn so that they read over any picture: with an outline or a drop shadow (right
    around a light letter a dark rim, then the picture), or on a box (the same flat colour right around
    the letters and a little further out). Text in the scene sits on its own surface: a sign board is
    even too, but it has other lettering, edges and texture within a line's height of the letters.
    ``grey_crop`` is the line's box with a margin of half a line all round; it is scaled so that the
    line (``line_h`` px) is 48 px. The letters are the lightest (or darkest) grey inside the box; the
    rim is 1-2 px around them, the band beyond 5-8 px out (both outside every letter).
    outline: the share of the rim in the opposite extreme minus that share in the band beyond, over 0.5,
    clipped (0 unless at least half the rim is of the opposite extreme). box: how evenly one grey fills
    rim and band together, 1 - their spread (MAD) / 12, clipped. Each the larger over the two polarities;
    None when neither polarity has letters to measure.
    """
    import cv2

    if grey_crop.size < 64 or min(grey_crop.shape) < 8:
        return None, None
    s = 48.0 / max(1.0, line_h)
    g = cv2.resize(grey_crop, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC)
    h, w = g.shape
    inner = np.zeros(g.shape, bool)
    my, mx = int(round(h * 0.25)), int(round(min(h * 0.25, w * 0.25)))
    inner[my:h - my, mx:w - mx] = True
    k = np.ones((3, 3), np.uint8)
    outline = box = None
    for fill, opposite in ((g >= 190, g <= 90), (g <= 70, g >= 170)):
        fill = fill & inner
        if not 0.02 <= fill[inner].mean() <= 0.7:
            continue
        f8 = fill.astype(np.uint8)
        near = cv2.dilate(f8, k, iterations=2).astype(bool) & ~fill
        far = cv2.dilate(f8, k, iterations=8).astype(bool) & ~cv2.dilate(f8, k, iterations=5).astype(bool)
        if near.sum() < 16 or far.sum() < 16:
            continue
        rim, beyond = float(opposite[near].mean()), float(opposite[far].mean())
        o = float(np.clip((rim - beyond) / 0.5, 0, 1)) if rim >= 0.5 else 0.0
        around = g[near | far].astype(np.float32)
        b = float(np.clip(1 - np.median(np.abs(around - np.median(around))) / 12, 0, 1))
        outline = o if outline is None else max(outline, o)
        box = b if box is None else max(box, b)
    return outline, box


def box_edges(grey: np.ndarray, box: tuple) -> float | None:
    """A straight edge along the line just above it and just below it (0..1): a caption's box or bar.

    In the band 0.6 line heights above the line's box and the one below, each row's share of the line's
    width where the grey steps the same way (by more than 12 levels, 2 rows apart); a drawn box has a row
    near 1 on both sides even when it is see-through (the picture behind it darkened by a constant).
    The smaller side's best row. A sign's other lines are broken by letter gaps, and its board's edge is
    seldom that close on both sides. None when a band is cut by the frame's edge (not measured).
    """
    h, w = grey.shape
    x1, y1, x2, y2 = box
    lh = y2 - y1
    if lh < 6 or x2 - x1 < 2 * lh:
        return None
    m = 0.6 * lh
    ya, yb = int(np.floor(y1 - m)), int(np.ceil(y2 + m))
    xa, xb = int(np.ceil(x1)), int(np.floor(x2))
    if ya < 0 or yb > h - 1 or xa < 0 or xb > w:
        return None
    g = grey[ya:yb + 1, xa:xb].astype(np.float32)
    d = g[2:] - g[:-2]  # row i: the step from row ya + i to row ya + i + 2
    share = np.maximum((d > 12).mean(axis=1), (d < -12).mean(axis=1))
    top = int(round(y1)) - ya  # rows above the line's box, then below it
    bottom = int(round(y2)) - ya - 2
    if top < 2 or bottom > len(share) - 2:
        return None
    return float(min(share[:top].max(), share[bottom:].max()))
