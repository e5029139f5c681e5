"""Result of ``cross_analyzer_intelligence``: every other analyzer's findings on one timeline.

Its input model, :class:`CrossInputs`, is here too so that its pure core
``build(inputs)`` can be fed and tested without the pipeline. The time series
themselves are :class:`~shared_schema.results.temporal.Signals`.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from shared_schema.results.common import ResultBase, Span
from shared_schema.results.temporal import InputState, Signals

__all__ = ["CrossInputs", "SecondSignals", "HookAnalysis", "AlignedText", "Alignment", "KeyMoment",
           "CrossResult"]


class CrossInputs(ResultBase):
    """What the analyzer gathered: the series, and which upstream analyzers were used or missing."""

    signals: Signals
    used: list[str] = Field(default_factory=list)
    missing: list[InputState] = Field(default_factory=list)
    ignored: list[str] = Field(default_factory=list, description="selected analyzers this timeline does not read")


class SecondSignals(Span):
    """One second of the video; ``None`` = that input was not available."""

    cuts: int | None = Field(default=None, ge=0)
    motion: float | None = Field(default=None, ge=0, le=1)
    audio_energy: float | None = Field(default=None, ge=0, le=1,
                                       description="loudness 0..1 relative to the clip's own loudest window "
                                                   "(1) over 50 dB (Signals.audio_energy)")
    speech: float | None = Field(default=None, ge=0, le=1, description="share of the second with speech")
    words: list[str] | None = None
    overlay_text: list[str] | None = None
    persons: float | None = Field(default=None, ge=0, description="most persons in one sampled frame")
    faces: float | None = Field(default=None, ge=0, description="most faces in one sampled frame")
    activity: float | None = Field(
        ge=0, le=1, description="unweighted mean of the available levels: min(1, cuts / cuts_full) "
                                "(cuts_full = 2 by default), motion, audio_energy (relative to the clip's peak) "
                                "and speech; null when none of the four was available (reason in "
                                "CrossResult.not_measured['timeline.activity'])")


class HookAnalysis(Span):
    score: float | None = Field(
        ge=0, le=1, description="cues present / cues checked, each cue weighted 1. Cues in the first hook_s "
                                "(3 s): a cut; speech onset; on-screen text; a person visible; a face visible; "
                                "camera motion mean >= 0.5 (0..1 intensity); loud audio: the Leq (power-mean RMS) "
                                "of the window >= loud_dbfs (-20 dBFS by default, ABSOLUTE, 0 dBFS = full scale). "
                                "Null when no cue could be checked (reason in score_reason)")
    score_reason: str | None = Field(default=None, description="why score is null")
    cues_checked: int = Field(ge=0, description="cues whose inputs were available")
    cuts: int | None = Field(default=None, ge=0)
    first_cut_t: float | None = Field(default=None, ge=0)
    speech_onset: float | None = Field(default=None, ge=0)
    first_words: str | None = None
    text_onset: float | None = Field(default=None, ge=0)
    first_text: str | None = None
    person_visible: bool | None = None
    face_visible: bool | None = None
    motion_mean: float | None = Field(default=None, ge=0, le=1)
    audio_mean: float | None = Field(default=None, ge=0, le=1,
                                     description="mean audio_energy of the window, RELATIVE to the clip's own "
                                                 "loudest window (1); not used by the loud-audio cue")
    audio_dbfs: float | None = Field(default=None, le=0.01,
                                     description="Leq of the window: power mean of the RMS levels, dBFS "
                                                 "(absolute); the loud-audio cue compares it with loud_dbfs. "
                                                 "Null without an audio input ('loud audio' in unavailable), "
                                                 "or when the window is digital silence (zero power: no level; "
                                                 "not_measured['hook.audio_dbfs'], and the cue is checked and "
                                                 "absent)")
    loud_dbfs: float | None = Field(default=None, description="the level the loud-audio cue is checked against")
    signals: list[str] = Field(description="the cues found, each with its time")
    unavailable: list[str] = Field(description="cues that could not be checked (input missing)")


class AlignedText(Span):
    """One on-screen text span and the spoken words that match it."""

    text: str
    tokens: int = Field(ge=0, description="words in the on-screen text")
    matched: list[str] = Field(description="its words also spoken within the window")
    coverage: float | None = Field(ge=0, le=1, description="matched / tokens; null when the text has no word "
                                                          "to look for (emoji or punctuation only: tokens 0), with "
                                                          "coverage_reason")
    coverage_reason: str | None = Field(default=None, description="why coverage is null")
    spoken_at: float | None = Field(default=None, ge=0, description="first matching spoken word")
    lag_s: float | None = Field(default=None, description="spoken_at - start (negative: said before shown)")

    @model_validator(mode="after")
    def _reason(self) -> "AlignedText":
        if (self.coverage is None) != (self.tokens == 0) or (self.coverage is None) != bool(self.coverage_reason):
            raise ValueError("coverage is null exactly when the text has no token, and then says why")
        return self


class Alignment(ResultBase):
    available: bool
    reason: str | None = Field(default=None, description="why not, when unavailable")
    window_s: float = Field(gt=0, description="a spoken word matches within this distance of the text's span")
    items: list[AlignedText] = Field(default_factory=list)
    overlay_coverage: float | None = Field(default=None, ge=0, le=1, description=(
        "share of on-screen words spoken; null when unavailable or when no on-screen text has a word "
        "(CrossResult.not_measured['alignment.overlay_coverage'])"))
    mean_lag_s: float | None = None


class KeyMoment(ResultBase):
    t: float = Field(ge=0)
    score: float = Field(ge=0, le=1, description="signals at t / max(3, most signals at any moment): each "
                                                  "signal (a cut, text appearing, speech starting, audio rising by "
                                                  ">= audio_jump, a person or face appearing) weighs 1; signals "
                                                  "within 0.5 s are one moment. Relative to the clip's busiest "
                                                  "moment when it has more than 3")
    signals: list[str] = Field(min_length=1, description="what happens at t")


class CrossResult(ResultBase):
    method: Literal["rule_based_fusion"]
    duration: float = Field(ge=0)
    inputs_used: list[str]
    inputs_missing: list[InputState]
    inputs_ignored: list[str] = Field(description="other selected analyzers: their results feed nothing here")
    signal_sources: dict[str, str] = Field(description="series -> analyzer it came from")
    timeline: list[SecondSignals] = Field(min_length=1)
    hook: HookAnalysis
    alignment: Alignment
    key_moments: list[KeyMoment]
    not_measured: dict[str, str] = Field(default_factory=dict,
                                         description="field -> why it is null (not measured), e.g. hook.score")

    @model_validator(mode="after")
    def _consistent(self) -> "CrossResult":
        both = set(self.inputs_used) & {m.name for m in self.inputs_missing}
        if both:
            raise ValueError(f"listed as used and missing: {sorted(both)}")
        return self
