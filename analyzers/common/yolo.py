"""Ultralytics YOLO weights: which export a store file is (object_detection, body_pose)."""
from __future__ import annotations

from pathlib import Path


def model_format(path: Path) -> str:
    """``openvino`` (a ``*_openvino_model`` folder), ``pytorch``, ``tflite``, ``onnx`` or ``other``."""
    if path.is_dir() and path.name.endswith("_openvino_model"):
        return "openvino"
    return {".pt": "pytorch", ".tflite": "tflite", ".onnx": "onnx"}.get(path.suffix, "other")
