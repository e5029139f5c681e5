"""Pacing from normalized signals: an energy curve in bins, the hook, and segments.

Pure functions (no I/O) so the rules can be tested without the pipeline.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

from analyzers.base import Params, manifest_params
from shared_schema.results.common import Span
from shared_schema.results.temporal import (EnergyPoint, FlowSegment, HookIntensity, Signals,
                                            SpanValue)

#: component weights before renormalizing over the components that are available
BASE_WEIGHTS = {"cuts": 0.35, "motion": 0.25, "audio": 0.3, "speech": 0.1}


#: ``FlowParams(bin_s=1.0)``: the params analyzer.toml declares, defaulted, for calls outside a run
#: (a run passes ``ctx.params``)
FlowParams = partial(manifest_params, Path(__file__).parent)


def _bins(duration: float, bin_s: float) -> list[tuple[float, float]]:
    n = max(1, int(round(duration / bin_s + 0.4999)))
    return [(round(i * bin_s, 4), round(min(duration, (i + 1) * bin_s), 4)) for i in range(n)]


def _overlap_mean(series: list[SpanValue], a: float, b: float) -> float | None:
    """Overlap-weighted mean of span values over [a, b]; instants count when inside."""
    total = weight = 0.0
    for s in series:
        if s.end <= s.start:
            if a <= s.start < b:
                total += s.value
                weight += 1.0
            continue
        w = min(b, s.end) - max(a, s.start)
        if w > 0:
            total += s.value * w
            weight += w
    return total / weight if weight > 0 else None


def _covered(spans: list[Span], a: float, b: float) -> float | None:
    """Share of [a, b] under the spans; None for an empty bin (a zero-length video)."""
    cov = sum(max(0.0, min(b, s.end) - max(a, s.start)) for s in spans)
    return max(0.0, min(1.0, cov / (b - a))) if b > a else None


def energy_curve(sig: Signals, p: Params) -> tuple[list[EnergyPoint], dict[str, float]]:
    available = {"cuts": sig.cuts is not None, "motion": sig.motion is not None,
                 "audio": sig.audio_energy is not None, "speech": sig.speech is not None}
    raw = {k: w for k, w in BASE_WEIGHTS.items() if available[k]}
    norm = sum(raw.values())
    weights = {k: round(w / norm, 4) for k, w in raw.items()} if norm else {}
    points = []
    for a, b in _bins(sig.duration, p.bin_s):
        comp: dict[str, float | None] = {"cuts": None, "motion": None, "audio": None, "speech": None}
        if sig.cuts is not None:
            mid = (a + b) / 2
            near = sum(1 for t in sig.cuts if abs(t - mid) <= p.cut_window_s)
            rate = near / (2 * p.cut_window_s)
            comp["cuts"] = min(1.0, rate / p.cuts_full_per_s)
        if sig.motion is not None:
            v = _overlap_mean(sig.motion, a, b)
            comp["motion"] = None if v is None else max(0.0, min(1.0, v))  # None: the series skips this bin
        if sig.audio_energy is not None:
            v = _overlap_mean(sig.audio_energy, a, b)
            comp["audio"] = None if v is None else max(0.0, min(1.0, v))
        if sig.speech is not None:
            comp["speech"] = _covered(sig.speech, a, b)
        # renormalized over the components measured in this bin: a series that does not cover
        # the bin is left out, not counted as 0
        have = [k for k in weights if comp[k] is not None]
        wsum = sum(weights[k] for k in have)
        e = sum(weights[k] * comp[k] for k in have) / wsum if wsum > 0 else None
        points.append(EnergyPoint(start=a, end=b, energy=None if e is None else round(max(0.0, min(1.0, e)), 4),
                                  **{k: (round(v, 4) if v is not None else None) for k, v in comp.items()}))
    return points, weights


def _mean(points: list[EnergyPoint]) -> float | None:
    """Mean energy of the bins that have one; None when none has."""
    vals = [p.energy for p in points if p.energy is not None]
    return sum(vals) / len(vals) if vals else None


def _measured(points: list[EnergyPoint]) -> bool:
    return any(q.energy is not None for q in points)


def hook(sig: Signals, points: list[EnergyPoint], p: Params) -> HookIntensity:
    end = min(p.hook_s, sig.duration)
    inside = [q for q in points if q.start < end] or points[:1]
    intensity = _mean(inside)
    overall = _mean(points)
    cuts = sorted(t for t in (sig.cuts or []) if t < end)
    onset = min((s.start for s in (sig.speech or [])), default=None)
    signals = [f"cut at {t:.2f}s" for t in cuts]
    if onset is not None and onset < end:
        signals.append(f"speech from {onset:.2f}s")
    for key in ("motion", "audio"):
        vals = [getattr(q, key) for q in inside if getattr(q, key) is not None]
        if vals:
            signals.append(f"mean {key} {sum(vals) / len(vals):.2f}")
    if not _measured(points) or intensity is None:  # intensity None: no input covers the hook window
        return HookIntensity(start=0.0, end=end, intensity=None, relative=None,
                             cuts=None if sig.cuts is None else len(cuts), speech_onset=onset, signals=signals)
    return HookIntensity(start=0.0, end=end, intensity=round(max(0.0, min(1.0, intensity)), 4),
                         relative=round(intensity / overall, 4) if overall else None,
                         cuts=None if sig.cuts is None else len(cuts), speech_onset=onset, signals=signals)


def _smooth(vals: list[float | None]) -> list[float | None]:
    """3-bin moving mean over the bins that have a value; None where none has."""
    out = []
    for i in range(len(vals)):
        win = [v for v in vals[max(0, i - 1): i + 2] if v is not None]
        out.append(sum(win) / len(win) if win else None)
    return out


def segments(points: list[EnergyPoint], duration: float,
             p: Params) -> tuple[list[FlowSegment], float | None]:
    """Segments tiling [0, duration], each with the rule that made it; and the peak instant.

    No segments and no peak when the energy was not measured (no input at all). Bins no input
    covers (null energy) get no label: they are cut out of the segment they fall in, as
    segments with a null label and the reason, never labelled from the bins around them."""
    if not _measured(points):
        return [], None
    segs, peak_t = _labelled(points, duration, p)
    return _unmeasured_cut_out(segs, points, duration), peak_t


UNCOVERED = "no input covers these bins (null energy): not labelled"


def _labelled(points: list[EnergyPoint], duration: float,
              p: Params) -> tuple[list[FlowSegment], float]:
    energies = [q.energy for q in points]
    sm = _smooth(energies)
    top = max((i for i in range(len(sm)) if sm[i] is not None and energies[i] is not None),
              key=lambda i: (sm[i], -i))
    peak_t = round((points[top].start + points[top].end) / 2, 4)

    def seg(label: str, i: int, j: int, rule: str) -> FlowSegment:
        a = 0.0 if i == 0 else points[i].start
        b = duration if j == len(points) else points[j].start
        m = _mean(points[i:j])
        if m is None:  # no bin of it is covered: unlabelled (and cut out as such below)
            return FlowSegment(start=a, end=b, label=None, mean_energy=None, rule=UNCOVERED)
        return FlowSegment(start=a, end=b, label=label, mean_energy=round(m, 4), rule=rule)

    known = [v for v, e in zip(sm, energies) if v is not None and e is not None]
    if max(known) - min(known) < p.flat_range:
        return [seg("steady", 0, len(points), f"smoothed energy varies less than {p.flat_range}")], peak_t
    # smoothing picks the top (one spiky bin is not a peak); raw energy sets the edges,
    # since smoothing would pull them inwards
    level = p.peak_frac * max(energies[top], sm[top])
    i = top
    while i > 0 and energies[i - 1] is not None and energies[i - 1] >= level:
        i -= 1
    j = top + 1
    while j < len(energies) and energies[j] is not None and energies[j] >= level:
        j += 1
    out: list[FlowSegment] = []
    if i > 0:
        hook_end = min(i, max(1, int(round(p.hook_s / p.bin_s))))
        out.append(seg("intro", 0, hook_end, f"from the start to the end of the {p.hook_s:g}s hook "
                                             "window or the peak, whichever is first"))
        if hook_end < i:
            out.append(seg("build", hook_end, i, "between the intro and the peak"))
    out.append(seg("peak", i, j, f"energy >= {p.peak_frac:g} x the top ({level / p.peak_frac:.2f}, "
                                 f"smoothed maximum at {peak_t:.2f}s), contiguous around it"))
    if j < len(points):
        after, peak_mean = _mean(points[j:]), _mean(points[i:j])
        if after is None:  # no input covers anything after the peak: unlabelled
            out.append(seg("sustain", j, len(points), UNCOVERED))
        elif after < p.outro_frac * peak_mean:
            out.append(seg("outro", j, len(points), f"after the peak, mean energy {after:.2f} < "
                                                    f"{p.outro_frac:g} x the peak's {peak_mean:.2f}"))
        else:
            out.append(seg("sustain", j, len(points), f"after the peak, mean energy {after:.2f} >= "
                                                      f"{p.outro_frac:g} x the peak's {peak_mean:.2f}"))
    return out, peak_t


def _unmeasured_cut_out(segs: list[FlowSegment], points: list[EnergyPoint],
                        duration: float) -> list[FlowSegment]:
    """Split each segment at its runs of null-energy bins: measured runs keep the label (their own
    mean), null runs are segments with a null label and the reason."""
    out: list[FlowSegment] = []
    for s in segs:
        inside = [q for q in points if q.start < s.end - 1e-9 and q.end > s.start + 1e-9] or points[:1]
        runs: list[list[EnergyPoint]] = []
        for q in inside:
            if runs and (runs[-1][0].energy is None) == (q.energy is None):
                runs[-1].append(q)
            else:
                runs.append([q])
        for k, run in enumerate(runs):
            a = s.start if k == 0 else run[0].start
            b = s.end if k == len(runs) - 1 else runs[k + 1][0].start
            if run[0].energy is None:
                piece = FlowSegment(start=a, end=b, label=None, mean_energy=None, rule=UNCOVERED)
            else:
                m = _mean(run)
                piece = s.model_copy(update={"start": a, "end": b, "mean_energy": round(m, 4)})
            if out and out[-1].label is None and piece.label is None:  # two unlabelled runs: one
                out[-1] = out[-1].model_copy(update={"end": piece.end})
            else:
                out.append(piece)
    return out
