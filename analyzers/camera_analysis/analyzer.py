"""Camera motion per shot and over time: static, pan, tilt, zoom, handheld shake.

Frame-to-frame similarity transforms (``flow``) give the camera's
velocity; a shot's mean velocity says pan/tilt/zoom, and the jitter of its
path around a smoothed path says handheld. Shots come from ``cut_analysis``
when it ran and is ok; otherwise the whole video is one shot, and the result
says so (``shots_from`` and a degraded note).

Label thresholds (``*_min`` params) were chosen on the motion calibration set
(``tests/analyzers/camera_calibration.py``; figures in ``docs/camera.md``). What
was not measured is null with its reason: shake over spans shorter than the
0.5 s smoothing window, and every stat and the label where no frame pair could
be tracked (not ``static``: a still camera is a measurement, not a default).
"""
from __future__ import annotations

import math

import numpy as np

from analyzers.base import Analyzer as Base
from analyzers.base import Context, InputMissing
from shared_schema.results.cuts import CutResult
from shared_schema.results.motion import CameraResult, MotionSegment, ShotMotion

from .flow import estimate
from .stats import NOT_TRACKED, span_stats as _stats
from ._labels import labels as _labels, magnitude as _magnitude, thresholds

METHOD = ("Shi-Tomasi corners (spread over a 4x4 grid) tracked by pyramidal Lucas-Kanade on every "
          "frame; least-median-of-squares similarity transform per frame pair; shake = RMS of the "
          "path around its 0.5 s moving average; label thresholds calibrated on a motion set")


class Analyzer(Base):
    def analyze(self, ctx: Context) -> CameraResult:
        p = ctx.params
        frames = ctx.frames("dense")
        fps = frames.index.fps
        times = frames.times
        n = len(times)
        motion = estimate(frames)
        shots, skip, source = _shots(ctx, fps, n)
        thr = thresholds(p)
        window = max(2, int(round(p.window_s * fps)))
        duration = n / fps

        per_shot: list[ShotMotion] = []
        timeline: list[MotionSegment] = []
        for k, (a, b) in enumerate(shots):
            stats = _stats(motion, a, b, fps, skip)
            labels = _labels(stats, thr)
            end = times[b + 1] if b + 1 < n else duration
            per_shot.append(ShotMotion(start=times[a], end=round(end, 4), shot=k,
                                       label=labels[0] if labels else None, labels=labels,
                                       stats=stats, not_measured={} if labels else
                                       {"label": NOT_TRACKED}))
            for w0 in range(a, b + 1, window):
                w1 = min(b, w0 + window - 1)
                if w1 - w0 < 2 and w0 != a:
                    continue  # a tail of 1-2 frames says nothing on its own
                ws = _stats(motion, w0, w1, fps, skip)
                wl = _labels(ws, thr)
                wend = times[w1 + 1] if w1 + 1 < n else duration
                if wl:
                    timeline.append(MotionSegment(start=times[w0], end=round(wend, 4), label=wl[0],
                                                  magnitude=round(_magnitude(ws, wl[0]), 4)))
                else:
                    timeline.append(MotionSegment(start=times[w0], end=round(wend, 4), label=None,
                                                  magnitude=None,
                                                  not_measured={"label": NOT_TRACKED,
                                                                "magnitude": NOT_TRACKED}))
        overall = _overall(per_shot)
        return CameraResult(method=METHOD, shots_from=source, window_s=p.window_s,
                            overall=overall, shots=per_shot, timeline=_merge(timeline),
                            not_measured={} if overall else {"overall": "no shot has a label: "
                                                             + NOT_TRACKED})


def _shots(ctx: Context, fps: float, n: int) -> tuple[list[tuple[int, int]], np.ndarray, str]:
    """Shots as inclusive frame ranges, and the frame pairs to leave out (inside transitions)."""
    skip = np.zeros(n, bool)
    try:
        cuts = ctx.upstream_result("cut_analysis", CutResult)
    except InputMissing:  # not selected in this run
        cuts = None
    if cuts is None or cuts.frames != n:
        ctx.degrade("cut_analysis result not available: the whole video is treated as one shot")
        return [(0, n - 1)], skip, "whole_video"
    for tr in cuts.transitions:
        a = max(0, int(math.floor(tr.start * fps)))
        b = min(n - 1, int(math.ceil(tr.end * fps)))
        skip[a:b + 1] = True
        skip[tr.frame] = True  # the pair across the boundary compares two different shots
    return [(s.start_frame, s.end_frame) for s in cuts.shots], skip, "cut_analysis"


def _merge(segments: list[MotionSegment]) -> list[MotionSegment]:
    """Join neighbouring windows with the same label (magnitude: duration-weighted mean)."""
    out: list[MotionSegment] = []
    for seg in segments:
        if out and out[-1].label == seg.label and abs(out[-1].end - seg.start) < 1e-6:
            prev = out[-1]
            if seg.label is None:  # two untracked windows: one untracked span
                out[-1] = prev.model_copy(update={"end": seg.end})
                continue
            d0, d1 = prev.end - prev.start, seg.end - seg.start
            mag = (prev.magnitude * d0 + seg.magnitude * d1) / max(d0 + d1, 1e-9)
            out[-1] = MotionSegment(start=prev.start, end=seg.end, label=seg.label,
                                    magnitude=round(mag, 4))
        else:
            out.append(seg)
    return out


def _overall(shots: list[ShotMotion]) -> str | None:
    """The label covering the most time among labelled shots (None when none has a label)."""
    total: dict[str, float] = {}
    for s in shots:
        if s.label is not None:
            total[s.label] = total.get(s.label, 0.0) + (s.end - s.start)
    return max(total.items(), key=lambda kv: kv[1])[0] if total else None
