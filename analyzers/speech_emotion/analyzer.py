"""Speech emotion: valence from the words (VADER), arousal from prosody, a store model when present."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from analyzers.common.speech_wav import read_wav

from analyzers.base import Analyzer as Base
from analyzers.base import Context, SkipAnalysis
from shared_schema.results.speech import EmotionSegment, ModelEmotion, SpeechEmotion, Transcript

from ._prosody import MIN_CUES, SR, arousal, frame_slice, pitch_track, voiced_regions

VALENCE_METHOD = ("VADER 3.3.2 lexicon and rules, compound score of each sentence of the transcript "
                  "(>=0.05 positive, <=-0.05 negative)")
AROUSAL_METHOD = ("prosody: unweighted mean of the scaled cues measured (at least 2; each segment lists "
                  "them in arousal_cues) - voiced energy (dBFS), pitch variability (semitone std), words per "
                  "second (with a transcript), pitch level against the clip's median; pitch by YIN, 70-500 Hz, "
                  "10 ms frames")
NO_MODEL = ("no speech-emotion model (store model `speech-emotion`) ran: no emotion labels; valence is the "
            "VADER lexicon on the transcript and arousal a hand-weighted prosody score with conventional, "
            "not fitted, ranges. ")
NO_FRAMES = "the segment holds no 10 ms frame of the audio (it lies past the end of the track)"
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


def _level(power: np.ndarray) -> float | None:
    """dBFS of the power mean of frames (None with no frame, or zero power: digital silence)."""
    mean = float(power.mean()) if power.size else 0.0
    return 10 * math.log10(mean) if mean > 0 else None


def _why_means_null(transcript: Transcript | None, segments: list[EmotionSegment], valenced: bool,
                    aroused: list[EmotionSegment], timed: bool) -> dict[str, str]:
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
    elif not aroused:
        out["arousal_mean"] = (f"no segment has an arousal (each needs {MIN_CUES} cues: "
                               "segments[].not_measured.arousal says why)")
    elif not timed:
        out["arousal_mean"] = "every segment with an arousal has zero duration: no time to weight arousal by"
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
        f0, power = pitch_track(x, ctx.params.voicing_threshold, ctx.params.min_dbfs)
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
        segments = [self._segment(x, f0, power, median_f0, span, vader) for span in spans]
        vals = [s.valence for s in segments if s.valence is not None]
        aroused = [s for s in segments if s.arousal is not None]
        weights = [s.end - s.start for s in aroused]
        not_measured = _why_means_null(transcript, segments, bool(vals), aroused, sum(weights) > 0)
        return SpeechEmotion(
            method=("valence: lexicon on the transcript; arousal: prosody"
                    + ("; emotion labels: store ONNX model" if self.clf else "")),
            valence_method=VALENCE_METHOD if vader is not None else None, arousal_method=AROUSAL_METHOD,
            segment_source="transcript" if transcript is not None else "voiced_regions", segments=segments,
            valence_mean=round(float(np.mean(vals)), 4) if vals else None,
            arousal_mean=round(float(np.average([s.arousal for s in aroused], weights=weights)), 4)
            if aroused and sum(weights) > 0 else None,
            model_run=self.clf is not None, model_reason=self.model_reason,
            model_name=self.model_name if self.clf else None,
            model_labels=list(self.clf.labels) if self.clf else [], not_measured=not_measured)

    def _segment(self, x: np.ndarray, f0: np.ndarray, power: np.ndarray, median_f0: float | None,
                 span: tuple, vader) -> EmotionSegment:
        """One segment's prosody, arousal (with the cues it is the mean of) and valence; what cannot
        be measured on it is null with the reason in its ``not_measured``."""
        start, end, text, n_words = span
        sl = frame_slice(start, end, len(f0))
        seg_f0, seg_pw = f0[sl], power[sl]
        voiced = ~np.isnan(seg_f0)
        nm: dict[str, str] = {}
        energy = _level(seg_pw)
        if energy is None:
            nm["energy_dbfs"] = (NO_FRAMES if not seg_pw.size else
                                 "digital silence: every sample of the segment is constant, zero power has no level")
        if not seg_pw.size:
            nm["voiced_ratio"] = NO_FRAMES
        cues: dict[str, float | None] = {"voiced_energy": None, "pitch_variability": None, "pitch_level": None}
        pitch_mean = st_std = None
        if voiced.sum() >= 3:
            f = seg_f0[voiced]
            pitch_mean, st_std = float(np.mean(f)), float(np.std(12 * np.log2(f / np.median(f))))
            cues = {"voiced_energy": _level(seg_pw[voiced]), "pitch_variability": st_std,
                    "pitch_level": 12 * np.log2(np.median(f) / median_f0) if median_f0 else None}
        wps = n_words / max(end - start, 1e-3) if n_words is not None else None
        a, scaled = arousal({**cues, "speaking_rate": wps})
        if a is None:
            nm["arousal"] = (f"{len(scaled)} of the arousal cues measured ({', '.join(scaled) or 'none'}), "
                             f"{MIN_CUES} needed: " + ("fewer than 3 voiced frames, so no voiced energy or pitch"
                                                      if voiced.sum() < 3 else "no pitch level or rate either"))
        valence = round(vader.polarity_scores(text)["compound"], 4) if vader is not None and text else None
        return EmotionSegment(
            start=start, end=end, text=text, valence=valence,
            valence_label=_valence_label(valence) if valence is not None else None,
            arousal=a, arousal_label=_arousal_label(a) if a is not None else None, arousal_cues=scaled,
            pitch_hz_mean=round(pitch_mean, 2) if pitch_mean else None,
            pitch_semitones_std=round(st_std, 3) if st_std is not None else None,
            voiced_ratio=round(float(voiced.mean()), 4) if seg_pw.size else None,
            energy_dbfs=None if energy is None else round(min(0.0, energy), 2),
            words_per_second=round(wps, 3) if wps is not None else None,
            model=self._predict(x[int(start * SR):int(end * SR)]) if self.clf else None, not_measured=nm)

    def _predict(self, clip: np.ndarray) -> ModelEmotion:
        if len(clip) < MIN_MODEL_SAMPLES:
            clip = np.pad(clip, (0, MIN_MODEL_SAMPLES - len(clip)))
        scores = self.clf.predict(clip)
        return ModelEmotion(label=max(scores, key=scores.get), scores={k: round(v, 6) for k, v in scores.items()})
