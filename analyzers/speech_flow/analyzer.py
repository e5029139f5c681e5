"""Speech flow: rate over time, pauses (Silero VAD), fillers, speech ratio, the hook."""
from __future__ import annotations

import re
from pathlib import Path

from analyzers.common.speech_wav import SAMPLE_RATE, read_wav

from analyzers.base import Analyzer as Base
from analyzers.base import Context, SkipAnalysis
from shared_schema.envelope import SkipReason
from shared_schema.results.common import Span, TimedValue
from shared_schema.results.speech import Filler, Pause, SpeechFlow, Transcript, Word

# Disfluencies only: "like" or "you know" are fillers only sometimes, and counting them
# would turn ordinary sentences into false fillers.
FILLERS = ("um", "umm", "uh", "uhh", "uhm", "er", "erm", "ah", "hmm", "mm", "mhm")
METHOD = ("voice activity: Silero VAD (faster-whisper 1.2.1); words, rate, fillers and hook: "
          "speech_transcription word timestamps; fillers: disfluency tokens in the transcript")


def _norm(word: str) -> str:
    return re.sub(r"[^\w']", "", word.lower())


def speech_spans(audio, threshold: float, min_pause_s: float) -> list[Span]:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    # Small padding: the default 400 ms would eat most of every pause we want to measure.
    opts = VadOptions(threshold=threshold, min_silence_duration_ms=int(min_pause_s * 1000),
                      speech_pad_ms=30, min_speech_duration_ms=100)
    stamps = get_speech_timestamps(audio, opts, sampling_rate=SAMPLE_RATE)
    return [Span(start=round(s["start"] / SAMPLE_RATE, 3), end=round(s["end"] / SAMPLE_RATE, 3)) for s in stamps]


def pauses_between(spans: list[Span], min_pause_s: float) -> list[Pause]:
    out = []
    for a, b in zip(spans, spans[1:]):
        gap = b.start - a.end
        if gap >= min_pause_s:
            out.append(Pause(start=a.end, end=b.start, duration=round(gap, 3)))
    return out


def rate_series(words: list[Word], duration: float, window: float, step: float) -> list[TimedValue]:
    """Words per minute in a window centred on each t; a clip shorter than the window gets one point."""
    if not words or duration <= 0:
        return []
    mids = [(w.start + w.end) / 2 for w in words]
    if duration <= window:
        return [TimedValue(t=round(duration / 2, 3), value=round(len(words) / duration * 60, 2))]
    out, t = [], window / 2
    while t <= duration - window / 2 + 1e-9:
        n = sum(1 for m in mids if t - window / 2 <= m < t + window / 2)
        out.append(TimedValue(t=round(t, 3), value=round(n / window * 60, 2)))
        t += step
    return out


def _first_word_onset(word: Word, spans: list[Span]) -> float:
    """Whisper often starts the first word at 0.0; the voice onset under it is the better hook time."""
    for s in spans:
        if s.start < word.end and s.end > word.start:
            return round(max(word.start, s.start), 3)
    return word.start


class Analyzer(Base):
    def analyze(self, ctx: Context) -> SpeechFlow:
        transcript = ctx.upstream_result("speech_transcription", Transcript)
        if transcript is None:  # `needs` makes the runner skip us first; this guards a direct run
            raise SkipAnalysis(SkipReason.upstream_failed, "speech_transcription gave no result")
        import faster_whisper

        vad_path = Path(faster_whisper.__file__).parent / "assets" / "silero_vad_v6.onnx"
        ctx.use_model_file("silero-vad", f"package:{vad_path}", vad_path)
        p = ctx.params
        min_pause, window, step = p.min_pause_s, p.rate_window_s, p.rate_step_s
        audio = read_wav(ctx.audio_path)
        duration = len(audio) / SAMPLE_RATE
        spans = speech_spans(audio, p.vad_threshold, min_pause)
        speech = sum(s.end - s.start for s in spans)
        silence = max(0.0, duration - speech)
        pauses = pauses_between(spans, min_pause)
        words = [w for s in transcript.segments for w in s.words]
        fillers = [Filler(t=w.start, word=_norm(w.word)) for w in words if _norm(w.word) in FILLERS]
        if not transcript.verbatim:  # Whisper then drops most disfluencies: the count is a lower bound
            ctx.degrade("transcript not verbatim: filler count is a lower bound")
        first_last = (words[-1].end - words[0].start) if words else 0.0
        hook = _first_word_onset(words[0], spans) if words else None
        return SpeechFlow(
            method=METHOD, audio_duration=round(duration, 3), speech_spans=spans,
            speech_duration=round(speech, 3), speech_ratio=round(min(1.0, speech / duration), 4) if duration else None,
            speech_to_silence=round(speech / silence, 3) if silence > 0 else None,
            pauses=pauses, min_pause_s=min_pause,
            mean_pause_s=round(sum(x.duration for x in pauses) / len(pauses), 3) if pauses else None,
            longest_pause_s=max((x.duration for x in pauses), default=None),
            word_count=len(words),
            words_per_minute=round(len(words) / speech * 60, 2) if words and speech > 0 else None,
            speaking_rate_wpm=round(len(words) / first_last * 60, 2) if first_last > 0 else None,
            wpm_series=rate_series(words, duration, window, step), rate_window_s=window,
            fillers=fillers, filler_vocabulary=list(FILLERS),
            fillers_per_minute=round(len(fillers) / speech * 60, 2) if speech > 0 else None,
            time_to_first_word=hook,
            first_word=words[0].word if words else None,
            time_to_first_speech=spans[0].start if spans else None,
            not_measured=_not_measured(duration, speech, silence, pauses, words, first_last, spans))


def _not_measured(duration: float, speech: float, silence: float, pauses: list, words: list,
                  first_last: float, spans: list) -> dict[str, str]:
    """Why each null field of SpeechFlow is null."""
    out = {}
    if not duration:
        out["speech_ratio"] = "the audio track is empty (0 s): no time to take a share of"
    if silence <= 0:
        out["speech_to_silence"] = "no non-speech time to divide by" if duration else "the audio track is empty"
    if not pauses:
        why = "no pause of at least min_pause_s between two speech spans"
        out["mean_pause_s"] = out["longest_pause_s"] = why
    if not words or speech <= 0:
        out["words_per_minute"] = "no transcribed words" if not words else "no voice activity to divide by"
    if first_last <= 0:
        out["speaking_rate_wpm"] = ("no transcribed words" if not words
                                    else "first and last word span no time")
    if speech <= 0:
        out["fillers_per_minute"] = "no voice activity to divide by"
    if not words:
        out["time_to_first_word"] = out["first_word"] = "no transcribed words"
    if not spans:
        out["time_to_first_speech"] = "no voice activity found"
    return out
