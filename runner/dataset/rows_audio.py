"""Rows from the sound analyzers: the transcript (words, segments), the audio over time, and their scores.

Same contract as :mod:`runner.dataset.rows_visual`: one mapper per analyzer, reading its result dict.
"""
from __future__ import annotations

from runner.dataset.values import Rows, f, lst, norm, obj, s

Results = dict[str, dict]


def speech_transcription(res: dict, results: Results, out: Rows) -> None:
    k = 0
    for n, seg in enumerate(out.items(res.get("segments"))):
        words = [obj(w) for w in lst(seg.get("words"))]
        out.add("segments", segment=n, start_s=f(seg.get("start")), end_s=f(seg.get("end")), text=s(seg.get("text")),
                avg_logprob=f(seg.get("avg_logprob")), no_speech_prob=f(seg.get("no_speech_prob")), words=len(words))
        for w in words:
            word = (s(w.get("word")) or "").strip()
            out.add("words", word_index=k, segment=n, start_s=f(w.get("start")), end_s=f(w.get("end")), word=word,
                    norm=norm(word), probability=f(w.get("probability")))
            k += 1
    out.score("speech_transcription", "language", text=res.get("language"))
    out.score("speech_transcription", "decoded_language", text=res.get("decoded_language"))
    for name in ("word_count", "speech_duration", "mean_word_probability"):
        out.score("speech_transcription", name, res.get(name))


def _span(out: Rows, analyzer: str, kind: str, sp: dict, label=None, value=None, unit=None) -> None:
    out.add("audio", analyzer=analyzer, kind=kind, label=s(label), start_s=f(sp.get("start")), end_s=f(sp.get("end")),
            value=f(value), unit=unit if f(value) is not None else None)


def _instant(out: Rows, analyzer: str, kind: str, t, label=None) -> None:
    out.add("audio", analyzer=analyzer, kind=kind, label=s(label), start_s=f(t), end_s=f(t))


def audio_analysis(res: dict, results: Results, out: Rows) -> None:
    name = "audio_analysis"
    half = (f(res.get("series_step_s")) or 0.0) / 2
    for p in out.items(res.get("loudness_series")):
        t = f(p.get("t"))
        sp = {"start": None if t is None else max(0.0, t - half), "end": None if t is None else t + half}
        _span(out, name, "loudness", sp, "rms_dbfs", p.get("rms_dbfs"), "dBFS")
        _span(out, name, "loudness", sp, "momentary_lufs", p.get("momentary_lufs_approx"), "LUFS")
    rhythm = obj(res.get("rhythm"))
    for t in lst(rhythm.get("beat_times")):
        _instant(out, name, "beat", t)
    for t in lst(rhythm.get("onset_times")):
        _instant(out, name, "onset", t)
    for sp in out.items(res.get("silent_segments")):
        _span(out, name, "silence", sp)
    loud = obj(res.get("loudness"))
    out.score(name, "integrated_lufs", loud.get("integrated_lufs_approx"))
    for key in ("rms_dbfs", "peak_dbfs", "loudness_range_lu"):
        out.score(name, key, loud.get(key))
    out.score(name, "tempo_bpm", rhythm.get("tempo_bpm"))
    out.score(name, "beat_regularity", rhythm.get("beat_regularity"))
    out.score(name, "onset_density_per_s", rhythm.get("onset_density_per_s"))
    out.score(name, "silent_fraction", res.get("silent_fraction"))


def audio_environment(res: dict, results: Results, out: Rows) -> None:
    name = "audio_environment"
    for seg in out.items(res.get("timeline")):
        _span(out, name, "environment", seg, seg.get("label"))
    for ev in out.items(obj(res.get("event_classifier")).get("labels")):
        _span(out, name, "event", ev, ev.get("label"), ev.get("score"), "score")
    for key in ("speech_ratio", "singing_ratio", "music_ratio", "silence_ratio", "noise_ratio"):
        out.score(name, key, res.get(key))
    out.score(name, "dominant_sound", text=res.get("dominant"))


def speech_flow(res: dict, results: Results, out: Rows) -> None:
    name = "speech_flow"
    for sp in out.items(res.get("speech_spans")):
        _span(out, name, "speech", sp)
    for sp in out.items(res.get("pauses")):
        _span(out, name, "pause", sp)
    for fl in out.items(res.get("fillers")):
        _instant(out, name, "filler", fl.get("t"), fl.get("word"))
    for key in ("speech_ratio", "words_per_minute", "speaking_rate_wpm", "fillers_per_minute", "time_to_first_word",
                "time_to_first_speech", "mean_pause_s", "longest_pause_s"):
        out.score(name, key, res.get(key))


def speech_emotion(res: dict, results: Results, out: Rows) -> None:
    for key in ("valence_mean", "arousal_mean"):
        out.score("speech_emotion", key, res.get(key))
    for seg in out.items(res.get("segments")):
        out.score("speech_emotion", "arousal", seg.get("arousal"), seg.get("arousal_label"),
                  seg.get("start"), seg.get("end"))


MAPPERS = {
    "speech_transcription": speech_transcription, "audio_analysis": audio_analysis,
    "audio_environment": audio_environment, "speech_flow": speech_flow, "speech_emotion": speech_emotion,
}
