"""Frame-to-frame camera motion: tracked corners, then a least-median similarity transform.

The similarity (shift, scale, roll) is fitted to sparse Lucas-Kanade tracks
by least median of squares (LMedS), so people and objects moving through the
picture are outliers as long as the background holds most of the corners, and
only the background's motion (the camera's) remains. Corners are spread over a
grid so a textured subject cannot hold most of them.

LMedS, not RANSAC with a fixed inlier distance: measured on the motion
calibration set (``tests/analyzers/motion_set.py``), a cut-out a quarter of the
frame crossing a still photo at 0.1-0.3 frame widths/s (0.4-1 px per dense
frame) fell inside RANSAC's 1 px (and 0.3 px) inlier distance together with the
background, and the refit read it as a 0.04-0.15 widths/s pan; LMedS's inlier
distance follows the median residual (about 0.1 px on a still background) and
read 0.003 widths/s.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

MIN_INLIERS = 8
MIN_SHARE = 0.5  # of the tracked corners that must agree on one camera motion
JUMP_PX = 1.5  # a fit this far (at a frame corner) from the previous pair's ...
RIVAL_SHARE = 0.25  # ... while this share of the tracks still follow the previous one: ambiguous
# (tree.avi: a hand sweeping past the lens held most corners for 3 frames and read as 9 px jolts)
GRID = 4  # corners are kept per cell of a GRID x GRID grid ...
PER_CELL = 20  # ... at most this many (strongest first): the background's share of the corners
# follows its share of the picture, not its texture


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
    trackable: bool | None = None  # does prev hold enough corners (known once asked)
    last = None  # the previous accepted motion (a 2x3 matrix)
    for i in range(1, n):
        cur = _gray(frames.read(i))
        if np.array_equal(prev, cur):
            # duplicated frames (low-rate sources): no motion, known, if the picture could show
            # one; a featureless picture repeated says nothing about the camera
            if trackable is None:
                pts = _spread_corners(prev)
                trackable = pts is not None and len(pts) >= MIN_INLIERS
            ok[i] = trackable
            continue  # prev and cur are the same picture
        trackable = None
        m = _similarity(prev, cur, last)
        if m is not None:
            last = m
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


def _similarity(prev: np.ndarray, cur: np.ndarray, last: np.ndarray | None = None) -> np.ndarray | None:
    """The camera's similarity from prev to cur, or None when unknown.

    ``last``: the previous pair's accepted motion. When the new fit jumps away from it while a
    fair share of the tracks (RIVAL_SHARE) still move as before, two motions compete (a hand or a
    body sweeping past the lens over a still background) and the camera's is unknown: None.
    """
    pts = _spread_corners(prev)
    if pts is None or len(pts) < MIN_INLIERS:
        return None
    nxt, status, _ = cv2.calcOpticalFlowPyrLK(prev, cur, pts, None, winSize=(15, 15), maxLevel=3)
    good = status.ravel() == 1
    if good.sum() < MIN_INLIERS:
        return None
    m, inliers = cv2.estimateAffinePartial2D(pts[good], nxt[good], method=cv2.LMEDS,
                                             maxIters=2000, confidence=0.99)
    if m is None or inliers is None or int(inliers.sum()) < MIN_INLIERS:
        return None
    if inliers.sum() < MIN_SHARE * good.sum():
        return None  # no dominant motion: moving things fill the frame, the camera's is unknown
    if last is not None:
        h, w = prev.shape
        box = np.array([[0, 0], [w, 0], [0, h], [w, h]], np.float64)
        jump = np.abs(box @ m[:, :2].T + m[:, 2] - (box @ last[:, :2].T + last[:, 2])).max()
        if jump > JUMP_PX:
            p0, p1 = pts[good].reshape(-1, 2), nxt[good].reshape(-1, 2)
            still = np.linalg.norm(p0 @ last[:, :2].T + last[:, 2] - p1, axis=1) < 1.0
            if still.mean() >= RIVAL_SHARE:
                return None
    return m


def _spread_corners(img: np.ndarray) -> np.ndarray | None:
    """Shi-Tomasi corners, at most PER_CELL per grid cell, strongest first."""
    pts = cv2.goodFeaturesToTrack(img, maxCorners=2000, qualityLevel=0.005, minDistance=4,
                                  blockSize=5)
    if pts is None:
        return None
    h, w = img.shape
    xy = pts.reshape(-1, 2)
    cell = (np.minimum(xy[:, 1] * GRID // h, GRID - 1) * GRID
            + np.minimum(xy[:, 0] * GRID // w, GRID - 1)).astype(int)
    keep = np.zeros(len(xy), bool)
    seen = np.zeros(GRID * GRID, int)
    for i, c in enumerate(cell):  # pts come strongest first
        if seen[c] < PER_CELL:
            seen[c] += 1
            keep[i] = True
    return pts[keep]
