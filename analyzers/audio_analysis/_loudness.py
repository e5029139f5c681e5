"""BS.1770-4 loudness (K-weighting, gating) and EBU Tech 3342 loudness range, for any sample rate.

The K-weighting filters are designed per sample rate from their analogue parameters (the
same high shelf and high pass pyloudnorm uses), so a 16 kHz track gets a proper filter rather
than the 48 kHz coefficients printed in the standard.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.signal import lfilter

FLOOR_DB = -120.0
ABS_GATE = -70.0


def _biquad(kind: str, gain_db: float, q: float, fc: float, rate: int):
    a_lin = 10 ** (gain_db / 40)
    w0 = 2 * math.pi * fc / rate
    alpha = math.sin(w0) / (2 * q)
    cos = math.cos(w0)
    if kind == "high_shelf":
        sq = 2 * math.sqrt(a_lin) * alpha
        b = [a_lin * ((a_lin + 1) + (a_lin - 1) * cos + sq),
             -2 * a_lin * ((a_lin - 1) + (a_lin + 1) * cos),
             a_lin * ((a_lin + 1) + (a_lin - 1) * cos - sq)]
        a = [(a_lin + 1) - (a_lin - 1) * cos + sq,
             2 * ((a_lin - 1) - (a_lin + 1) * cos),
             (a_lin + 1) - (a_lin - 1) * cos - sq]
    else:  # high_pass
        b = [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2]
        a = [1 + alpha, -2 * cos, 1 - alpha]
    return np.array(b) / a[0], np.array(a) / a[0]


def k_weight(y: np.ndarray, rate: int) -> np.ndarray:
    """The signal through BS.1770's pre-filter (high shelf +4 dB above ~1.5 kHz) and RLB high pass."""
    for kind, g, q, fc in (("high_shelf", 4.0, 1 / math.sqrt(2), 1500.0), ("high_pass", 0.0, 0.5, 38.0)):
        b, a = _biquad(kind, g, q, fc, rate)
        y = lfilter(b, a, y)
    return y


def to_lufs(mean_square) -> np.ndarray:
    ms = np.asarray(mean_square, dtype=float)
    with np.errstate(divide="ignore"):
        return np.maximum(-0.691 + 10 * np.log10(ms), FLOOR_DB)


def block_power(yk: np.ndarray, rate: int, block_s: float, step_s: float) -> np.ndarray:
    """Mean square of the K-weighted signal over sliding blocks (empty when shorter than one)."""
    n, hop = int(round(block_s * rate)), int(round(step_s * rate))
    if len(yk) < n:
        return np.zeros(0)
    csum = np.concatenate([[0.0], np.cumsum(yk.astype(np.float64) ** 2)])
    starts = np.arange(0, len(yk) - n + 1, hop)
    return (csum[starts + n] - csum[starts]) / n


def integrated(yk: np.ndarray, rate: int) -> float | None:
    """Gated integrated loudness (400 ms blocks, 75% overlap, -70 LUFS absolute and -10 LU relative)."""
    z = block_power(yk, rate, 0.4, 0.1)
    z = z[to_lufs(z) > ABS_GATE]
    if len(z) == 0:
        return None
    rel_gate = to_lufs(z.mean()) - 10
    z = z[to_lufs(z) > rel_gate]
    return float(to_lufs(z.mean()))


def loudness_range(yk: np.ndarray, rate: int) -> float | None:
    """EBU Tech 3342: 3 s short-term blocks, -70 absolute and -20 LU relative gates, P95 - P10."""
    z = block_power(yk, rate, 3.0, 0.1)
    z = z[to_lufs(z) > ABS_GATE]
    if len(z) < 2:
        return None
    rel_gate = to_lufs(z.mean()) - 20
    st = to_lufs(z)
    st = st[st > rel_gate]
    if len(st) < 2:
        return None
    return float(np.percentile(st, 95) - np.percentile(st, 10))


def window_lufs(yk: np.ndarray, rate: int, centres: np.ndarray, width_s: float = 0.4) -> np.ndarray:
    """K-weighted loudness of the ``width_s`` around each centre (clipped at the track's ends)."""
    csum = np.concatenate([[0.0], np.cumsum(yk.astype(np.float64) ** 2)])
    half = width_s / 2
    lo = np.clip(np.round((centres - half) * rate).astype(int), 0, len(yk))
    hi = np.clip(np.round((centres + half) * rate).astype(int), 0, len(yk))
    n = np.maximum(hi - lo, 1)
    return to_lufs((csum[hi] - csum[lo]) / n)
