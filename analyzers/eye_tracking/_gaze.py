"""Gaze cues from MediaPipe face-mesh landmarks (478 points with refine_landmarks=True).

Looking at the camera needs both: the head turned towards it (pose from
solvePnP on six landmarks against a generic face) and the irises near the
middle of the eyes (a frontal head whose eyes look aside is not eye contact).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# (outer corner, upper lid a, upper lid b, inner corner, lower lid b, lower lid a, iris centre)
# "right"/"left" are the subject's: the right eye is on the image's left.
RIGHT_EYE = (33, 160, 158, 133, 153, 144, 468)
LEFT_EYE = (263, 387, 385, 362, 380, 373, 473)
N_LANDMARKS = 478

# Generic face in millimetres-ish units; x right, y down, z away from the camera,
# so a face looking straight into the camera has rotation ~identity.
_POSE_IDS = (1, 152, 33, 263, 61, 291)  # nose tip, chin, eye outer corners, mouth corners
_POSE_MODEL = np.array([
    (0.0, 0.0, 0.0), (0.0, 330.0, 65.0),
    (-225.0, -170.0, 135.0), (225.0, -170.0, 135.0),
    (-150.0, 150.0, 125.0), (150.0, 150.0, 125.0)], dtype=np.float64)


@dataclass(frozen=True)
class GazeCues:
    yaw: float
    pitch: float
    iris_offset: float
    ear: float


def eye_aspect_ratio(pts: np.ndarray, eye: tuple[int, ...]) -> float:
    p1, p2, p3, p4, p5, p6 = (pts[i] for i in eye[:6])
    width = np.linalg.norm(p1 - p4)
    if width <= 0:
        return 0.0
    return float((np.linalg.norm(p2 - p6) + np.linalg.norm(p3 - p5)) / (2.0 * width))


def iris_offset(pts: np.ndarray, eye: tuple[int, ...]) -> float:
    """Iris distance from the eye's centre, in half eye-widths (0 = centred, ~1 = at a corner)."""
    outer, inner, iris = pts[eye[0]], pts[eye[3]], pts[eye[6]]
    axis = inner - outer
    half = np.linalg.norm(axis) / 2.0
    if half <= 0:
        return 0.0
    unit = axis / (2.0 * half)
    rel = iris - (outer + inner) / 2.0
    along = float(rel @ unit)
    # the lids hide part of the iris, so the vertical term weighs in relative to lid height
    lids_mid = (pts[eye[1]] + pts[eye[2]] + pts[eye[4]] + pts[eye[5]]) / 4.0
    across = float(np.cross(unit, iris - lids_mid))
    return float(np.hypot(along / half, across / half))


def head_pose(pts: np.ndarray, width: int, height: int) -> tuple[float, float]:
    """(yaw, pitch) in degrees; 0, 0 faces the camera."""
    image_points = np.array([pts[i] for i in _POSE_IDS], dtype=np.float64)
    focal = float(max(width, height))
    camera = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1]], dtype=np.float64)
    ok, rvec, _ = cv2.solvePnP(_POSE_MODEL, image_points, camera, np.zeros(4),
                               flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok:
        raise ValueError("solvePnP found no head pose")
    rot, _ = cv2.Rodrigues(rvec)
    angles, *_ = cv2.RQDecomp3x3(rot)
    pitch, yaw = float(angles[0]), float(angles[1])
    return _wrap(yaw), _wrap(pitch)


def _wrap(deg: float) -> float:
    return (deg + 180.0) % 360.0 - 180.0


def cues(landmarks: np.ndarray, width: int, height: int) -> GazeCues:
    """``landmarks``: (478, 2+) normalized to a crop of ``width`` x ``height`` pixels."""
    pts = landmarks[:, :2] * np.array([width, height], dtype=np.float64)
    yaw, pitch = head_pose(pts, width, height)
    offset = (iris_offset(pts, RIGHT_EYE) + iris_offset(pts, LEFT_EYE)) / 2.0
    ear = (eye_aspect_ratio(pts, RIGHT_EYE) + eye_aspect_ratio(pts, LEFT_EYE)) / 2.0
    return GazeCues(yaw=yaw, pitch=pitch, iris_offset=offset, ear=ear)
