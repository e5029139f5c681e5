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

A subject covering more than half the frame holds most of the corners, so LMedS follows it; the
background still shows around it. When a second motion holds a quarter of the tracks or more,
the one holding more of the frame's outer band (``BAND``) is the camera's (``_background``): on
the calibration set's big subjects (55-70 % of the frame crossing, swaying, or held in frame
while the camera pans) the dominant-motion rule labelled 1 of 80 clips right (issue 27).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

MIN_INLIERS = 8
MIN_SHARE = 0.5  # of the tracked corners that must agree on one camera motion ...
BAND = 0.08  # ... unless the tracks in this outer band of the frame side with another motion:
BAND_VOTE = 2 / 3  # this share of them closer to their own fit than to the dominant one, and
AGREE_PX = 0.1  # the two fits this far apart (px at a frame corner) or more
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
    p0, p1 = pts[good].reshape(-1, 2), nxt[good].reshape(-1, 2)
    m = _background(p0, p1, prev.shape)
    if m is None:
        return None
    if last is not None and _apart(m, last, prev.shape) > JUMP_PX:
        still = np.linalg.norm(p0 @ last[:, :2].T + last[:, 2] - p1, axis=1) < 1.0
        if still.mean() >= RIVAL_SHARE:
            return None
    return m


def _fit(p0: np.ndarray, p1: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """LMedS similarity from p0 to p1, and its inlier mask (all False when there is no fit)."""
    m, inliers = cv2.estimateAffinePartial2D(p0, p1, method=cv2.LMEDS, maxIters=2000, confidence=0.99)
    if m is None or inliers is None or int(inliers.sum()) < MIN_INLIERS:
        return None, np.zeros(len(p0), bool)
    return m, inliers.ravel().astype(bool)


def _background(p0: np.ndarray, p1: np.ndarray, shape: tuple[int, int]) -> np.ndarray | None:
    """The background's motion among the tracks: the camera's.

    The dominant motion (LMedS over every track), unless the tracks in the frame's outer band
    (``BAND`` of each side) move otherwise and clearly side with their own fit: at least
    ``BAND_VOTE`` of them are closer to it than to the dominant one. A subject covering more than
    half the frame (a face filling a selfie, a body crossing close) holds most of the corners, so
    its motion is the dominant one; the background still shows around it. A subject that only
    enters from one side holds about half of the band, not two thirds, and does not win it.
    None when neither rule finds a motion (no dominant one, and the band does not decide)."""
    n = len(p0)
    m_all, in_all = _fit(p0, p1)
    h, w = shape
    x, y = p0[:, 0], p0[:, 1]
    band = (x < BAND * w) | (x > (1 - BAND) * w) | (y < BAND * h) | (y > (1 - BAND) * h)
    m_band = _fit(p0[band], p1[band])[0] if band.sum() >= MIN_INLIERS else None
    if m_band is not None and (m_all is None or _apart(m_all, m_band, shape) > AGREE_PX):
        if m_all is None:
            return m_band
        q0, q1 = p0[band], p1[band]
        near_band = np.linalg.norm(q0 @ m_band[:, :2].T + m_band[:, 2] - q1, axis=1)
        near_all = np.linalg.norm(q0 @ m_all[:, :2].T + m_all[:, 2] - q1, axis=1)
        if (near_band < near_all).mean() >= BAND_VOTE:
            return m_band
    if m_all is None or in_all.sum() < MIN_SHARE * n:
        return None  # no dominant motion: moving things fill the frame, the camera's is unknown
    return m_all


def _apart(a: np.ndarray, b: np.ndarray, shape: tuple[int, int]) -> float:
    """How far two motions put the frame's corners apart, px."""
    h, w = shape
    box = np.array([[0, 0], [w, 0], [0, h], [w, h]], np.float64)
    return float(np.abs(box @ a[:, :2].T + a[:, 2] - (box @ b[:, :2].T + b[:, 2])).max())


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
