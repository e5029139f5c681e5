"""Boxes and simple tracks: IoU, non-maximum suppression, greedy matching, an IoU tracker.

A box is ``(x1, y1, x2, y2)`` with x1 < x2 and y1 < y2, in pixels or normalized: anything
indexable (a tuple, a numpy row). Used by face_detect (merging tiles), age_estimation (SCRFD's
NMS, face tracks), object_detection and body_pose (tracks across sampled frames).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

__all__ = ["area", "iou", "overlap_of_smaller", "iou_matrix", "nms", "greedy_match", "TrackState",
           "IouTracker"]


def area(b: Sequence[float]) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def _intersection(a: Sequence[float], b: Sequence[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return ix * iy


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two boxes (0 when both are empty)."""
    inter = _intersection(a, b)
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0


def overlap_of_smaller(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over the smaller box's area: 1 when one box lies inside the other."""
    smaller = min(area(a), area(b))
    return _intersection(a, b) / smaller if smaller > 0 else 0.0


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of boxes ``a`` (N, 4) and ``b`` (M, 4): an (N, M) array."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def nms(boxes, scores, iou_threshold: float, *, contained: float | None = None,
        pixel_inclusive: bool = False) -> list[int]:
    """Greedy non-maximum suppression: indices of the boxes kept, best score first.

    A box is dropped when its IoU with a better kept box is above ``iou_threshold`` or, with
    ``contained``, when that share of the smaller box lies inside the other (a face cut by a tile
    edge is a small box inside the whole one). ``pixel_inclusive``: widths are ``x2 - x1 + 1``, the
    convention of detectors trained on integer pixel boxes (InsightFace's SCRFD). Arithmetic is in
    the boxes' own float type, so float32 detector output gives the detector's own decisions.
    """
    b = np.asarray(boxes)
    b = (b if np.issubdtype(b.dtype, np.floating) else b.astype(np.float64)).reshape(-1, 4)
    s = np.asarray(scores).reshape(-1)
    off = 1.0 if pixel_inclusive else 0.0
    x1, y1, x2, y2 = b.T
    areas = (x2 - x1 + off) * (y2 - y1 + off)
    order = np.argsort(-s, kind="stable")
    keep: list[int] = []
    while order.size > 0:
        i, rest = order[0], order[1:]
        keep.append(int(i))
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + off)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + off)
        inter = w * h
        drop = inter / (areas[i] + areas[rest] - inter) > iou_threshold
        if contained is not None:
            drop |= inter / np.minimum(areas[i], areas[rest]) > contained
        order = rest[~drop]
    return keep


def greedy_match(affinity: np.ndarray, min_affinity: float = 0.0) -> list[tuple[int, int]]:
    """Rows matched to columns one to one, best affinity first; pairs under ``min_affinity`` (or 0)
    are never matched. Ties go to the lower row, then the lower column."""
    m = np.asarray(affinity, dtype=float)
    if m.size == 0:
        return []
    cand = [(r, c) for r, c in np.argwhere((m > 0) & (m >= min_affinity)).tolist()]
    cand.sort(key=lambda rc: -m[rc[0], rc[1]])  # stable: ties keep row-major order
    used_r: set[int] = set()
    used_c: set[int] = set()
    pairs = []
    for r, c in cand:
        if r in used_r or c in used_c:
            continue
        used_r.add(r)
        used_c.add(c)
        pairs.append((r, c))
    return pairs


@dataclass
class TrackState:
    id: int
    label: int
    box: np.ndarray
    last_frame: int
    velocity: np.ndarray | None = None  # box change per analyzed frame, from its last two hits
    hits: list[tuple[int, float, np.ndarray]] = field(default_factory=list)  # (frame, conf, box)


class IouTracker:
    """Links detections of the same class whose boxes overlap, or sit close, in nearby frames.

    Ultralytics' own trackers (ByteTrack/BoT-SORT) want the ``lap`` package, which they try to
    pip-install at run time: that fails with the network off, so the linking is done here. At
    2 fps a plain IoU match with a few frames of grace is what the sampling rate supports; a
    small walking figure moves by about half its own height between frames, so its boxes stop
    overlapping: a detection also joins a track whose last box centre lies within ``max_shift``
    of the box's size.
    """

    def __init__(self, iou_threshold: float = 0.3, max_gap: int = 2, max_shift: float = 0.6):
        self.iou_threshold = iou_threshold
        self.max_gap = max_gap  # frames a track may go unseen (occlusion, a missed detection)
        self.max_shift = max_shift
        self.tracks: list[TrackState] = []

    def _affinity(self, prev: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """IoU where boxes overlap enough, else a small score that falls with centre distance."""
        ov = iou_matrix(prev, boxes)
        cp = (prev[:, None, :2] + prev[:, None, 2:]) / 2
        cb = (boxes[None, :, :2] + boxes[None, :, 2:]) / 2
        size = np.maximum(np.maximum(prev[:, None, 2] - prev[:, None, 0], prev[:, None, 3] - prev[:, None, 1]),
                          np.maximum(boxes[None, :, 2] - boxes[None, :, 0], boxes[None, :, 3] - boxes[None, :, 1]))
        shift = np.linalg.norm(cp - cb, axis=2) / np.maximum(size, 1e-9)
        near = np.where(shift <= self.max_shift, self.iou_threshold * (1 - shift / (2 * self.max_shift)), 0.0)
        return np.where(ov >= self.iou_threshold, ov, near)

    def update(self, frame: int, boxes: np.ndarray, labels: np.ndarray, confs: np.ndarray) -> list[int]:
        """Assign a track id to each detection of ``frame`` (greedy, best affinity first)."""
        alive = [t for t in self.tracks if frame - t.last_frame <= self.max_gap + 1]
        ids = [0] * len(boxes)
        if alive and len(boxes):
            # walkers keep walking: compare with where each track should be now
            predicted = np.array([t.box if t.velocity is None else t.box + t.velocity * (frame - t.last_frame)
                                  for t in alive])
            m = self._affinity(predicted, np.asarray(boxes, dtype=float))
            same = np.array([[t.label == lab for lab in labels] for t in alive])
            for ti, di in greedy_match(np.where(same, m, 0.0)):
                ids[di] = alive[ti].id
        for di in range(len(boxes)):
            if ids[di] == 0:
                state = TrackState(id=len(self.tracks) + 1, label=int(labels[di]), box=boxes[di], last_frame=frame)
                self.tracks.append(state)
                ids[di] = state.id
            state = self.tracks[ids[di] - 1]
            if state.hits and frame > state.last_frame:
                state.velocity = (boxes[di] - state.box) / (frame - state.last_frame)
            state.box, state.last_frame = boxes[di], frame
            state.hits.append((frame, float(confs[di]), boxes[di]))
        return ids
