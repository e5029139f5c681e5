"""Per-frame measurements that cut detection shares: small frames, motion-compensated differences.

Frames come from the shared ``dense`` set (grey, every frame). Differences are
measured after aligning the previous frame by the global shift phase
correlation finds, so handheld shake and pans do not look like content change.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import cv2
import numpy as np

SMALL_W = 64  # wide enough for phase correlation, small enough to be noise-free and fast
MARGIN = 4  # px of the small frame ignored at the borders (content shifted in from outside)
BLOCK = 8


@dataclass
class FrameStats:
    """Everything measured once per frame and per consecutive pair."""

    small: np.ndarray  # (N, h, w) uint8, blurred (see as_float)
    mean: np.ndarray  # (N,) mean luma 0..255 of the full dense frame
    std: np.ndarray  # (N,) luma standard deviation 0..255
    diff: np.ndarray  # (N,) diff[i] = aligned_diff(f[i-1], f[i]), 0..1; diff[0] = 0
    shift: np.ndarray  # (N, 2) phase-correlation shift of f[i] against f[i-1], small-frame px


def as_float(small: np.ndarray) -> np.ndarray:
    """A stored small frame (uint8, to keep long videos in memory) as float32 0..1."""
    return small.astype(np.float32) * (1.0 / 255.0)


def aligned_diff(a: np.ndarray, b: np.ndarray, window: np.ndarray) -> tuple[float, tuple[float, float]]:
    """How much of the picture changed from ``a`` to ``b``, after undoing the global shift.

    The median over blocks, not the mean over pixels: a hand or a person moving
    through part of the frame changes a minority of blocks; a cut changes nearly all.
    Flat blocks in both frames (letterbox bars, sky) carry no evidence and are left out.
    """
    # copies: opencv-python 4.13's phaseCorrelate applies the window to its inputs in place
    (dx, dy), response = cv2.phaseCorrelate(a.copy(), b.copy(), window)
    shift = (0.0, 0.0)
    moved = a
    if response >= 0.05 and abs(dx) <= a.shape[1] / 4 and abs(dy) <= a.shape[0] / 4:
        m = np.float32([[1, 0, dx], [0, 1, dy]])
        moved = cv2.warpAffine(a, m, (a.shape[1], a.shape[0]), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
        shift = (float(dx), float(dy))
    raw, texture = _block_stats(a, b)
    if moved is not a:
        aligned, _ = _block_stats(moved, b)
        raw = np.minimum(raw, aligned)  # never report more change than the unaligned frames show
    active = (texture > 0.01) | (raw > 0.01)
    if active.sum() < 4:
        return float(raw.mean()), shift
    return float(np.median(raw[active])), shift


def _block_stats(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per block: mean |b - a| and the larger of the two frames' spread (texture)."""
    m = MARGIN
    a, b = a[m:-m, m:-m], b[m:-m, m:-m]
    h, w = (a.shape[0] // BLOCK) * BLOCK, (a.shape[1] // BLOCK) * BLOCK
    a, b = a[:h, :w], b[:h, :w]
    size = (w // BLOCK, h // BLOCK)

    def box(x: np.ndarray) -> np.ndarray:  # exact block means (INTER_AREA on a whole factor)
        return cv2.resize(x, size, interpolation=cv2.INTER_AREA)

    diff = box(cv2.absdiff(a, b))
    var_a = box(a * a) - box(a) ** 2
    var_b = box(b * b) - box(b) ** 2
    texture = np.sqrt(np.maximum(np.maximum(var_a, var_b), 0.0))
    return diff, texture


def measure(frames, visit: Callable[[int, np.ndarray], None] | None = None) -> FrameStats:
    """Read every frame of a FrameSet once; ``visit(i, grey)`` sees each one as it goes by.

    Only the small frames are kept (about 7 KB each), so a 10-minute video at 30 fps
    fits in about 150 MB.
    """
    n = len(frames)
    small: np.ndarray | None = None
    mean = np.empty(n, np.float64)
    std = np.empty(n, np.float64)
    for i in range(n):
        img = frames.read(i)
        gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        if visit is not None:
            visit(i, gray)
        if small is None:
            h, w = gray.shape
            small = np.empty((n, max(8, int(round(SMALL_W * h / w))), SMALL_W), np.uint8)
        s = cv2.resize(gray, (SMALL_W, small.shape[1]), interpolation=cv2.INTER_AREA)
        small[i] = cv2.GaussianBlur(s, (3, 3), 0)
        (m,), (sd,) = cv2.meanStdDev(gray)
        mean[i], std[i] = m[0], sd[0]
    assert small is not None, "empty frame set"
    window = _window(small.shape[1:])
    diff = np.zeros(n, np.float32)
    shift = np.zeros((n, 2), np.float32)
    prev = as_float(small[0])
    for i in range(1, n):
        cur = as_float(small[i])
        diff[i], shift[i] = aligned_diff(prev, cur, window)
        prev = cur
    return FrameStats(small=small, mean=mean, std=std, diff=diff, shift=shift)


def pair_diff(stats: FrameStats, i: int, j: int) -> float:
    """Compensated difference between any two frames (for long-range comparisons)."""
    return aligned_diff(as_float(stats.small[i]), as_float(stats.small[j]),
                        _window(stats.small.shape[1:]))[0]


@lru_cache(maxsize=4)
def _window(shape: tuple[int, int]) -> np.ndarray:
    return cv2.createHanningWindow((shape[1], shape[0]), cv2.CV_32F)


def confidence(*margins: float) -> float:
    """The one confidence formula of every boundary: m / (1 + m), m its weakest test's margin.

    A detector keeps a boundary when each of its tests passes: a measure at least (or at most) a
    required level. A test's margin is measured / required (required / measured for "at most"),
    >= 1 for a kept boundary. The confidence takes the weakest margin as the odds that the
    boundary is real: 0.5 exactly at a threshold (as likely kept as not), 0.75 at 3 times it,
    0.9 at 9 times. A documented convention, not fitted to data (docs/cuts.md).
    """
    m = min(margins) if margins else 1.0
    m = min(max(m, 0.0), 1e6)
    return round(m / (1.0 + m), 3)


def margin(measured: float, required: float, at_most: bool = False) -> float:
    """measured / required (required / measured for an "at most" test); a zero denominator is
    an overwhelming margin (1e6)."""
    num, den = (required, measured) if at_most else (measured, required)
    return num / den if den > 1e-12 else 1e6
