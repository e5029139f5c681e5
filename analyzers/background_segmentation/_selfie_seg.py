"""MediaPipe's selfie segmentation model, run directly with LiteRT.

Running the .tflite ourselves (rather than through ``mp.solutions``) puts the
input tensor in our hands, and with it the dtype: preprocessing may run in
float16 to save memory, but what reaches the interpreter is always cast to the
dtype the model declares. A float/half mismatch is what killed this analyzer's
predecessor.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

MODEL_FILES = {"general": "selfie_segmentation.tflite",
               "landscape": "selfie_segmentation_landscape.tflite"}
PRECISIONS = {"float32": np.float32, "float16": np.float16}


def model_path(variant: str) -> Path:
    import mediapipe  # only for the location of the files it ships

    return Path(mediapipe.__file__).parent / "modules" / "selfie_segmentation" / MODEL_FILES[variant]


class SelfieSegmenter:
    def __init__(self, variant: str, precision: str = "float32", threads: int = 1):
        from ai_edge_litert.interpreter import Interpreter

        if precision not in PRECISIONS:
            raise ValueError(f"precision {precision!r} not in {sorted(PRECISIONS)}")
        self.path = model_path(variant)
        self.work_dtype = PRECISIONS[precision]
        self.interpreter = Interpreter(model_path=str(self.path), num_threads=max(1, threads))
        self.interpreter.allocate_tensors()
        inp = self.interpreter.get_input_details()[0]
        self._in_index = inp["index"]
        self.input_dtype = np.dtype(inp["dtype"])
        _, self.height, self.width, _ = (int(v) for v in inp["shape"])
        self._out_index = self.interpreter.get_output_details()[0]["index"]

    def tensor(self, bgr: np.ndarray) -> np.ndarray:
        """Frame -> model input: RGB in [0, 1], computed in the working precision, then cast."""
        rgb = cv2.cvtColor(cv2.resize(bgr, (self.width, self.height), interpolation=cv2.INTER_AREA),
                           cv2.COLOR_BGR2RGB)
        x = rgb.astype(self.work_dtype) / self.work_dtype(255.0)
        return np.ascontiguousarray(x[None].astype(self.input_dtype, copy=False))

    def probabilities(self, bgr: np.ndarray) -> np.ndarray:
        """Person probability per pixel of ``bgr`` (float32, same height and width)."""
        self.interpreter.set_tensor(self._in_index, self.tensor(bgr))
        self.interpreter.invoke()
        mask = self.interpreter.get_tensor(self._out_index)[0, :, :, 0].astype(np.float32)
        return cv2.resize(mask, (bgr.shape[1], bgr.shape[0]), interpolation=cv2.INTER_LINEAR)
