"""Pixel boxes (x1, y1, x2, y2) of text: overlap, distance, clipping, and words merged into lines."""
from __future__ import annotations

import numpy as np

from analyzers.common.boxes import iou, overlap_of_smaller


def at_edge(box, w: int, h: int, margin: float = 3.0) -> bool:
    return box[0] <= margin or box[1] <= margin or box[2] >= w - margin or box[3] >= h - margin


def overlap_1d(a0, a1, b0, b1) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def centre_dist(a, b) -> float:
    """Centre distance in line heights."""
    h = max(1.0, min(a[3] - a[1], b[3] - b[1]))
    return float(np.hypot((a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2)) / h


def same_row(a, b) -> bool:
    h = min(a[3] - a[1], b[3] - b[1])
    return overlap_1d(a[1], a[3], b[1], b[3]) >= 0.5 * h


def is_piece(b, line) -> bool:
    """Whether box ``b`` is a part of the (clearly larger) box ``line`` on the same row: a word of it."""
    area = (b[2] - b[0]) * (b[3] - b[1])
    return same_row(line, b) and overlap_of_smaller(line, b) >= 0.9 and area <= 0.8 * (line[2] - line[0]) * (line[3] - line[1])


def in_band(box, band: int, h: int) -> bool:
    """Whether a pixel box overlaps band ``band`` of 8 equal horizontal bands of a frame ``h`` tall."""
    return overlap_1d(box[1], box[3], band * h / 8, (band + 1) * h / 8) > 0


def shifted(box, d: tuple[float, float]) -> tuple:
    """The box moved by (dx, dy)."""
    return (box[0] + d[0], box[1] + d[1], box[2] + d[0], box[3] + d[1])


def clip_box(b, w, h) -> tuple:
    """The box inside a ``w`` x ``h`` frame, at least one pixel wide and tall."""
    x1, y1, x2, y2 = b
    x1, x2 = max(0.0, min(x1, w - 1.0)), max(0.0, min(x2, float(w)))
    y1, y2 = max(0.0, min(y1, h - 1.0)), max(0.0, min(y2, float(h)))
    return (x1, y1, max(x2, x1 + 1), max(y2, y1 + 1))


def unique_boxes(boxes: list[tuple]) -> list[tuple]:
    """The boxes in order, without those that nearly repeat an earlier one (IoU >= 0.9)."""
    out: list[tuple] = []
    for b in boxes:
        if all(iou(b, o) < 0.9 for o in out):
            out.append(b)
    return out


def merge_lines(boxes: list[tuple], gap: float = 1.2) -> list[tuple]:
    """Words on one baseline -> one line box (pixel xyxy).

    Two boxes are on one line when they overlap vertically by most of the
    smaller height, their heights are alike, and the horizontal gap between
    them is under ``gap`` x the line height.
    """
    boxes = sorted([tuple(float(v) for v in b) for b in boxes], key=lambda b: b[0])
    merged = True
    while merged:
        merged = False
        out: list[tuple] = []
        for b in boxes:
            for j, a in enumerate(out):
                ha, hb = a[3] - a[1], b[3] - b[1]
                h = min(ha, hb)
                if h <= 0:
                    continue
                same_line = overlap_1d(a[1], a[3], b[1], b[3]) >= 0.6 * h and max(ha, hb) <= 1.6 * h
                dx = max(b[0] - a[2], a[0] - b[2], 0.0)
                if same_line and dx <= gap * max(ha, hb):
                    out[j] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    merged = True
                    break
            else:
                out.append(b)
        boxes = out
    return boxes
