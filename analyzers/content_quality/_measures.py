"""Per-frame quality measurements for content_quality (grey frames, uint8)."""
from __future__ import annotations

import math

import cv2
import numpy as np

SHARPNESS_SIDE = 640  # sharpness is measured at one viewing size so inputs of any size compare
FLAT_STD = 1.0  # luma std (levels) under which a frame is featureless: no detail, no sharpness
DARK, BRIGHT = 4, 251
_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
EDGE_FRACTION = 0.10  # the strongest-gradient pixels are texture, not noise: left out
SMOOTH_MAX, STEP_MAX = 3.0, 24.0  # levels: what counts as smooth, and as a small step
STEP_FLOOR = 0.25  # keeps the ratio near 1 on flat pictures, where every step is ~0


def sharpness(grey: np.ndarray) -> float | None:
    """Variance of the Laplacian at SHARPNESS_SIDE (never upscaled); None for a featureless frame.

    A frame whose luma spread (std) is under FLAT_STD levels has no detail to judge focus on (black,
    a solid card): its Laplacian variance (0, or noise alone) says nothing about blur.
    """
    h, w = grey.shape
    scale = SHARPNESS_SIDE / max(h, w)
    if scale < 1:
        grey = cv2.resize(grey, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    if float(grey.std()) < FLAT_STD:
        return None
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def clipping(grey: np.ndarray) -> tuple[float, float]:
    n = grey.size
    return float((grey <= DARK).sum() / n), float((grey >= BRIGHT).sum() / n)


def noise_sigma(grey: np.ndarray) -> float:
    """Immerkaer's fast noise estimate (1996), over the pixels that are not edges (Tai & Yang 2008)."""
    g = grey.astype(np.float32)
    resp = np.abs(cv2.filter2D(g, -1, _NOISE_KERNEL, borderType=cv2.BORDER_REFLECT))[1:-1, 1:-1]
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0)[1:-1, 1:-1]
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1)[1:-1, 1:-1]
    mag = np.abs(gx) + np.abs(gy)
    flat = mag <= np.quantile(mag, 1 - EDGE_FRACTION)
    if not flat.any():
        flat = np.ones_like(mag, dtype=bool)
    return float(math.sqrt(math.pi / 2) * resp[flat].mean() / 6)


def blockiness(grey: np.ndarray, period: float) -> float | None:
    """Small steps on the codec's block grid over small steps elsewhere (1 = no blocks).

    A block edge is a small step between two smooth runs of pixels, so only steps of at most
    STEP_MAX levels whose neighbouring differences are at most SMOOTH_MAX count: a picture's own
    edges (which may well sit on a multiple of 8, as in test patterns) are left out. Steps are
    grouped by their phase within the block ``period`` (8 coded pixels, scaled to this frame);
    the grid's phase is unknown after rotation or cropping, so the strongest phase is compared
    with the median one. None when the scaled grid is finer than 4 pixels, or when the picture
    has too few smooth places to tell.
    """
    if period < 4:
        return None
    g = grey.astype(np.float32)
    nb = max(4, round(period))
    ratios = []
    for d in (np.abs(np.diff(g, axis=1)), np.abs(np.diff(g, axis=0)).T):
        left, step, right = d[:, :-2], d[:, 1:-1], d[:, 2:]
        ok = (np.maximum(left, right) <= SMOOTH_MAX) & (step <= STEP_MAX)
        phase = np.floor(((np.arange(step.shape[1]) + 2) % period) / period * nb).astype(int) % nb
        sums = np.bincount(phase, weights=np.where(ok, step, 0).sum(axis=0), minlength=nb)
        counts = np.bincount(phase, weights=ok.sum(axis=0), minlength=nb)
        if counts.min() < 100:
            continue
        means = sums / counts
        ratios.append(float((means.max() + STEP_FLOOR) / (np.median(means) + STEP_FLOOR)))
    return float(np.mean(ratios)) if ratios else None
