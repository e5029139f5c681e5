"""Result of ``audio_analysis``: loudness, rhythm, spectral shape and silence over time.

Levels are in dBFS (0 = digital full scale) or in LUFS as BS.1770-4 defines them,
measured on the runner's mono 16 kHz track (so only approximately the loudness of
the original stereo mix: content above 8 kHz is gone). Times are seconds. Digital silence
(every sample 0) has no level: such levels are null with the reason in ``not_measured``, never
a floor value such as -120 dB.
"""
from __future__ import annotations

from pydantic import Field, model_validator

from shared_schema.results.common import ResultBase, Span

__all__ = ["LoudnessSummary", "LoudnessPoint", "SpectralPoint", "Rhythm", "AudioAnalysisResult"]


class LoudnessSummary(ResultBase):
    integrated_lufs_approx: float | None = Field(
        ge=-70, le=10, description="BS.1770-4 gated integrated loudness of the 16 kHz mono "
                                        "track; None when every 400 ms block is under the -70 LUFS gate")
    rms_dbfs: float | None = Field(le=0, description="RMS level of the whole track; null for digital "
                                                              "silence (every sample 0)")
    peak_dbfs: float | None = Field(le=0, description="sample peak (not true peak); null for digital "
                                                               "silence (every sample 0)")
    loudness_range_lu: float | None = Field(
        default=None, ge=0, description="spread (10th to 95th percentile) of gated 3 s short-term "
                                        "loudness, after EBU Tech 3342; None when too few blocks")


class LoudnessPoint(ResultBase):
    t: float = Field(ge=0, description="centre of the window")
    rms_dbfs: float | None = Field(le=0, description="RMS level over the series step; null when every sample "
                                                     "of the step is 0 (digital silence: no level)")
    momentary_lufs_approx: float | None = Field(le=10, description="K-weighted level of the 400 ms around t; "
                                                                   "null when every sample there is 0")


class SpectralPoint(ResultBase):
    """Means over the non-silent STFT frames (frame RMS >= silence_threshold_dbfs) of the window; in
    ``spectral_series`` every value is null when the step has no such frame (nothing to describe)."""

    t: float = Field(ge=0, description="centre of the window")
    centroid_hz: float | None = Field(ge=0, le=8000)
    rolloff_hz: float | None = Field(ge=0, le=8000, description="frequency under which 85% of the energy lies")
    bandwidth_hz: float | None = Field(ge=0, le=8000)
    flatness: float | None = Field(ge=0, le=1, description="0 = tonal, 1 = white noise")
    zero_crossing_rate: float | None = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _all_or_none(self) -> "SpectralPoint":
        vals = [self.centroid_hz, self.rolloff_hz, self.bandwidth_hz, self.flatness, self.zero_crossing_rate]
        if any(v is None for v in vals) and any(v is not None for v in vals):
            raise ValueError("a spectral point is measured (every value) or not (every value null)")
        return self


class Rhythm(ResultBase):
    tempo_bpm: float | None = Field(ge=0, le=400, description="60 / least-squares period of the tracked "
                                    "beats (the tempogram estimate with fewer than 4 beats); None "
                                    "when no beat was found")
    tempogram_bpm: float | None = Field(ge=0, le=400, description="librosa's tempogram estimate, on "
                                        "its coarse lag grid; it seeds the beat tracker")
    beat_times: list[float] = Field(description="seconds")
    beat_regularity: float | None = Field(
        default=None, ge=0, le=1, description="1 - coefficient of variation of the inter-beat "
                                              "intervals (1 = metronomic); None with fewer than 3 beats")
    onset_times: list[float]
    onset_density_per_s: float = Field(ge=0)


class AudioAnalysisResult(ResultBase):
    method: str
    sample_rate: int = Field(gt=0)
    duration_s: float = Field(gt=0)
    series_step_s: float = Field(gt=0)
    loudness: LoudnessSummary
    loudness_series: list[LoudnessPoint]
    rhythm: Rhythm
    spectral: SpectralPoint | None = Field(description="means over the non-silent frames; null when every frame "
                                                       "is below silence_threshold_dbfs (nothing to describe)")
    spectral_series: list[SpectralPoint] = Field(description="per series step, over its non-silent frames; "
                                                             "values null where the step has none")
    silence_threshold_dbfs: float = Field(le=0)
    min_silence_s: float = Field(gt=0)
    silent_segments: list[Span]
    silent_fraction: float = Field(ge=0, le=1)
    not_measured: dict[str, str] = Field(default_factory=dict, description="field -> why it is null "
                                                                           "(dotted for nested fields)")

    @model_validator(mode="after")
    def _in_range(self) -> "AudioAnalysisResult":
        limit = self.duration_s + 1e-3
        if any(s.end > limit for s in self.silent_segments):
            raise ValueError("a silent segment ends after the audio")
        if any(t > limit for t in self.rhythm.beat_times + self.rhythm.onset_times):
            raise ValueError("a beat or onset lies after the audio")
        if self.rhythm.beat_times != sorted(self.rhythm.beat_times):
            raise ValueError("beat times are not in order")
        if self.spectral is not None and self.spectral.centroid_hz is None:
            raise ValueError("the spectral summary is null as a whole, not a point of nulls")
        return self
