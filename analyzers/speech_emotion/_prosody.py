"""Prosody from 16 kHz mono samples: pitch (autocorrelation), voicing and energy per 10 ms frame."""
from __future__ import annotations

import numpy as np

SR = 16000
HOP = 160          # 10 ms
WIN = 640          # 40 ms: two periods of a 70 Hz voice
FMIN, FMAX = 70.0, 500.0


def pitch_track(x: np.ndarray, voicing: float = 0.3, min_dbfs: float = -45.0):
    """(f0 Hz or nan, rms dBFS) per frame by YIN; frame i is centred at (i*HOP + WIN/2)/SR seconds.

    YIN (de Cheveigne & Kawahara 2002) rather than a plain autocorrelation peak: taking the
    first dip of the normalised difference avoids the octave-down errors an ACF maximum makes.
    ``voicing`` is the largest normalised difference still called voiced.
    """
    if len(x) < WIN:
        x = np.pad(x, (0, WIN - len(x)))
    frames = np.lib.stride_tricks.sliding_window_view(x, WIN)[::HOP].astype(np.float64)
    frames = frames - frames.mean(axis=1, keepdims=True)
    rms_db = 10 * np.log10(np.maximum(np.mean(frames ** 2, axis=1), 1e-20))
    hi = int(SR / FMIN)
    spec = np.fft.rfft(frames, n=2 * WIN, axis=1)
    r = np.fft.irfft(np.abs(spec) ** 2, n=2 * WIN, axis=1)[:, :hi + 2]
    sq = np.concatenate([np.zeros((len(frames), 1)), np.cumsum(frames ** 2, axis=1)], axis=1)
    tau = np.arange(hi + 2)
    # d(tau) = sum over the overlap of (x_j - x_{j+tau})^2, from energies and the ACF.
    d = sq[:, WIN - tau] + (sq[:, WIN:WIN + 1] - sq[:, tau]) - 2 * r
    d[:, 0] = 0
    cum = np.cumsum(d[:, 1:], axis=1)
    dn = np.ones_like(d)
    dn[:, 1:] = d[:, 1:] * tau[1:] / np.maximum(cum, 1e-12)
    lo = int(SR / FMAX)
    region = dn[:, lo:hi + 1]
    below = region < 0.15
    k = np.where(below.any(axis=1), np.argmax(below, axis=1), np.argmin(region, axis=1))
    rows = np.arange(len(k))
    for _ in range(region.shape[1]):  # slide down to the bottom of the dip
        step = (k + 1 < region.shape[1]) & (region[rows, np.minimum(k + 1, region.shape[1] - 1)] < region[rows, k])
        if not step.any():
            break
        k = k + step
    best = region[rows, k]
    lag = (k + lo).astype(np.float64)
    inner = np.flatnonzero((k > 0) & (k < region.shape[1] - 1))
    a, b, c = region[inner, k[inner] - 1], region[inner, k[inner]], region[inner, k[inner] + 1]
    denom = a - 2 * b + c
    ok = np.abs(denom) > 1e-12
    lag[inner[ok]] += np.clip(0.5 * (a[ok] - c[ok]) / denom[ok], -0.5, 0.5)
    voiced = (best <= voicing) & (rms_db >= min_dbfs)
    return np.where(voiced, SR / lag, np.nan), rms_db


def frame_slice(start: float, end: float, n_frames: int) -> slice:
    a = int(max(0, round((start * SR - WIN / 2) / HOP)))
    b = int(min(n_frames, round((end * SR - WIN / 2) / HOP) + 1))
    return slice(a, max(a, b))


def voiced_regions(f0: np.ndarray, gap_s: float = 0.3, min_s: float = 0.5) -> list[tuple[float, float]]:
    """Spans of voicing, bridging gaps shorter than gap_s (unvoiced consonants, short breaths)."""
    idx = np.flatnonzero(~np.isnan(f0))
    out: list[list[float]] = []
    for i in idx:
        t0, t1 = (i * HOP) / SR, (i * HOP + WIN) / SR
        if out and t0 - out[-1][1] <= gap_s:
            out[-1][1] = t1
        else:
            out.append([t0, t1])
    return [(round(a, 3), round(b, 3)) for a, b in out if b - a >= min_s]


def _scale(v: float, lo: float, hi: float) -> float:
    return float(min(1.0, max(0.0, (v - lo) / (hi - lo))))


def arousal(st_std: float | None, energy_db: float, wps: float | None, st_above_median: float | None) -> float:
    """Mean of the cues present, each scaled to 0..1 over a typical range for speech.

    The ranges are conventional, not fitted: pitch variability 0-6 semitones, voiced energy
    -40..-10 dBFS, 1.5-4.5 words/s, pitch level -2..+4 semitones against the clip's median.
    """
    cues = [_scale(energy_db, -40, -10)]
    if st_std is not None:
        cues.append(_scale(st_std, 0, 6))
    if wps is not None:
        cues.append(_scale(wps, 1.5, 4.5))
    if st_above_median is not None:
        cues.append(_scale(st_above_median, -2, 4))
    return round(sum(cues) / len(cues), 4)
