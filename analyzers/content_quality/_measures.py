"""Per-frame quality measurements for content_quality (grey frames, uint8)."""
from __future__ import annotations

import math

import cv2
import numpy as np

SHARPNESS_SIDE = 640  # sharpness is measured at one viewing size so inputs of any size compare
DARK, BRIGHT = 4, 251
_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
EDGE_FRACTION = 0.10  # the strongest-gradient pixels are texture, not noise: left out


def sharpness(grey: np.ndarray) -> float:
    """Variance of the Laplacian at SHARPNESS_SIDE (never upscaled)."""
    h, w = grey.shape
    scale = SHARPNESS_SIDE / max(h, w)
    if scale < 1:
        grey = cv2.resize(grey, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
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
    """Edge strength on the codec's block grid over the edge strength elsewhere (1 = no blocks).

    Differences between neighbouring columns (and rows) are grouped by their phase within the
    block ``period`` (8 coded pixels, scaled to this frame's size); the phase the grid sits on is
    unknown after rotation or cropping, so the strongest phase is compared with the median one.
    Returns None when the scaled grid is finer than 4 pixels: it can no longer be told apart.
    """
    if period < 4:
        return None
    g = grey.astype(np.float32)
    ratios = []
    for diff in (np.abs(np.diff(g, axis=1)).mean(axis=0), np.abs(np.diff(g, axis=0)).mean(axis=1)):
        nb = max(4, round(period))
        phase = np.floor(((np.arange(len(diff)) + 1) % period) / period * nb).astype(int) % nb
        means = np.array([diff[phase == b].mean() for b in range(nb) if (phase == b).any()])
        base = float(np.median(means))
        if base < 1e-3:  # a flat picture has no edges anywhere: no blocks to see
            ratios.append(1.0)
        else:
            ratios.append(float(means.max() / base))
    return float(np.mean(ratios))
