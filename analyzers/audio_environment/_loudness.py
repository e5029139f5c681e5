"""ITU-R BS.1770 loudness (K-weighting, gating) and EBU Tech 3342 loudness range, mono.

The K-weighting biquads are derived for the actual sample rate (the standard tabulates
48 kHz only); the shelf and high-pass parameters are the usual fit of the BS.1770 curves.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.signal import lfilter

ABS_GATE = -70.0


def _high_shelf(fs: float, fc: float = 1500.0, gain_db: float = 4.0, q: float = 1 / math.sqrt(2)):
    a = 10 ** (gain_db / 40)
    w0 = 2 * math.pi * fc / fs
    alpha = math.sin(w0) / (2 * q)
    c, sa = math.cos(w0), 2 * math.sqrt(a) * alpha
    b = [a * ((a + 1) + (a - 1) * c + sa), -2 * a * ((a - 1) + (a + 1) * c), a * ((a + 1) + (a - 1) * c - sa)]
    den = [(a + 1) - (a - 1) * c + sa, 2 * ((a - 1) - (a + 1) * c), (a + 1) - (a - 1) * c - sa]
    return np.array(b) / den[0], np.array(den) / den[0]


def _high_pass(fs: float, fc: float = 38.0, q: float = 0.5):
    w0 = 2 * math.pi * fc / fs
    alpha = math.sin(w0) / (2 * q)
    c = math.cos(w0)
    b = [(1 + c) / 2, -(1 + c), (1 + c) / 2]
    den = [1 + alpha, -2 * c, 1 - alpha]
    return np.array(b) / den[0], np.array(den) / den[0]


def k_weight(x: np.ndarray, fs: int) -> np.ndarray:
    b, a = _high_shelf(fs)
    y = lfilter(b, a, x.astype(np.float64))
    b, a = _high_pass(fs)
    return lfilter(b, a, y)


def _block_powers(y: np.ndarray, fs: int, block_s: float, step_s: float) -> np.ndarray:
    n, hop = int(round(block_s * fs)), int(round(step_s * fs))
    if len(y) < n:
        return np.empty(0)
    csum = np.concatenate([[0.0], np.cumsum(y * y)])
    starts = np.arange(0, len(y) - n + 1, hop)
    return (csum[starts + n] - csum[starts]) / n


def _lufs(power):
    return -0.691 + 10 * np.log10(np.maximum(power, 1e-20))


def integrated(y: np.ndarray, fs: int) -> float | None:
    p = _block_powers(y, fs, 0.4, 0.1)
    p = p[_lufs(p) > ABS_GATE]
    if p.size == 0:
        return None
    rel = _lufs(p.mean()) - 10
    p = p[_lufs(p) > rel]
    return float(_lufs(p.mean())) if p.size else None


def short_term(y: np.ndarray, fs: int) -> np.ndarray:
    """3 s windows every 0.1 s, in LUFS."""
    return _lufs(_block_powers(y, fs, 3.0, 0.1))


def loudness_range(st: np.ndarray) -> float | None:
    st = st[st > ABS_GATE]
    if st.size < 2:
        return None
    rel = _lufs(np.mean(10 ** ((st + 0.691) / 10))) - 20
    st = st[st > rel]
    if st.size < 2:
        return None
    return float(np.percentile(st, 95) - np.percentile(st, 10))
