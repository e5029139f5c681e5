"""InsightFace's SCRFD face detector (``det_10g.onnx`` of buffalo_l) on onnxruntime.

Follows ``insightface.model_zoo.scrfd.SCRFD`` (its wheel needs a compiler):
letterbox into the input size (top-left aligned, zero padded), anchor centres
per stride, distances to box edges scaled by the stride, score threshold, NMS.
The output layout is read from the number of outputs, as InsightFace does.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from analyzers.common.boxes import nms
from analyzers.common.face_detect import FaceBox
from analyzers.common.onnx_session import onnx_session

# outputs -> (strides, anchors per position, has keypoints)
_LAYOUTS = {6: ((8, 16, 32), 2, False), 9: ((8, 16, 32), 2, True),
            10: ((8, 16, 32, 64, 128), 1, False), 15: ((8, 16, 32, 64, 128), 1, True)}


class SCRFD:
    def __init__(self, model_path: Path, threads: int = 1, det_size: int = 640,
                 score_threshold: float = 0.5, nms_threshold: float = 0.4):
        self.session = onnx_session(model_path, threads)
        inp = self.session.get_inputs()[0]
        outputs = self.session.get_outputs()
        if len(outputs) not in _LAYOUTS:
            raise ValueError(f"{model_path.name}: {len(outputs)} outputs is not an SCRFD layout "
                             f"({sorted(_LAYOUTS)})")
        self.strides, self.anchors, _ = _LAYOUTS[len(outputs)]
        self.batched = len(outputs[0].shape) == 3
        self.input_name = inp.name
        self.output_names = [o.name for o in outputs]
        fixed = isinstance(inp.shape[2], int) and isinstance(inp.shape[3], int)
        self.size = (int(inp.shape[3]), int(inp.shape[2])) if fixed else (det_size, det_size)
        self.score_threshold, self.nms_threshold = score_threshold, nms_threshold

    def detect(self, bgr: np.ndarray) -> list[FaceBox]:
        height, width = bgr.shape[:2]
        in_w, in_h = self.size
        if height / width > in_h / in_w:
            new_h, new_w = in_h, int(in_h * width / height)
        else:
            new_w, new_h = in_w, int(in_w * height / width)
        scale = new_h / height
        canvas = np.zeros((in_h, in_w, 3), dtype=np.uint8)
        canvas[:new_h, :new_w] = cv2.resize(bgr, (new_w, new_h))
        blob = cv2.dnn.blobFromImage(canvas, 1.0 / 128.0, (in_w, in_h), (127.5, 127.5, 127.5), swapRB=True)
        outs = self.session.run(self.output_names, {self.input_name: blob})
        n = len(self.strides)
        found = []
        for i, stride in enumerate(self.strides):
            scores, dist = outs[i], outs[i + n]
            if self.batched:
                scores, dist = scores[0], dist[0]
            scores, dist = scores.reshape(-1), dist.reshape(-1, 4) * stride
            gh, gw = in_h // stride, in_w // stride
            centres = (np.stack(np.mgrid[:gh, :gw][::-1], axis=-1).astype(np.float32) * stride).reshape(-1, 2)
            centres = np.repeat(centres, self.anchors, axis=0)
            if len(centres) != len(scores):
                raise ValueError(f"stride {stride}: {len(scores)} scores for {len(centres)} anchors")
            keep = np.where(scores >= self.score_threshold)[0]
            boxes = np.concatenate([centres[keep] - dist[keep, :2], centres[keep] + dist[keep, 2:]], axis=1)
            found.append(np.hstack([boxes / scale, scores[keep, None]]))
        dets = np.vstack(found) if found else np.zeros((0, 5))
        if not len(dets):
            return []
        dets = dets[nms(dets[:, :4], dets[:, 4], self.nms_threshold, pixel_inclusive=True)]
        out = []
        for x1, y1, x2, y2, s in dets:
            box = FaceBox(max(0.0, float(x1)), max(0.0, float(y1)), min(float(width), float(x2)),
                          min(float(height), float(y2)), float(s))
            if box.area > 0:
                out.append(box)
        return out

    def close(self) -> None:
        """Nothing to release; here for the same interface as the MediaPipe detector."""
