"""BS.1770-4 loudness (K-weighting, gating) and EBU Tech 3342 loudness range, mono, any sample rate.

The K-weighting filters are designed per sample rate from their analogue parameters (the
same high shelf and high pass pyloudnorm uses), so a 16 kHz track gets a proper filter rather
than the 48 kHz coefficients printed in the standard. Used by audio_analysis (integrated,
range, a momentary series) and audio_environment (integrated, range, short-term maximum).

    yk = k_weight(samples, rate)       # once; every measure below takes the K-weighted track
    integrated(yk, rate), loudness_range(yk, rate), short_term(yk, rate), window_lufs(...)
"""
from __future__ import annotations

import math

import numpy as np
from scipy.signal import lfilter

__all__ = ["ABS_GATE", "FLOOR_DB", "block_power", "integrated", "k_weight", "loudness_range", "short_term",
           "to_lufs", "window_lufs"]

FLOOR_DB = -120.0   # what to_lufs gives digital silence: below every gate, never a reported level
ABS_GATE = -70.0    # LUFS: blocks at or under it are silence to the gating


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
    """The signal (float64) through BS.1770's pre-filter (high shelf +4 dB above ~1.5 kHz) and RLB high pass."""
    y = np.asarray(y, dtype=np.float64)
    for kind, g, q, fc in (("high_shelf", 4.0, 1 / math.sqrt(2), 1500.0), ("high_pass", 0.0, 0.5, 38.0)):
        b, a = _biquad(kind, g, q, fc, rate)
        y = lfilter(b, a, y)
    return y


def to_lufs(mean_square) -> np.ndarray:
    """LUFS of mean squares of the K-weighted signal; FLOOR_DB for silence."""
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
    """Gated integrated loudness (400 ms blocks, 75% overlap, -70 LUFS absolute and -10 LU relative);
    None when every block is under the absolute gate."""
    z = block_power(yk, rate, 0.4, 0.1)
    z = z[to_lufs(z) > ABS_GATE]
    if len(z) == 0:
        return None
    rel_gate = to_lufs(z.mean()) - 10
    z = z[to_lufs(z) > rel_gate]
    return float(to_lufs(z.mean())) if len(z) else None


def short_term(yk: np.ndarray, rate: int) -> np.ndarray:
    """Short-term loudness: 3 s blocks every 0.1 s, in LUFS (FLOOR_DB for silence; empty under 3 s)."""
    return to_lufs(block_power(yk, rate, 3.0, 0.1))


def loudness_range(yk: np.ndarray, rate: int) -> float | None:
    """EBU Tech 3342: 3 s short-term blocks, -70 absolute and -20 LU relative gates, P95 - P10;
    None with fewer than two blocks left."""
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


def window_lufs(yk: np.ndarray, rate: int, centres: np.ndarray, y: np.ndarray, width_s: float = 0.4) -> np.ndarray:
    """K-weighted loudness of the ``width_s`` around each centre (clipped at the track's ends).

    NaN where the window is digital silence: every sample of ``y`` (the track before K-weighting) is
    0 there, so it has no level (the filters' decaying tail from earlier sound is not the window's,
    and FLOOR_DB is only for the gating)."""
    csum = np.concatenate([[0.0], np.cumsum(yk.astype(np.float64) ** 2)])
    nonzero = np.concatenate([[0], np.cumsum(y != 0)])  # exact, unlike a difference of running power sums
    half = width_s / 2
    lo = np.clip(np.round((centres - half) * rate).astype(int), 0, len(yk))
    hi = np.clip(np.round((centres + half) * rate).astype(int), 0, len(yk))
    n = np.maximum(hi - lo, 1)
    ms = (csum[hi] - csum[lo]) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        lufs = -0.691 + 10 * np.log10(ms)
    return np.where((nonzero[hi] - nonzero[lo] > 0) & (ms > 0), lufs, np.nan)
