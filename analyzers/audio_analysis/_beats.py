"""Ellis (2007) dynamic-programming beat tracker, as librosa.beat.beat_track runs it.

librosa's own version is built from numba ``guvectorize`` kernels, one of which is declared
``cache=False``: every fresh process recompiles it (6 to 10 CPU seconds here, longer than the
whole analysis of a short clip). This is the same algorithm over librosa's onset envelope and
tempo estimate, in numpy.
"""
from __future__ import annotations

import numpy as np


def _local_score(onset_env: np.ndarray, frames_per_beat: float) -> np.ndarray:
    norm = onset_env / (onset_env.std(ddof=1) + 1e-12) if len(onset_env) > 1 else onset_env
    fpb = int(round(frames_per_beat))
    window = np.exp(-0.5 * (np.arange(-fpb, fpb + 1) * 32.0 / frames_per_beat) ** 2)
    return np.convolve(norm, window, mode="same")


def _dp(local: np.ndarray, frames_per_beat: float, tightness: float):
    n = len(local)
    backlink = np.full(n, -1, dtype=int)
    cumscore = np.zeros(n)
    score_thresh = 0.01 * local.max()
    lo_off, hi_off = int(round(2 * frames_per_beat)), int(round(frames_per_beat / 2))
    offsets = np.arange(lo_off, hi_off - 1, -1)  # how far back the previous beat may lie
    penalty = -tightness * (np.log(offsets) - np.log(frames_per_beat)) ** 2
    first = True
    cumscore[0] = local[0]
    for i in range(1, n):
        locs = i - offsets
        ok = locs >= 0
        if ok.any():
            cand = cumscore[locs[ok]] + penalty[ok]
            j = int(np.argmax(cand))
            cumscore[i] = local[i] + cand[j]
            prev = int(locs[ok][j])
        else:
            cumscore[i] = local[i]
            prev = -1
        if first and local[i] < score_thresh:
            backlink[i] = -1
        else:
            backlink[i] = prev
            first = False
    return backlink, cumscore


def _local_max(x: np.ndarray) -> np.ndarray:
    padded = np.concatenate([[x[0]], x, [x[-1]]])
    return (x > padded[:-2]) & (x >= padded[2:])


def track(onset_env: np.ndarray, bpm: float, frame_rate: float, tightness: float = 100.0) -> np.ndarray:
    """Beat frame indexes for an onset envelope sampled at ``frame_rate`` and a tempo in BPM."""
    if bpm <= 0 or not onset_env.any():
        return np.zeros(0, dtype=int)
    fpb = frame_rate * 60.0 / bpm
    local = _local_score(onset_env.astype(float), fpb)
    backlink, cumscore = _dp(local, fpb, tightness)
    peaks = _local_max(cumscore)
    if not peaks.any():
        return np.zeros(0, dtype=int)
    threshold = 0.5 * np.median(cumscore[peaks])
    tail = int(np.flatnonzero(peaks & (cumscore >= threshold))[-1])
    beats = []
    while tail >= 0:
        beats.append(tail)
        tail = backlink[tail]
    beats = np.array(beats[::-1], dtype=int)
    # Leading and trailing beats that sit on nothing are the DP extrapolating into silence.
    smooth = np.convolve(local[beats], np.hanning(5), mode="same")
    thresh = 0.5 * np.sqrt(np.mean(smooth ** 2))
    strong = np.flatnonzero(local[beats] > thresh)
    if len(strong) == 0:
        return np.zeros(0, dtype=int)
    return beats[strong[0]:strong[-1] + 1]
