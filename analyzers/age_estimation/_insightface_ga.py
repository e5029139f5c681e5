"""InsightFace's gender/age model (``genderage.onnx`` of the buffalo packs) on onnxruntime.

This follows ``insightface.model_zoo.attribute.Attribute`` without the
``insightface`` package (its wheel needs a compiler): the same crop (face
centre, 1.5x the longer box side, scaled to the input size), the same
normalization rule, and the same decoding (two gender scores, then age/100).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from analyzers.common.onnx_session import onnx_session


@dataclass(frozen=True)
class GenderAge:
    gender: str  # "male" | "female"
    gender_confidence: float
    age: float


def input_normalization(model_path: Path) -> tuple[float, float]:
    """(mean, std) as InsightFace decides it: graphs that normalize inside need none."""
    import onnx

    graph = onnx.load(str(model_path), load_external_data=False).graph
    find_sub = find_mul = False
    for i, node in enumerate(graph.node[:8]):
        if node.name.startswith(("Sub", "_minus")):
            find_sub = True
        if node.name.startswith(("Mul", "_mul")):
            find_mul = True
        if i < 3 and node.name == "bn_data":
            find_sub = find_mul = True
    return (0.0, 1.0) if find_sub and find_mul else (127.5, 128.0)


def _gender_probabilities(scores: np.ndarray) -> np.ndarray:
    scores = scores.astype(np.float64)
    if np.all(scores >= 0) and abs(scores.sum() - 1.0) < 1e-3:
        return scores
    e = np.exp(scores - scores.max())
    return e / e.sum()


class InsightFaceGenderAge:
    def __init__(self, model_path: Path, threads: int = 1):
        self.mean, self.std = input_normalization(model_path)
        self.session = onnx_session(model_path, threads)
        inp = self.session.get_inputs()[0]
        out = self.session.get_outputs()[0]
        if len(inp.shape) != 4 or not all(isinstance(v, int) for v in inp.shape[2:4]):
            raise ValueError(f"{model_path.name}: expected a fixed [N, 3, H, W] input, got {inp.shape}")
        if out.shape[-1] != 3:
            raise ValueError(f"{model_path.name}: expected 3 outputs (2 gender, age/100), got {out.shape}")
        if inp.type != "tensor(float)":
            raise ValueError(f"{model_path.name}: expected a float32 input, got {inp.type}")
        self.input_name = inp.name
        self.size = int(inp.shape[2])

    def crop(self, bgr: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
        x1, y1, x2, y2 = box
        scale = self.size / (max(x2 - x1, y2 - y1) * 1.5)
        cx, cy = (x1 + x2) / 2 * scale, (y1 + y2) / 2 * scale
        m = np.array([[scale, 0, self.size / 2 - cx], [0, scale, self.size / 2 - cy]], dtype=np.float32)
        return cv2.warpAffine(bgr, m, (self.size, self.size), borderValue=0.0)

    def predict(self, bgr: np.ndarray, box: tuple[float, float, float, float]) -> GenderAge:
        blob = cv2.dnn.blobFromImage(self.crop(bgr, box), 1.0 / self.std, (self.size, self.size),
                                     (self.mean, self.mean, self.mean), swapRB=True)
        pred = self.session.run(None, {self.input_name: blob.astype(np.float32)})[0][0]
        probs = _gender_probabilities(pred[:2])
        male = int(np.argmax(probs)) == 1  # InsightFace: index 1 is male
        return GenderAge(gender="male" if male else "female", gender_confidence=float(probs.max()),
                         age=float(np.round(pred[2] * 100)))
