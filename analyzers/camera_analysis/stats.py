"""A span's camera-motion statistics from the per-frame-pair motion (``flow``).

Means over the tracked frame pairs of the span give pan, tilt, zoom and roll speeds; shake is
what a 0.5 s moving average of the camera path does not follow. ``tests/analyzers/
camera_calibration.py`` measures its clips with this same code (its stored statistics carry a
digest of this module and ``flow.py``).
"""
from __future__ import annotations

import math

import numpy as np

from shared_schema.results.motion import MotionStats

from .flow import Motion

SMOOTH_S = 0.5  # shake is what a 0.5 s moving average of the camera path does not follow
NOT_TRACKED = ("no frame pair in the span could be tracked (too few corners, or no motion shared "
               "by half of them)")
SHORT = f"the span is shorter than the {SMOOTH_S:g} s shake window"


def span_stats(m: Motion, a: int, b: int, fps: float, skip: np.ndarray) -> MotionStats:
    """Stats over frames ``a..b`` (inclusive), leaving out the pairs ``skip`` marks (transitions)."""
    idx = np.arange(a + 1, b + 1)  # pairs (i-1, i) inside the span
    idx = idx[~skip[idx]] if len(idx) else idx
    use = idx[m.ok[idx]] if len(idx) else idx
    if len(use) == 0:
        fields = ("pan_speed", "tilt_speed", "zoom_rate", "rotation_dps", "shake")
        return MotionStats(**dict.fromkeys(fields), tracked=0,
                           not_measured=dict.fromkeys(fields, NOT_TRACKED))
    # content moving left means the camera turning right: signs flipped to the camera's view
    pan = -float(m.dx[use].mean()) / m.width * fps
    tilt = -float(m.dy[use].mean()) / m.height * fps
    zoom = float(m.log_scale[use].mean()) * fps
    roll = math.degrees(float(m.roll[use].mean())) * fps
    dx = np.where(m.ok[idx], m.dx[idx], 0.0)
    dy = np.where(m.ok[idx], m.dy[idx], 0.0)
    rms = jitter(np.cumsum(dx), np.cumsum(dy), fps)
    shake = None if rms is None else round(rms / math.hypot(m.width, m.height) * 100, 4)
    return MotionStats(pan_speed=round(pan, 4), tilt_speed=round(tilt, 4), zoom_rate=round(zoom, 4),
                       rotation_dps=round(roll, 3), shake=shake,
                       tracked=round(len(use) / len(idx), 3) if len(idx) else 0.0,
                       not_measured={} if shake is not None else {"shake": SHORT})


def jitter(px: np.ndarray, py: np.ndarray, fps: float) -> float | None:
    """RMS distance of the path from its moving average (odd reflection keeps ramps exact);
    None when the path is shorter than the moving average (not measured)."""
    k = max(3, int(round(fps * SMOOTH_S)) | 1)
    if len(px) < k:
        return None
    ker = np.ones(k) / k

    def resid(p: np.ndarray) -> np.ndarray:
        padded = np.pad(p, k // 2, mode="reflect", reflect_type="odd")
        return p - np.convolve(padded, ker, mode="valid")

    return float(np.sqrt((resid(px) ** 2 + resid(py) ** 2).mean()))
