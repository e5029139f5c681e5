"""Speech emotion: valence from the words (VADER), arousal from prosody, a store model when present."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from analyzers.common.speech_wav import read_wav

from analyzers.base import Analyzer as Base
from analyzers.base import Context, SkipAnalysis
from shared_schema.results.speech import EmotionSegment, ModelEmotion, SpeechEmotion, Transcript

from ._prosody import SR, arousal, frame_slice, pitch_track, voiced_regions

VALENCE_METHOD = ("VADER 3.3.2 lexicon and rules, compound score of each sentence of the transcript "
                  "(>=0.05 positive, <=-0.05 negative)")
AROUSAL_METHOD = ("prosody: mean of scaled cues - pitch variability (semitone std), voiced energy (dBFS), "
                  "words per second (with a transcript), pitch level against the clip's median; "
                  "pitch by YIN, 70-500 Hz, 10 ms frames")
NO_MODEL = ("no speech-emotion model (store model `speech-emotion`) ran: no emotion labels; valence is the "
            "VADER lexicon on the transcript and arousal a hand-weighted prosody score with conventional, "
            "not fitted, ranges. ")
MIN_MODEL_SAMPLES = SR // 2  # pad shorter clips: a classifier's front end needs some context


def sentences(transcript: Transcript, gap_s: float = 0.6) -> list[tuple[float, float, str, int]]:
    """(start, end, text, words) per sentence: Whisper's segments can hold several sentences of
    opposite feeling, which one score per segment would average away."""
    out, cur = [], []
    words = [w for seg in transcript.segments for w in seg.words]
    for i, w in enumerate(words):
        cur.append(w)
        nxt = words[i + 1] if i + 1 < len(words) else None
        if nxt is None or w.word.rstrip("\"')").endswith((".", "!", "?")) or nxt.start - w.end >= gap_s:
            out.append((cur[0].start, max(cur[0].start, cur[-1].end), " ".join(x.word for x in cur), len(cur)))
            cur = []
    return out


def _valence_label(v: float) -> str:
    return "positive" if v >= 0.05 else "negative" if v <= -0.05 else "neutral"


def _arousal_label(a: float) -> str:
    return "low" if a < 0.35 else "medium" if a < 0.65 else "high"


def _why_means_null(transcript: Transcript | None, segments: list[EmotionSegment], valenced: bool,
                    timed: bool) -> dict[str, str]:
    """The reason for each null mean (``not_measured``); empty when both were measured."""
    out = {}
    if not valenced:
        out["valence_mean"] = ("no transcript (speech_transcription not run or not ok): valence is read from "
                               "the words" if transcript is None else
                               "no sentence of the transcript has text (no words): nothing to read valence from")
    if not segments:
        out["arousal_mean"] = ("no voiced region of 0.5 s or more (the pitch track found no voice): no segment "
                               "to measure prosody over" if transcript is None else
                               "the transcript has no words: no sentence to measure prosody over")
    elif not timed:
        out["arousal_mean"] = "every segment has zero duration: no time to weight arousal by"
    return out


class Analyzer(Base):
    def setup(self, ctx: Context) -> None:
        self.clf, self.model_reason = None, None
        try:
            path = ctx.model_path("speech-emotion") / "model.onnx"
        except SkipAnalysis as exc:  # optional: the lexicon and prosody parts still run
            self.model_reason = f"{exc.message}; fix: {exc.fix}"
            ctx.degrade(NO_MODEL + self.model_reason)
            return
        if not path.is_file():
            req = ctx.model_requirement("speech-emotion")
            self.model_reason = f"no model.onnx in {req.path} in the model store; fix: {req.fix}"
            ctx.degrade(NO_MODEL + self.model_reason)
            return
        from analyzers.common.onnx_audio_clf import ModelContractError, OnnxAudioClassifier

        try:
            self.clf = OnnxAudioClassifier(path, ctx.threads, ctx.device)
        except ModelContractError as exc:  # a wrong store file must not cost the lexicon and prosody parts
            self.model_reason = f"store model rejected: {exc}"
            ctx.degrade(self.model_reason)
            return
        self.model_name = path.name
        for f in self.clf.files:  # the .onnx, then its labels/config side files
            name = "speech-emotion" if f == path else f"speech-emotion/{f.name}"
            ctx.use_model_file(name, f"store:{ctx.model_requirement('speech-emotion').path}{f.name}", f)

    def analyze(self, ctx: Context) -> SpeechEmotion:
        x = read_wav(ctx.audio_path)
        f0, rms_db = pitch_track(x, ctx.params.voicing_threshold, ctx.params.min_dbfs)
        transcript = ctx.upstream_result("speech_transcription", Transcript) \
            if "speech_transcription" in ctx.job.upstream else None
        if transcript is not None:
            import vaderSentiment
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            for lex, name in (("vader_lexicon.txt", "vader-lexicon"), ("emoji_utf8_lexicon.txt", "vader-emoji-lexicon")):
                lexicon = Path(vaderSentiment.__file__).parent / lex  # the two files the analyzer below reads
                ctx.use_model_file(name, f"package:{lexicon}", lexicon)
            vader = SentimentIntensityAnalyzer()
            spans = sentences(transcript)
        else:
            ctx.degrade("no transcript (speech_transcription not run or not ok): no valence, "
                        "segments are voiced regions and arousal has no speaking-rate cue")
            vader = None
            spans = [(a, b, None, None) for a, b in voiced_regions(f0)]

        voiced_all = f0[~np.isnan(f0)]
        median_f0 = float(np.median(voiced_all)) if voiced_all.size else None
        segments = []
        for start, end, text, n_words in spans:
            sl = frame_slice(start, end, len(f0))
            seg_f0, seg_db = f0[sl], rms_db[sl]
            voiced = seg_f0[~np.isnan(seg_f0)]
            energy = float(10 * np.log10(np.mean(10 ** (seg_db / 10)))) if seg_db.size else -120.0
            if voiced.size >= 3:
                st = 12 * np.log2(voiced / np.median(voiced))
                pitch_mean, st_std = float(np.mean(voiced)), float(np.std(st))
                above = 12 * np.log2(np.median(voiced) / median_f0) if median_f0 else None
                voiced_energy = float(10 * np.log10(np.mean(10 ** (seg_db[~np.isnan(seg_f0)] / 10))))
            else:
                pitch_mean = st_std = above = None
                voiced_energy = energy
            dur = max(end - start, 1e-3)
            wps = n_words / dur if n_words is not None else None
            a = arousal(st_std, voiced_energy, wps, above)
            valence = round(vader.polarity_scores(text)["compound"], 4) if vader is not None and text else None
            model_out = self._predict(x[int(start * SR):int(end * SR)]) if self.clf else None
            segments.append(EmotionSegment(
                start=start, end=end, text=text, valence=valence,
                valence_label=_valence_label(valence) if valence is not None else None,
                arousal=a, arousal_label=_arousal_label(a),
                pitch_hz_mean=round(pitch_mean, 2) if pitch_mean else None,
                pitch_semitones_std=round(st_std, 3) if st_std is not None else None,
                voiced_ratio=round(float(voiced.size / max(1, seg_f0.size)), 4),
                energy_dbfs=round(min(0.0, energy), 2), words_per_second=round(wps, 3) if wps is not None else None,
                model=model_out))
        vals = [s.valence for s in segments if s.valence is not None]
        weights = [s.end - s.start for s in segments]
        not_measured = _why_means_null(transcript, segments, bool(vals), sum(weights) > 0)
        return SpeechEmotion(
            method=("valence: lexicon on the transcript; arousal: prosody"
                    + ("; emotion labels: store ONNX model" if self.clf else "")),
            valence_method=VALENCE_METHOD if vader is not None else None, arousal_method=AROUSAL_METHOD,
            segment_source="transcript" if transcript is not None else "voiced_regions", segments=segments,
            valence_mean=round(float(np.mean(vals)), 4) if vals else None,
            arousal_mean=round(float(np.average([s.arousal for s in segments], weights=weights)), 4)
            if segments and sum(weights) > 0 else None,
            model_run=self.clf is not None, model_reason=self.model_reason,
            model_name=self.model_name if self.clf else None,
            model_labels=list(self.clf.labels) if self.clf else [], not_measured=not_measured)

    def _predict(self, clip: np.ndarray) -> ModelEmotion:
        if len(clip) < MIN_MODEL_SAMPLES:
            clip = np.pad(clip, (0, MIN_MODEL_SAMPLES - len(clip)))
        scores = self.clf.predict(clip)
        return ModelEmotion(label=max(scores, key=scores.get), scores={k: round(v, 6) for k, v in scores.items()})
