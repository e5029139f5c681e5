"""Frame-to-frame camera motion: tracked corners, then a RANSAC similarity transform.

The similarity (shift, scale, roll) is fitted to sparse Lucas-Kanade tracks
with RANSAC, so people and objects moving through the picture are outliers and
only the background's motion (the camera's) remains.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

MIN_INLIERS = 8
MIN_SHARE = 0.5  # of the tracked corners that must agree on one camera motion


@dataclass
class Motion:
    """Per frame i (against frame i-1); index 0 and untracked pairs are 0 with ok False."""

    dx: np.ndarray  # px at the frame centre, content motion (+ right)
    dy: np.ndarray  # px, content motion (+ down)
    log_scale: np.ndarray  # + content grows (zoom in)
    roll: np.ndarray  # radians
    ok: np.ndarray  # bool: a reliable estimate
    width: int
    height: int


def _gray(img: np.ndarray) -> np.ndarray:
    return img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


def estimate(frames) -> Motion:
    """Read a FrameSet once, in order, holding two frames at a time."""
    n = len(frames)
    dx, dy, ls, roll = (np.zeros(n, np.float64) for _ in range(4))
    ok = np.zeros(n, bool)
    prev = _gray(frames.read(0))
    h, w = prev.shape
    centre = np.array([w / 2.0, h / 2.0])
    for i in range(1, n):
        cur = _gray(frames.read(i))
        if np.array_equal(prev, cur):  # duplicated frames (low-rate sources): no motion, known
            ok[i] = True
        else:
            m = _similarity(prev, cur)
            if m is not None:
                a, b = m[0, 0], m[1, 0]
                scale = math.hypot(a, b)
                # translation of the frame centre, so a zoom about the centre is not read as a pan
                tc = m[:, :2] @ centre + m[:, 2] - centre
                dx[i], dy[i] = tc
                ls[i] = math.log(scale) if scale > 0 else 0.0
                roll[i] = math.atan2(b, a)
                ok[i] = True
        prev = cur
    return Motion(dx, dy, ls, roll, ok, w, h)


def _similarity(prev: np.ndarray, cur: np.ndarray) -> np.ndarray | None:
    pts = cv2.goodFeaturesToTrack(prev, maxCorners=300, qualityLevel=0.01, minDistance=4,
                                  blockSize=5)
    if pts is None or len(pts) < MIN_INLIERS:
        return None
    nxt, status, _ = cv2.calcOpticalFlowPyrLK(prev, cur, pts, None, winSize=(15, 15), maxLevel=3)
    good = status.ravel() == 1
    if good.sum() < MIN_INLIERS:
        return None
    m, inliers = cv2.estimateAffinePartial2D(pts[good], nxt[good], method=cv2.RANSAC,
                                             ransacReprojThreshold=1.0, maxIters=2000,
                                             confidence=0.99)
    if m is None or inliers is None or int(inliers.sum()) < MIN_INLIERS:
        return None
    if inliers.sum() < MIN_SHARE * good.sum():
        return None  # no dominant motion: moving things fill the frame, the camera's is unknown
    return m
