"""Result of ``temporal_flow`` (pacing over the whole video), and the time-series
signals it and ``cross_analyzer_intelligence`` read out of other analyzers' results.

``Signals`` lives here, not in an analyzer folder, because both analyzers need
it and ``shared_schema`` is the only code they can both import. Every series is
optional: ``None`` means the input was not available, ``[]`` means it was and
found nothing.
"""
from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from shared_schema.results.common import ResultBase, Span

__all__ = ["SpanValue", "TextSpan", "Signals", "InputState", "HookIntensity", "EnergyPoint",
           "FlowSegment", "TemporalFlowResult"]


class SpanValue(Span):
    """A value over a span (``start == end`` for an instant)."""

    value: float


class TextSpan(Span):
    text: str


class Signals(ResultBase):
    """Normalized series taken from upstream results; units are given per field."""

    duration: float = Field(ge=0)
    cuts: list[float] | None = Field(default=None, description="shot boundary instants, s")
    motion: list[SpanValue] | None = Field(default=None, description="camera motion intensity 0..1")
    audio_energy: list[SpanValue] | None = Field(
        default=None, description="loudness 0..1 RELATIVE to the clip's own loudest window (1) over a "
                                  "LOUDNESS_FLOOR_DB (50 dB) range: 0 = 50 dB or more below that window")
    audio_dbfs: list[SpanValue] | None = Field(
        default=None, description="RMS level in dBFS, ABSOLUTE (0 dBFS = digital full scale), same windows "
                                  "as audio_energy; -inf for a window of digital silence (zero power; "
                                  "in-process only, these signals are not written to a result)")
    speech: list[Span] | None = Field(default=None, description="spans with speech")
    words: list[TextSpan] | None = Field(default=None, description="spoken words or phrases")
    overlays: list[TextSpan] | None = Field(default=None, description="captions: on-screen text put on the video (text_overlay segments of kind overlay)")
    persons: list[SpanValue] | None = Field(default=None, description="persons visible (count)")
    faces: list[SpanValue] | None = Field(default=None, description="faces visible (count)")
    sources: dict[str, str] = Field(default_factory=dict, description="signal -> analyzer (or method) it came from")

    @model_validator(mode="after")
    def _clip(self) -> "Signals":
        if self.cuts is not None and any(t < 0 for t in self.cuts):
            raise ValueError("cut times must be >= 0")
        return self


class InputState(ResultBase):
    """One upstream analyzer: used, or missing and why (its status)."""

    name: str
    status: str = Field(description="the upstream envelope's status, or not_selected / no_envelope")
    reason: str | None = Field(default=None, description="skip reason or error message, when not ok")


class HookIntensity(Span):
    intensity: float | None = Field(ge=0, le=1, description="mean energy over the hook window; null when no "
                                                           "input was available (nothing measured)")
    relative: float | None = Field(default=None, ge=0, description="hook energy / whole-video mean energy "
                                                                   "(relative to this clip); null when either is "
                                                                   "null or the mean is 0")
    cuts: int | None = Field(ge=0, description="cuts in the hook window; null when cut_analysis gave no result")
    speech_onset: float | None = Field(default=None, ge=0, description="first speech, s (None: none or unknown)")
    signals: list[str] = Field(description="what drives the hook, e.g. 'cut at 0.50s'")


class EnergyPoint(Span):
    """One bin of the energy curve and the components it was made of (each 0..1)."""

    energy: float | None = Field(ge=0, le=1, description="sum of weights[k] x component k over the components "
                                                        "measured in this bin, divided by the sum of their weights "
                                                        "(a component whose series does not cover the bin is left "
                                                        "out, not counted as 0); null when no component was "
                                                        "measured in the bin")
    cuts: float | None = Field(default=None, ge=0, le=1,
                               description="min(1, cuts within cut_window_s (1 s) of the bin's centre / "
                                           "(2 x cut_window_s) / cuts_full_per_s (1.5 /s))")
    motion: float | None = Field(default=None, ge=0, le=1,
                                 description="overlap-weighted mean of camera_analysis' normalized motion series "
                                             "over the bin; null when the input is missing, tracked nothing (no "
                                             "window labelled), or its series does not cover the bin "
                                             "(not_measured['energy[].motion'] says which)")
    audio: float | None = Field(default=None, ge=0, le=1,
                                description="overlap-weighted mean of the audio loudness over the bin, relative to the "
                                            "clip's own loudest point (1) down to LOUDNESS_FLOOR_DB below it (0); "
                                            "see audio_source; 0 over digital silence (no sound); null when the "
                                            "input is missing or its series does not cover the bin "
                                            "(not_measured['energy[].audio'] says which)")
    speech: float | None = Field(default=None, ge=0, le=1,
                                 description="share of the bin under speech spans; null when speech_flow is missing "
                                             "or the bin is empty")


class FlowSegment(Span):
    label: Literal["intro", "build", "peak", "sustain", "outro", "steady"] | None = Field(
        description="null over bins no input covers (their energy is null): those bins are cut out of the "
                    "segment they fall in and are not labelled; `rule` says so")
    mean_energy: float | None = Field(ge=0, le=1, description="mean energy of the segment's bins; null exactly "
                                                              "when the label is (no input covers them)")
    rule: str = Field(description="the rule that defined this segment")

    @model_validator(mode="after")
    def _null_together(self) -> "FlowSegment":
        if (self.label is None) != (self.mean_energy is None):
            raise ValueError("a segment has a label exactly when it has a mean energy")
        return self


class TemporalFlowResult(ResultBase):
    method: Literal["weighted_energy_bins"]
    duration: float = Field(ge=0)
    bin_s: float = Field(gt=0)
    weights: dict[Literal["cuts", "motion", "audio", "speech"], float] = Field(
        description="component weights actually used: the base weights cuts 0.35, motion 0.25, audio 0.3, "
                    "speech 0.1, renormalized over the available inputs; {} when none was available")
    hook: HookIntensity
    energy: list[EnergyPoint]
    segments: list[FlowSegment] = Field(description="tile [0, duration]; empty when the energy was not measured")
    peak_t: float | None = Field(ge=0, description="centre of the highest smoothed-energy bin; null when the "
                                                   "energy was not measured")
    inputs_used: list[str]
    inputs_missing: list[InputState]
    audio_source: Literal["audio_analysis", "wav_rms", "none"]
    not_measured: dict[str, str] = Field(default_factory=dict, description=(
        "field -> why it is null; energy[].<component> for a component null in some or every bin"))

    @model_validator(mode="after")
    def _tiles(self) -> "TemporalFlowResult":
        segs = self.segments
        if not segs:
            if any(q.energy is not None for q in self.energy):
                raise ValueError("segments are empty although the energy was measured")
            return self
        if abs(segs[0].start) > 1e-6 or abs(segs[-1].end - self.duration) > 1e-3:
            raise ValueError("segments must cover [0, duration]")
        for a, b in zip(segs, segs[1:]):
            if abs(a.end - b.start) > 1e-6:
                raise ValueError(f"segments {a.label} and {b.label} are not contiguous")
        return self


# ---- reading upstream results into Signals ---------------------------------
# One reader per upstream analyzer, keyed by its name (a plain dict). A reader
# gets that analyzer's validated result model and returns the series it feeds.

#: a camera-motion magnitude (in its label's unit, see ``results/motion.py``) that counts as full intensity
MOTION_FULL = {"pan": 0.5, "tilt": 0.5, "zoom": 0.3, "roll": 45.0, "handheld": 2.0}


def _motion_intensity(label: str, magnitude: float) -> float:
    if label == "static":
        return 0.0
    ref = MOTION_FULL.get(label.split("_", 1)[0], 1.0)
    return max(0.0, min(1.0, magnitude / ref))


#: loudness this far below the clip's loudest moment counts as silence (0)
LOUDNESS_FLOOR_DB = -50.0


def _relative_loudness(points: list[tuple[float, float, float]]) -> list[SpanValue]:
    """(start, end, dBFS) -> 0..1 relative to the loudest point (1), over LOUDNESS_FLOOR_DB."""
    top = max((db for _, _, db in points), default=0.0)
    return [SpanValue(start=a, end=b, value=round(max(0.0, 1.0 - (db - top) / LOUDNESS_FLOOR_DB), 4))
            for a, b, db in points]


def _read_cuts(res) -> dict:
    return {"cuts": [tr.t for tr in res.transitions]}


def _read_camera(res) -> dict:
    # windows where nothing could be tracked have no label (null): left out, not read as still
    motion = [SpanValue(start=s.start, end=s.end, value=_motion_intensity(s.label, s.magnitude))
              for s in res.timeline if s.label is not None and s.magnitude is not None]
    return {"motion": motion or None}


def _levels(points: list[tuple[float, float, float | None]]) -> dict:
    """(start, end, dBFS or None) -> the relative and the absolute series.

    A window of digital silence has no level (null in audio_analysis >= 0.3 and audio_environment >= 0.4):
    no sound, so 0 on the relative scale, and zero power (-inf dBFS) in the absolute series, so that a
    power mean over a window that holds some silence counts it (as it counted the old -120 dB floor)."""
    measured = [pt for pt in points if pt[2] is not None]
    rel = iter(_relative_loudness(measured))
    energy = [next(rel) if db is not None else SpanValue(start=a, end=b, value=0.0) for a, b, db in points]
    return {"audio_energy": energy,
            "audio_dbfs": [SpanValue(start=a, end=b, value=-math.inf if db is None else round(db, 2))
                           for a, b, db in points]}


def _read_audio_analysis(res) -> dict:
    half = res.series_step_s / 2
    return _levels([(max(0.0, p.t - half), p.t + half, p.rms_dbfs) for p in res.loudness_series])


def _read_audio_environment(res) -> dict:
    series = res.spectral.rms_dbfs_series
    step = series[1].t - series[0].t if len(series) > 1 else 0.5
    # each point's t is the centre of its window
    return {**_levels([(max(0.0, p.t - step / 2), p.t + step / 2, p.value) for p in series]),
            "speech": [Span(start=s.start, end=s.end) for s in res.timeline if s.label == "speech"]}


def _read_speech_flow(res) -> dict:
    return {"speech": list(res.speech_spans)}


def _read_transcript(res) -> dict:
    words = [TextSpan(start=w.start, end=w.end, text=w.word.strip())
             for seg in res.segments for w in seg.words if w.word.strip()]
    if not words:  # transcribed without word timestamps: phrases are the finest unit
        words = [TextSpan(start=seg.start, end=seg.end, text=seg.text.strip())
                 for seg in res.segments if seg.text.strip()]
    return {"words": words, "speech": [Span(start=seg.start, end=seg.end) for seg in res.segments]}


def _read_text(res) -> dict:
    # captions only: text_overlay >= 3.0 reads every frame and finds much lettering in the scene (signs,
    # vehicles), which is not text put on the video (kind scene or uncertain)
    return {"overlays": [TextSpan(start=s.start, end=s.end, text=s.text) for s in res.segments
                         if s.kind == "overlay"]}


def _read_objects(res) -> dict:
    return {"persons": [SpanValue(start=p.t, end=p.t, value=p.value) for p in res.person_count]}


def _read_pose(res) -> dict:
    return {"persons": [SpanValue(start=f.t, end=f.t, value=float(len(f.persons))) for f in res.frames]}


def _read_eyes(res) -> dict:
    return {"faces": [SpanValue(start=f.t, end=f.t, value=float(f.faces)) for f in res.frames]}


def _read_ages(res) -> dict:
    # every analyzed frame counts, with 0 where no face was seen (age_estimation >= 0.2 lists them):
    # without the zeros a face could never be seen to appear
    counts = {t: 0.0 for t in res.frame_times}
    for tr in res.tracks:
        for o in tr.observations:
            counts[o.t] = counts.get(o.t, 0.0) + 1
    return {"faces": [SpanValue(start=t, end=t, value=n) for t, n in sorted(counts.items())]}


#: analyzer -> reader; earlier entries win when two supply the same series
READERS = {
    "cut_analysis": _read_cuts,
    "camera_analysis": _read_camera,
    "audio_analysis": _read_audio_analysis,
    "speech_flow": _read_speech_flow,
    "speech_transcription": _read_transcript,
    "audio_environment": _read_audio_environment,
    "text_overlay": _read_text,
    "object_detection": _read_objects,
    "body_pose": _read_pose,
    "eye_tracking": _read_eyes,
    "age_estimation": _read_ages,
}


def signals_from(results: dict, duration: float) -> Signals:
    """``results``: analyzer name -> its validated result model (only those that were ok).

    A series comes from the first analyzer (in ``READERS`` order) that supplies it.
    """
    fields: dict = {}
    sources: dict[str, str] = {}
    for name, reader in READERS.items():
        res = results.get(name)
        if res is None:
            continue
        for key, series in reader(res).items():
            if series is not None and key not in fields:
                fields[key] = series
                sources[key] = name
    return Signals(duration=duration, sources=sources, **fields)
