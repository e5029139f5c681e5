"""audio_analysis: loudness, tempo and beats, onsets, spectral shape and silence (librosa)."""
from __future__ import annotations

import importlib.util
import math
import os
import shutil
import sys
from pathlib import Path

import numpy as np

from analyzers.base import Analyzer as Base
from analyzers.common import loudness as LU
from shared_schema.results.audio_features import (
    AudioAnalysisResult, LoudnessPoint, LoudnessSummary, Rhythm, SpectralPoint,
)
from shared_schema.results.common import Span

from . import _beats

WARM_CACHE = Path(sys.prefix) / "numba-cache"  # made at image build by warmup.py
N_FFT = 1024
HOP = 256  # 16 ms at 16 kHz: beat and silence edges to within a hop
METHOD = ("librosa 0.11: onset strength -> tempogram tempo, Ellis dynamic-programming beats (librosa's "
          "algorithm, in numpy) and onset_detect; STFT "
          f"n_fft={N_FFT} hop={HOP} for spectral features and frame RMS; loudness per BS.1770-4 "
          "(K-weighting designed for the track's rate, gated) and EBU Tech 3342 range, on the "
          "mono 16 kHz track")


def _db(x) -> np.ndarray:
    """Frame levels for the silence test only: digital silence sits at the floor, under any threshold."""
    with np.errstate(divide="ignore"):
        return np.maximum(20 * np.log10(np.asarray(x, dtype=float)), LU.FLOOR_DB)


def _level(mean_square: float) -> float | None:
    """A reported level in dBFS, at most 0; None for digital silence (no level: never a floor value)."""
    return _r(min(0.0, 10 * math.log10(mean_square)), 2) if mean_square > 0 else None


def _r(x: float, nd: int = 3) -> float:
    return round(float(x), nd)


class Analyzer(Base):
    def setup(self, ctx) -> None:
        # Importing librosa compiles its numba kernels: ~20 CPU seconds with an empty cache, ~2
        # with a warm one. The runner points NUMBA_CACHE_DIR at the job's temp folder, which dies
        # with the job. Where the environment itself is writable (local backend) numba caches
        # beside librosa instead, so only the first run pays; in a read-only image, a cache made
        # at build time by warmup.py is copied into the job's folder.
        spec = importlib.util.find_spec("librosa")
        if spec and spec.origin and os.access(Path(spec.origin).parent, os.W_OK):
            os.environ.pop("NUMBA_CACHE_DIR", None)
            return
        cache = Path(os.environ.setdefault("NUMBA_CACHE_DIR", str(ctx.tmp_dir / "numba")))
        if WARM_CACHE.is_dir() and not cache.exists():
            shutil.copytree(WARM_CACHE, cache)

    def analyze(self, ctx) -> AudioAnalysisResult:
        import soundfile as sf

        p = ctx.params
        silence_db, min_silence, step = p.silence_dbfs, p.min_silence_s, p.series_step_s

        y, sr = sf.read(str(ctx.audio_path), dtype="float32", always_2d=True)
        y = y.mean(axis=1)
        duration = len(y) / sr
        if duration <= 0:
            raise ValueError("the audio track is empty")

        rms_db, frame_t, spec = _frame_features(y, sr)
        silent = rms_db < silence_db
        rhythm = _rhythm(y, sr, duration)
        yk = LU.k_weight(y.astype(np.float64), sr)
        not_measured: dict[str, str] = {}
        loudness = _loudness(y, sr, yk, rhythm, not_measured)
        loud_series, spec_series = _series(y, sr, yk, frame_t, spec, silent, duration, step, silence_db,
                                           not_measured, self._spectral)
        voiced = ~silent
        spectral = self._spectral(0.0, spec, voiced, sr) if voiced.any() else None
        if spectral is None:
            not_measured["spectral"] = (f"every frame is below silence_threshold_dbfs ({silence_db:g} dBFS): "
                                        "no sound to describe")

        segments = self._silences(silent, frame_t, duration, min_silence, sr)
        return AudioAnalysisResult(
            method=METHOD, sample_rate=sr, duration_s=_r(duration, 4), series_step_s=step,
            loudness=loudness, loudness_series=loud_series, rhythm=rhythm, spectral=spectral,
            spectral_series=spec_series, silence_threshold_dbfs=silence_db, min_silence_s=min_silence,
            silent_segments=segments,
            silent_fraction=_r(min(1.0, sum(s.end - s.start for s in segments) / duration), 4),
            not_measured=not_measured)

    @staticmethod
    def _spectral(t: float, spec: dict, sel: np.ndarray, sr: int) -> SpectralPoint:
        nyq = sr / 2
        vals = {k: float(np.mean(v[sel])) for k, v in spec.items()}
        return SpectralPoint(
            t=t, centroid_hz=_r(min(vals["centroid_hz"], nyq), 1),
            rolloff_hz=_r(min(vals["rolloff_hz"], nyq), 1),
            bandwidth_hz=_r(min(vals["bandwidth_hz"], nyq), 1),
            flatness=_r(np.clip(vals["flatness"], 0, 1), 5),
            zero_crossing_rate=_r(np.clip(vals["zero_crossing_rate"], 0, 1), 5))

    @staticmethod
    def _silences(silent: np.ndarray, frame_t: np.ndarray, duration: float, min_len: float,
                  sr: int) -> list[Span]:
        """Runs of silent frames as spans. A frame is silent only when its whole window is, so a
        run's true edges lie half a window beyond its first and last frame centres."""
        half = N_FFT / 2 / sr
        out = []
        edges = np.flatnonzero(np.diff(np.concatenate([[0], silent.astype(int), [0]])))
        for a, b in zip(edges[::2], edges[1::2]):
            start = 0.0 if a == 0 else max(0.0, frame_t[a] - half)
            end = duration if b == len(silent) else min(duration, frame_t[b - 1] + half)
            if end - start >= min_len:
                out.append(Span(start=_r(start), end=_r(end)))
        return out


def _frame_features(y: np.ndarray, sr: int):
    """RMS level (dB) and spectral shape per STFT frame; librosa centres frame i at i * HOP."""
    import librosa

    rms = librosa.feature.rms(y=y, frame_length=N_FFT, hop_length=HOP)[0]
    frame_t = librosa.frames_to_time(np.arange(len(rms)), sr=sr, hop_length=HOP)
    S = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP))
    spec = {
        "centroid_hz": librosa.feature.spectral_centroid(S=S, sr=sr)[0],
        "rolloff_hz": librosa.feature.spectral_rolloff(S=S, sr=sr, roll_percent=0.85)[0],
        "bandwidth_hz": librosa.feature.spectral_bandwidth(S=S, sr=sr)[0],
        "flatness": librosa.feature.spectral_flatness(S=S)[0],
        "zero_crossing_rate": librosa.feature.zero_crossing_rate(
            y, frame_length=N_FFT, hop_length=HOP)[0],
    }
    n = min(len(rms), *(len(v) for v in spec.values()))
    rms, frame_t = rms[:n], frame_t[:n]
    spec = {k: v[:n] for k, v in spec.items()}
    return _db(rms), frame_t, spec


def _rhythm(y: np.ndarray, sr: int, duration: float) -> Rhythm:
    """Tempo, beats and onsets."""
    import librosa

    onset_env = librosa.onset.onset_strength(y=y, sr=sr, hop_length=HOP)
    tempogram_bpm = float(np.atleast_1d(
        librosa.feature.tempo(onset_envelope=onset_env, sr=sr, hop_length=HOP))[0])
    beat_frames = _beats.track(onset_env, tempogram_bpm, sr / HOP)
    beat_t = librosa.frames_to_time(beat_frames, sr=sr, hop_length=HOP)
    beats = [_r(b) for b in beat_t if b <= duration]
    tempo = tempogram_bpm
    if len(beats) >= 4:
        # The tempogram's lag grid is coarse (120 BPM falls between 117 and 121 at this hop);
        # the least-squares period over all tracked beats is not.
        period = np.polyfit(np.arange(len(beats)), beats, 1)[0]
        tempo = 60.0 / period if period > 0 else tempogram_bpm
    onsets = librosa.onset.onset_detect(onset_envelope=onset_env, sr=sr, hop_length=HOP, units="time")
    onsets = [_r(o) for o in onsets if o <= duration]
    regularity = None
    if len(beats) >= 3:
        ibi = np.diff(beats)
        regularity = _r(np.clip(1 - ibi.std() / ibi.mean(), 0, 1), 4)
    return Rhythm(tempo_bpm=_r(tempo, 2) if beats and tempo > 0 else None,
                  # on a track with no onset at all the tempogram only echoes its prior
                  tempogram_bpm=_r(tempogram_bpm, 2) if tempogram_bpm > 0 and onset_env.any() else None,
                  beat_times=beats,
                  beat_regularity=regularity, onset_times=onsets,
                  onset_density_per_s=_r(len(onsets) / duration, 4))


def _loudness(y: np.ndarray, sr: int, yk: np.ndarray, rhythm: Rhythm, not_measured: dict[str, str]) -> LoudnessSummary:
    """The whole track's loudness (BS.1770 on the K-weighted ``yk``); what cannot be measured is null, with
    its reason (and the rhythm's) in ``not_measured``."""
    integ = LU.integrated(yk, sr)
    zero = not np.any(y)  # digital silence: a level in dB would only be the floor
    loudness = LoudnessSummary(
        integrated_lufs_approx=None if integ is None else _r(integ, 2),
        rms_dbfs=None if zero else _level(float(np.mean(y.astype(np.float64) ** 2))),
        peak_dbfs=None if zero else _level(float(np.abs(y).max()) ** 2),
        loudness_range_lu=None if (lra := LU.loudness_range(yk, sr)) is None else _r(lra, 2))
    if zero:
        not_measured["loudness.rms_dbfs"] = not_measured["loudness.peak_dbfs"] = \
            "digital silence: every sample is 0 (no level in dB)"
    if loudness.integrated_lufs_approx is None:
        not_measured["loudness.integrated_lufs_approx"] = "every 400 ms block is under the -70 LUFS gate"
    if loudness.loudness_range_lu is None:
        not_measured["loudness.loudness_range_lu"] = "too few gated 3 s short-term blocks"
    if rhythm.tempo_bpm is None:
        not_measured["rhythm.tempo_bpm"] = "no beat was found"
    if rhythm.tempogram_bpm is None:
        not_measured["rhythm.tempogram_bpm"] = "no onset at all: the tempogram would only echo its prior"
    if rhythm.beat_regularity is None:
        not_measured["rhythm.beat_regularity"] = f"{len(rhythm.beat_times)} beat(s): regularity needs 3"
    return loudness


def _series(y, sr, yk, frame_t, spec, silent, duration, step, silence_db, not_measured, spectral_point):
    """One loudness and one spectral point per step, frames binned by their centre."""
    n_bins = max(1, int(np.ceil(duration / step - 1e-9)))
    centres = np.minimum((np.arange(n_bins) + 0.5) * step, duration)
    momentary = LU.window_lufs(yk, sr, centres, y)
    # The RMS series comes from the samples of each step exactly, not from STFT frames whose
    # windows reach into the neighbouring steps.
    edges = np.minimum(np.round(np.arange(n_bins + 1) * step * sr).astype(int), len(y))
    edges[-1] = len(y)
    csum = np.concatenate([[0.0], np.cumsum(y.astype(np.float64) ** 2)])
    step_power = (csum[edges[1:]] - csum[edges[:-1]]) / np.maximum(edges[1:] - edges[:-1], 1)
    # digital silence is told by counting non-zero samples, exactly (a difference of running
    # power sums can leave a residue after loud parts)
    nonzero = np.concatenate([[0], np.cumsum(y != 0)])
    step_sound = nonzero[edges[1:]] - nonzero[edges[:-1]] > 0
    bins = np.minimum((frame_t / step).astype(int), n_bins - 1)
    loud_series, spec_series = [], []
    for b in range(n_bins):
        sel = bins == b
        if not sel.any():
            continue
        t = _r(centres[b])
        # a step or window of digital silence has no level: null (the reason is in not_measured)
        loud_series.append(LoudnessPoint(
            t=t, rms_dbfs=_level(float(step_power[b])) if step_sound[b] else None,
            momentary_lufs_approx=None if np.isnan(momentary[b]) else _r(min(10.0, momentary[b]), 2)))
        # spectral shape over the step's non-silent frames, as the summary; none: null, not the
        # "spectrum" of silence (flatness 1, centroid 0 on digital silence)
        audible = sel & ~silent
        spec_series.append(spectral_point(t, spec, audible, sr) if audible.any() else
                           SpectralPoint(t=t, centroid_hz=None, rolloff_hz=None, bandwidth_hz=None,
                                         flatness=None, zero_crossing_rate=None))
    for key, where in (("rms_dbfs", "step"), ("momentary_lufs_approx", "400 ms around t")):
        if k := sum(getattr(p, key) is None for p in loud_series):
            not_measured[f"loudness_series.{key}"] = (
                f"null at {k} of {len(loud_series)} points: digital silence (every sample of the {where} "
                "is 0), no level in dB")
    if k := sum(p.centroid_hz is None for p in spec_series):
        not_measured["spectral_series"] = (
            f"null values at {k} of {len(spec_series)} points: every frame of the step is below "
            f"silence_threshold_dbfs ({silence_db:g} dBFS), no sound to describe")
    return loud_series, spec_series
