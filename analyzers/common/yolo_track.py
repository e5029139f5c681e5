"""Greedy IoU tracking across sampled frames, and model-file helpers for YOLO weights (object_detection, body_pose).

Ultralytics' own trackers (ByteTrack/BoT-SORT) want the ``lap`` package, which
they try to pip-install at run time: that fails with the network off, so the
linking is done here. At 2 fps a plain IoU match with a few frames of grace is
what the sampling rate supports anyway.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


import numpy as np


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of boxes ``a`` (N,4) and ``b`` (M,4), xyxy."""
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

    At 2 fps a small walking figure moves by about half its own height between
    frames, so its boxes stop overlapping: a detection also joins a track whose
    last box centre lies within ``max_shift`` of the box's size.
    """

    def __init__(self, iou_threshold: float = 0.3, max_gap: int = 2, max_shift: float = 0.6):
        self.iou_threshold = iou_threshold
        self.max_gap = max_gap  # frames a track may go unseen (occlusion, a missed detection)
        self.max_shift = max_shift
        self.tracks: list[TrackState] = []

    def _affinity(self, prev: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """IoU where boxes overlap enough, else a small score that falls with centre distance."""
        ov = iou(prev, boxes)
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
            m = np.where(same, m, 0.0)
            used_t, used_d = set(), set()
            for ti, di in sorted(np.argwhere(m > 0).tolist(), key=lambda p: -m[p[0], p[1]]):
                if ti in used_t or di in used_d:
                    continue
                used_t.add(ti)
                used_d.add(di)
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




def model_format(path: Path) -> str:
    if path.is_dir() and path.name.endswith("_openvino_model"):
        return "openvino"
    return {".pt": "pytorch", ".tflite": "tflite", ".onnx": "onnx"}.get(path.suffix, "other")
