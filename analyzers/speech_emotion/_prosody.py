"""Prosody from 16 kHz mono samples: pitch (autocorrelation), voicing and energy per 10 ms frame."""
from __future__ import annotations

import numpy as np

SR = 16000
HOP = 160          # 10 ms
WIN = 640          # 40 ms: two periods of a 70 Hz voice
FMIN, FMAX = 70.0, 500.0


def pitch_track(x: np.ndarray, voicing: float = 0.3, min_dbfs: float = -45.0):
    """(f0 Hz or nan, power) per frame by YIN; frame i is centred at (i*HOP + WIN/2)/SR seconds.
    ``power`` is the frame's mean square (DC removed; 1.0 = a full-scale square wave), 0 over
    digital silence: a level in dB is taken of a mean of it, never of a floored frame.

    YIN (de Cheveigne & Kawahara 2002) rather than a plain autocorrelation peak: taking the
    first dip of the normalised difference avoids the octave-down errors an ACF maximum makes.
    ``voicing`` is the largest normalised difference still called voiced.
    """
    if len(x) < WIN:
        x = np.pad(x, (0, WIN - len(x)))
    frames = np.lib.stride_tricks.sliding_window_view(x, WIN)[::HOP].astype(np.float64)
    frames = frames - frames.mean(axis=1, keepdims=True)
    power = np.mean(frames ** 2, axis=1)
    rms_db = 10 * np.log10(np.maximum(power, 1e-20))  # only compared with min_dbfs
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
    return np.where(voiced, SR / lag, np.nan), power


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


#: cue -> (low, high) of its linear 0..1 scale: conventional ranges for speech, not fitted
CUE_RANGES = {"voiced_energy": (-40.0, -10.0),     # dBFS, absolute
              "pitch_variability": (0.0, 6.0),     # semitones std
              "speaking_rate": (1.5, 4.5),         # words per second (needs a transcript)
              "pitch_level": (-2.0, 4.0)}          # semitones against the clip's median pitch
MIN_CUES = 2  # an arousal from one cue is that cue, not an arousal


def arousal(cues: dict[str, float | None]) -> tuple[float | None, dict[str, float]]:
    """(arousal, the scaled cues it is the mean of): the unweighted mean of the cues measured
    (``CUE_RANGES``, each scaled linearly to 0..1 and clipped); None with fewer than ``MIN_CUES``."""
    scaled = {k: round(_scale(v, *CUE_RANGES[k]), 4) for k, v in cues.items() if v is not None}
    if len(scaled) < MIN_CUES:
        return None, scaled
    return round(sum(scaled.values()) / len(scaled), 4), scaled
