"""Timelines from the sound and from the fused analyzers: speech, loudness, audio regions, pacing.

Each reader takes the report and returns a :class:`Lane`, or a :class:`Missing`
saying why it cannot; it never raises on a missing analyzer or field.
"""
from __future__ import annotations

from shared_schema.report import Report

from runner.report.model import (Lane, Mark, Missing, Series, Span, clip, dicts, esc, num, result_of,
                                      span_of, text, why_missing, wrap)

__all__ = ["speech_lane", "loudness_lane", "regions_lane", "pacing_lane", "key_moments"]

_REGION_ORDER = ("speech", "singing", "music", "noise", "silence")
_BAND_FLOW, _BAND_HOOK = 1.1, 1.25   # y of the flow-segment and hook bands above the 0..1 curves


def speech_lane(report: Report) -> Lane | Missing:
    tr, flow = result_of(report, "speech_transcription"), result_of(report, "speech_flow")
    lane = Lane("speech", "Speech", "rows", sources=[])
    if tr is not None:
        lane.sources.append("speech_transcription")
        for seg in dicts(tr, "segments"):
            ab, words = span_of(seg), text(seg.get("text"))
            if ab:
                lane.spans.append(Span(*ab, "segments", label=esc(clip(words, 40)), color="segment",
                                       hover=f"{ab[0]:.2f}\u2013{ab[1]:.2f} s<br>{wrap(words or '(no text)')}"))
            for w in dicts(seg, "words"):
                wab, word = span_of(w), text(w.get("word"))
                if wab and word:
                    p = num(w.get("probability"))
                    lane.spans.append(Span(*wab, "words", label=esc(word), color="word",
                                           hover=f"{esc(word)}  {wab[0]:.2f}\u2013{wab[1]:.2f} s"
                                                 + (f"<br>probability {p:.2f}" if p is not None else "")))
        if not lane.spans:
            lane.notes.append("speech_transcription heard no words")
    if flow is not None:
        lane.sources.append("speech_flow")
        for s in dicts(flow, "speech_spans"):
            ab = span_of(s)
            if ab:
                lane.spans.append(Span(*ab, "voice", color="voice",
                                       hover=f"voice activity {ab[0]:.2f}\u2013{ab[1]:.2f} s"))
        for f in dicts(flow, "fillers"):
            t, word = num(f.get("t")), text(f.get("word"))
            if t is not None:
                lane.marks.append(Mark(t, "voice", hover=f"filler {esc(word)!s} at {t:.2f} s", color="filler",
                                       symbol="x"))
    if not lane.sources:
        return Missing("speech", lane.title, why_missing(report, "speech_transcription", "speech_flow"))
    if tr is None:
        lane.notes.append("transcript not in this report: " + why_missing(report, "speech_transcription"))
    lane.rows = [r for r in ("segments", "words", "voice") if any(s.row == r for s in lane.spans + lane.marks)]
    if not lane.rows:
        return Missing("speech", lane.title, "; ".join(lane.notes) or "no speech was found")
    return lane


def _level_line(points: list[dict], key: str, name: str, color: str) -> Series | None:
    """A level series; a null level (digital silence: audio_analysis >= 0.3, audio_environment >= 0.4)
    breaks the line, a gap, not a floor. None when no point has a level."""
    xs, ys = [], []
    for p in points:
        t = num(p.get("t"))
        if t is not None and (num(p.get(key)) is not None or p.get(key, 0) is None):
            xs.append(t)
            ys.append(num(p.get(key)))
    if not any(y is not None for y in ys):
        return None
    return Series(name, xs, ys, color=color, hover=[
        f"{name} {y:.1f} at {x:.2f} s" if y is not None else f"{name}: digital silence (no level) at {x:.2f} s"
        for x, y in zip(xs, ys)])


def loudness_lane(report: Report) -> Lane | Missing:
    lane = Lane("loudness", "Audio loudness", "values", sources=[], y_title="dB")
    aa = result_of(report, "audio_analysis")
    if aa is not None:
        pts = dicts(aa, "loudness_series")
        for key, name in (("rms_dbfs", "RMS dBFS"), ("momentary_lufs_approx", "momentary LUFS")):
            line = _level_line(pts, key, name, key)
            if line is not None:
                lane.series.append(line)
        beats = aa.get("rhythm", {}).get("beat_times") if isinstance(aa.get("rhythm"), dict) else None
        for t in beats if isinstance(beats, list) else []:
            if num(t) is not None:
                lane.marks.append(Mark(float(t), 3.0, hover=f"beat at {t:.2f} s", color="beat"))
        if lane.series:
            lane.sources.append("audio_analysis")
    env = result_of(report, "audio_environment")
    if not lane.series:
        spectral = env.get("spectral") if env else None
        line = _level_line(dicts(spectral, "rms_dbfs_series"), "value", "RMS dBFS", "rms_dbfs")
        if line is not None:
            lane.sources.append("audio_environment")
            lane.series.append(line)
    if not lane.series:
        spectral = env.get("spectral") if env else None
        silent = [p for src in (dicts(aa, "loudness_series"), dicts(spectral, "rms_dbfs_series"))
                  for p in src if p.get("rms_dbfs", 0) is None or p.get("value", 0) is None]
        why = ("digital silence throughout: no level to draw" if silent else
               why_missing(report, "audio_analysis", "audio_environment"))
        return Missing("loudness", lane.title, why)
    lo = max(-90.0, min(min(y for y in s.ys if y is not None) for s in lane.series))
    lane.y_range = (lo - 3, 6.0)
    return lane


def regions_lane(report: Report) -> Lane | Missing:
    lane = Lane("regions", "Music, speech and silence", "rows", sources=[])
    env = result_of(report, "audio_environment")
    if env is not None:
        for s in dicts(env, "timeline"):
            ab, label = span_of(s), text(s.get("label"))
            if ab and label:
                lane.spans.append(Span(*ab, label, color=label, hover=f"{esc(label)} {ab[0]:.2f}\u2013{ab[1]:.2f} s"
                                       + (f" ({esc(text(s.get('source')))})" if text(s.get("source")) else "")))
        lane.sources.append("audio_environment")
    else:
        aa = result_of(report, "audio_analysis")
        if aa is not None:
            lane.sources.append("audio_analysis")
            for s in dicts(aa, "silent_segments"):
                ab = span_of(s)
                if ab:
                    lane.spans.append(Span(*ab, "silence", color="silence",
                                           hover=f"silence {ab[0]:.2f}\u2013{ab[1]:.2f} s"))
            lane.notes.append("music/speech regions not in this report: " + why_missing(report, "audio_environment")
                              + " (silence from audio_analysis shown)")
    if not lane.sources:
        return Missing("regions", lane.title, why_missing(report, "audio_environment", "audio_analysis"))
    if not lane.spans:
        why = "audio_environment found no regions" if env is not None else \
            why_missing(report, "audio_environment") + "; audio_analysis found no silence"
        return Missing("regions", lane.title, why)
    present = {s.row for s in lane.spans}
    lane.rows = [r for r in _REGION_ORDER if r in present] + sorted(present - set(_REGION_ORDER))
    return lane


def pacing_lane(report: Report) -> Lane | Missing:
    lane = Lane("pacing", "Pacing and energy", "values", sources=[], y_title="0..1", y_range=(0.0, 1.33))
    flow, cross = result_of(report, "temporal_flow"), result_of(report, "cross_analyzer_intelligence")
    if flow is not None:
        lane.sources.append("temporal_flow")
        xs, ys, hover = [], [], []
        for p in dicts(flow, "energy"):
            ab, e = span_of(p), num(p.get("energy"))
            if ab and e is not None:
                parts = [f"{k} {num(p.get(k)):.2f}" for k in ("cuts", "motion", "audio", "speech")
                         if num(p.get(k)) is not None]
                xs.append((ab[0] + ab[1]) / 2)
                ys.append(e)
                hover.append(f"energy {e:.2f} at {ab[0]:.1f}\u2013{ab[1]:.1f} s<br>{', '.join(parts)}")
        if xs:
            lane.series.append(Series("energy", xs, ys, hover=hover, color="energy"))
        for s in dicts(flow, "segments"):
            ab, label = span_of(s), text(s.get("label"))
            if ab and "label" in s and s.get("label") is None:  # temporal_flow >= 1.4: bins no input covers
                label = "not measured"
            if ab and label:
                me, rule = num(s.get("mean_energy")), text(s.get("rule"))
                lane.spans.append(Span(*ab, _BAND_FLOW, label=esc(label), color=label,
                                       hover=f"{esc(label)} {ab[0]:.1f}\u2013{ab[1]:.1f} s"
                                             + (f", mean energy {me:.2f}" if me is not None else "")
                                             + (f"<br>{wrap(rule)}" if rule else "")))
        hook = flow.get("hook") if isinstance(flow.get("hook"), dict) else {}
        ab = span_of(hook)
        if ab:
            sig = [text(x) for x in hook.get("signals", []) if text(x)] if isinstance(hook.get("signals"), list) else []
            inten = num(hook.get("intensity"))
            lane.spans.append(Span(*ab, _BAND_HOOK, label="hook", color="hook",
                                   hover=f"hook {ab[0]:.1f}\u2013{ab[1]:.1f} s"
                                         + (f", intensity {inten:.2f}" if inten is not None else "")
                                         + (f"<br>{wrap('; '.join(sig))}" if sig else "")))
    if cross is not None:
        lane.sources.append("cross_analyzer_intelligence")
        xs, ys, hover = [], [], []
        for sec in dicts(cross, "timeline"):
            ab, act = span_of(sec), num(sec.get("activity"))
            if ab and act is not None:
                xs.append((ab[0] + ab[1]) / 2)
                ys.append(act)
                hover.append(f"activity {act:.2f} at {ab[0]:.0f}\u2013{ab[1]:.0f} s")
        if xs:
            lane.series.append(Series("activity (cross)", xs, ys, hover=hover, color="activity", shape="linear"))
        for m in key_moments(report):
            lane.marks.append(Mark(m[0], m[1], hover=f"key moment at {m[0]:.2f} s, score {m[1]:.2f}<br>"
                                                     + wrap("; ".join(m[2])), color="key", symbol="star"))
    if not lane.sources:
        return Missing("pacing", lane.title, why_missing(report, "temporal_flow", "cross_analyzer_intelligence"))
    if flow is None:
        lane.notes.append("energy curve not in this report: " + why_missing(report, "temporal_flow"))
    if cross is None:
        lane.notes.append("key moments not in this report: " + why_missing(report, "cross_analyzer_intelligence"))
    return lane


def key_moments(report: Report) -> list[tuple[float, float, list[str]]]:
    """``(t, score, signals)`` of cross_analyzer_intelligence's key moments, in time order."""
    out = []
    for m in dicts(result_of(report, "cross_analyzer_intelligence"), "key_moments"):
        t, score = num(m.get("t")), num(m.get("score"))
        sig = [text(s) for s in m.get("signals", []) if text(s)] if isinstance(m.get("signals"), list) else []
        if t is not None:
            out.append((t, score if score is not None else 0.0, sig))
    return sorted(out)
