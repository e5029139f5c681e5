"""The pure core of cross_analyzer_intelligence: ``build(inputs) -> CrossResult``.

No I/O and no upstream models here: it works on normalized ``Signals``, so any
subset of inputs (including none) gives a result.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

from analyzers.base import Params, manifest_params
from shared_schema.results.cross import (AlignedText, Alignment, CrossInputs, CrossResult, HookAnalysis,
                                         KeyMoment, SecondSignals)
from shared_schema.results.temporal import Signals, SpanValue

_TOKEN = re.compile(r"[a-z0-9']+")
NO_TOKENS = ("no word of 2 or more letters or digits (emoji, symbols or punctuation only): nothing to look "
             "for in the speech")


def tokens(text: str) -> list[str]:
    return [t.strip("'") for t in _TOKEN.findall(text.lower()) if len(t.strip("'")) >= 2]


def _r(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(x, nd)


def _in_bin(t: float, a: float, b: float, last: bool) -> bool:
    return a <= t < b or (last and t == b)


def _mean_over(series: list[SpanValue], a: float, b: float, last: bool) -> float | None:
    total = weight = 0.0
    for s in series:
        if s.end <= s.start:
            if _in_bin(s.start, a, b, last):
                total, weight = total + s.value, weight + 1
            continue
        w = min(b, s.end) - max(a, s.start)
        if w > 0:
            total, weight = total + s.value * w, weight + w
    return total / weight if weight else None


def _max_over(series: list[SpanValue], a: float, b: float, last: bool) -> float | None:
    vals = [s.value for s in series if (s.start < b and s.end > a) or _in_bin(s.start, a, b, last)]
    return max(vals) if vals else None


def _clip01(x: float | None) -> float | None:
    return None if x is None else max(0.0, min(1.0, x))


def timeline(sig: Signals, p: Params) -> list[SecondSignals]:
    n = max(1, math.ceil(sig.duration - 1e-9))
    out = []
    for i in range(n):
        a, b = float(i), (float(min(sig.duration, i + 1)) if i == n - 1 else float(i + 1))
        b = max(a, b)
        last = i == n - 1
        row: dict = {"start": a, "end": b}
        if sig.cuts is not None:
            row["cuts"] = sum(1 for t in sig.cuts if _in_bin(t, a, b, last))
        if sig.motion is not None:
            row["motion"] = _r(_clip01(_mean_over(sig.motion, a, b, last)))
        if sig.audio_energy is not None:
            row["audio_energy"] = _r(_clip01(_mean_over(sig.audio_energy, a, b, last)))
        if sig.speech is not None:
            cov = sum(max(0.0, min(b, s.end) - max(a, s.start)) for s in sig.speech)
            row["speech"] = _r(min(1.0, cov / (b - a))) if b > a else 0.0
        if sig.words is not None:
            row["words"] = [w.text for w in sig.words if _in_bin(w.start, a, b, last)]
        if sig.overlays is not None:
            row["overlay_text"] = list(dict.fromkeys(
                o.text for o in sig.overlays
                if (o.start < b and o.end > a) or (o.start == o.end and _in_bin(o.start, a, b, last))))
        if sig.persons is not None:
            row["persons"] = _max_over(sig.persons, a, b, last)
        if sig.faces is not None:
            row["faces"] = _max_over(sig.faces, a, b, last)
        levels = [min(1.0, row["cuts"] / p.cuts_full) if "cuts" in row else None,
                  row.get("motion"), row.get("audio_energy"), row.get("speech")]
        levels = [v for v in levels if v is not None]
        row["activity"] = _r(sum(levels) / len(levels)) if levels else None
        out.append(SecondSignals(**row))
    return out


def hook(sig: Signals, rows: list[SecondSignals], p: Params) -> HookAnalysis:
    end = min(p.hook_s, sig.duration)
    h: dict = {"start": 0.0, "end": end}
    found, unavailable, checked = [], [], 0

    def cue(name: str, available: bool, present: bool, text: str) -> None:
        nonlocal checked
        if not available:
            unavailable.append(name)
            return
        checked += 1
        if present:
            found.append(text)

    cuts = sorted(t for t in (sig.cuts or []) if t < end)
    if sig.cuts is not None:
        h["cuts"], h["first_cut_t"] = len(cuts), (cuts[0] if cuts else None)
    cue("cut", sig.cuts is not None, bool(cuts), f"{len(cuts)} cut(s), first at {cuts[0]:.2f}s" if cuts else "")
    words = sorted((w for w in sig.words or [] if w.start < end), key=lambda w: w.start)
    onset = min((s.start for s in sig.speech or [] if s.start < end), default=None)
    if words:
        onset = min(onset, words[0].start) if onset is not None else words[0].start
        h["first_words"] = " ".join(w.text for w in words[:8])
    h["speech_onset"] = onset
    cue("speech", sig.speech is not None or sig.words is not None, onset is not None,
        f"speech from {onset:.2f}s" if onset is not None else "")
    texts = sorted((o for o in sig.overlays or [] if o.start < end), key=lambda o: o.start)
    if texts:
        h["text_onset"], h["first_text"] = texts[0].start, texts[0].text
    cue("on-screen text", sig.overlays is not None, bool(texts),
        f"text {texts[0].text!r} from {texts[0].start:.2f}s" if texts else "")
    first = [r for r in rows if r.start < end] or rows[:1]
    for key, label in (("persons", "person"), ("faces", "face")):
        vals = [getattr(r, key) for r in first if getattr(r, key) is not None]
        available = getattr(sig, key) is not None
        if available:
            h[f"{label}_visible"] = any(v > 0 for v in vals)
        cue(label, available, any(v > 0 for v in vals), f"{label} visible")
    vals = [r.motion for r in first if r.motion is not None]
    mean = sum(vals) / len(vals) if vals else None
    h["motion_mean"] = _r(mean)
    cue("camera motion", sig.motion is not None, mean is not None and mean >= 0.5,
        f"camera motion (mean {mean:.2f})" if mean is not None else "")
    vals = [r.audio_energy for r in first if r.audio_energy is not None]
    h["audio_mean"] = _r(sum(vals) / len(vals)) if vals else None
    # loud audio is absolute: the hook window's Leq against a stated level, never the clip's own peak
    # digital silence over the whole window has no level (None) but is checked: it is not loud
    leq, covered = _leq(sig.audio_dbfs or [], 0.0, end)
    h["audio_dbfs"] = None if leq is None else round(leq, 2)
    h["loud_dbfs"] = p.loud_dbfs
    cue("loud audio", covered, leq is not None and leq >= p.loud_dbfs,
        f"loud audio (Leq {leq:.1f} dBFS >= {p.loud_dbfs:g} dBFS)" if leq is not None else "")
    if checked:
        return HookAnalysis(score=round(len(found) / checked, 4), cues_checked=checked, signals=found,
                            unavailable=unavailable, **h)
    return HookAnalysis(score=None, score_reason=f"no hook cue could be checked: no input for {', '.join(unavailable)}",
                        cues_checked=0, signals=found, unavailable=unavailable, **h)


def _leq(series: list[SpanValue], a: float, b: float) -> tuple[float | None, bool]:
    """(Leq, covered): the power mean (equivalent continuous level) of dBFS values over [a, b),
    time-weighted, and whether the series covers any of the window. A window of digital silence (every
    value -inf: zero power) has no level: (None, True), never a floor value."""
    total = weight = 0.0
    for s in series:
        w = min(b, s.end) - max(a, s.start)
        if w > 0:
            total, weight = total + w * 10 ** (s.value / 10), weight + w
    return (10 * math.log10(total / weight) if weight and total > 0 else None), weight > 0


def alignment(sig: Signals, p: Params) -> Alignment:
    missing = [n for n, v in (("spoken words", sig.words), ("on-screen text", sig.overlays)) if v is None]
    if missing:
        return Alignment(available=False, reason=" and ".join(missing) + " not available",
                         window_s=p.align_window_s)
    spoken = [(tok, w.start) for w in sig.words for tok in tokens(w.text)]
    items, total, hit, lags = [], 0, 0, []
    for o in sig.overlays:
        toks = list(dict.fromkeys(tokens(o.text)))
        lo, hi = o.start - p.align_window_s, o.end + p.align_window_s
        times = {t: min((s for tok, s in spoken if tok == t and lo <= s <= hi), default=None) for t in toks}
        matched = [t for t, s in times.items() if s is not None]
        spoken_at = min((times[t] for t in matched), default=None)
        lag = None if spoken_at is None else round(spoken_at - o.start, 4)
        if lag is not None:
            lags.append(lag)
        total, hit = total + len(toks), hit + len(matched)
        items.append(AlignedText(start=o.start, end=o.end, text=o.text, tokens=len(toks), matched=matched,
                                 coverage=round(len(matched) / len(toks), 4) if toks else None,
                                 coverage_reason=None if toks else NO_TOKENS, spoken_at=spoken_at, lag_s=lag))
    return Alignment(available=True, window_s=p.align_window_s, items=items,
                     overlay_coverage=round(hit / total, 4) if total else None,
                     mean_lag_s=round(sum(lags) / len(lags), 4) if lags else None)


def key_moments(sig: Signals, rows: list[SecondSignals], p: Params) -> list[KeyMoment]:
    found: dict[float, list[str]] = {}

    def add(t: float, text: str) -> None:
        found.setdefault(round(t, 3), []).append(text)

    for t in sig.cuts or []:
        add(t, "cut")
    for o in sig.overlays or []:
        add(o.start, f"text appears: {o.text!r}")
    for s in sorted(sig.speech or [], key=lambda s: s.start):
        add(s.start, "speech starts")
    for prev, row in zip(rows, rows[1:]):
        if prev.audio_energy is not None and row.audio_energy is not None \
                and row.audio_energy - prev.audio_energy >= p.audio_jump:
            add(row.start, f"audio rises {prev.audio_energy:.2f} -> {row.audio_energy:.2f}")
        for key, label in (("persons", "person"), ("faces", "face")):
            a, b = getattr(prev, key), getattr(row, key)
            if a is not None and b is not None and a == 0 and b > 0:
                add(row.start, f"{label} appears")
    # moments within half a second of each other are one moment
    merged: list[tuple[float, list[str]]] = []
    for t in sorted(found):
        if merged and t - merged[-1][0] <= 0.5:
            merged[-1][1].extend(found[t])
        else:
            merged.append((t, list(found[t])))
    if not merged:
        return []
    # three signals coinciding (e.g. a cut, a caption and a voice) is as strong as a moment gets;
    # a clip whose best moment has more sets the scale instead
    full = max(3, max(len(s) for _, s in merged))
    best = sorted(merged, key=lambda m: (-len(m[1]), m[0]))[:p.max_key_moments]
    return [KeyMoment(t=max(0.0, t), score=round(len(s) / full, 4), signals=s) for t, s in sorted(best)]


def build(inputs: CrossInputs, params: Params | None = None) -> CrossResult:
    """``params``: a run's ``ctx.params``; None: the defaults analyzer.toml declares."""
    p = params if params is not None else manifest_params(Path(__file__).parent)
    sig = inputs.signals
    rows = timeline(sig, p)
    missing = [m for m in inputs.missing if m.name not in set(inputs.used)]
    h = hook(sig, rows, p)
    not_measured: dict[str, str] = {}
    if any(r.activity is None for r in rows):
        not_measured["timeline.activity"] = ("no cut, camera motion, audio or speech input "
                                             "(cut_analysis, camera_analysis, audio_analysis/audio_environment, "
                                             "speech_flow/speech_transcription)")
    if h.score is None:
        not_measured["hook.score"] = h.score_reason or "no hook cue could be checked"
    align = alignment(sig, p)
    if align.available and align.overlay_coverage is None:
        not_measured["alignment.overlay_coverage"] = ("no on-screen text has a word to look for: " + NO_TOKENS
                                                      if align.items else "no on-screen text was found")
    if h.audio_dbfs is None and "loud audio" not in h.unavailable:
        not_measured["hook.audio_dbfs"] = (f"digital silence over the hook window (0-{h.end:g} s, from "
                                           f"{sig.sources.get('audio_dbfs', 'the audio input')}): zero power, no "
                                           "level in dB; the loud-audio cue is checked and absent")
    return CrossResult(method="rule_based_fusion", duration=sig.duration, inputs_used=list(inputs.used),
                       inputs_missing=missing, inputs_ignored=list(inputs.ignored), signal_sources=dict(sig.sources), timeline=rows,
                       hook=h, alignment=align,
                       key_moments=key_moments(sig, rows, p), not_measured=not_measured)
