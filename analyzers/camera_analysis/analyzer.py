"""Camera motion per shot and over time: static, pan, tilt, zoom, handheld shake.

Frame-to-frame similarity transforms (``_camera_flow``) give the camera's
velocity; a shot's mean velocity says pan/tilt/zoom, and the jitter of its
path around a smoothed path says handheld. Shots come from ``cut_analysis``
when it ran and is ok; otherwise the whole video is one shot, and the result
says so (``shots_from`` and a degraded note).
"""
from __future__ import annotations

import math

import numpy as np

from _camera_flow import Motion, estimate
from analyzers.base import Analyzer as Base
from analyzers.base import Context, InputMissing
from shared_schema.results.cuts import CutResult
from shared_schema.results.motion import CameraResult, MotionSegment, MotionStats, ShotMotion

METHOD = ("Shi-Tomasi corners tracked by pyramidal Lucas-Kanade on every frame; RANSAC similarity "
          "transform per frame pair; shake = RMS of the path around its 0.5 s moving average")
SMOOTH_S = 0.5  # shake is what a 0.5 s moving average of the camera path does not follow
UNITS = ("pan", "tilt", "zoom", "shake")


class Analyzer(Base):
    def analyze(self, ctx: Context) -> CameraResult:
        p = ctx.params
        frames = ctx.frames("dense")
        fps = frames.index.fps
        times = frames.times
        n = len(times)
        motion = estimate(frames)
        shots, skip, source = _shots(ctx, fps, n)
        thr = {k: float(p[f"{k}_min"]) for k in UNITS}
        window = max(2, int(round(float(p["window_s"]) * fps)))
        duration = n / fps

        per_shot: list[ShotMotion] = []
        timeline: list[MotionSegment] = []
        for k, (a, b) in enumerate(shots):
            stats = _stats(motion, a, b, fps, skip)
            labels = _labels(stats, thr)
            end = times[b + 1] if b + 1 < n else duration
            per_shot.append(ShotMotion(start=times[a], end=round(end, 4), shot=k, label=labels[0],
                                       labels=labels, stats=stats))
            for w0 in range(a, b + 1, window):
                w1 = min(b, w0 + window - 1)
                if w1 - w0 < 2 and w0 != a:
                    continue  # a tail of 1-2 frames says nothing on its own
                ws = _stats(motion, w0, w1, fps, skip)
                label = _labels(ws, thr)[0]
                wend = times[w1 + 1] if w1 + 1 < n else duration
                timeline.append(MotionSegment(start=times[w0], end=round(wend, 4), label=label,
                                              magnitude=round(_magnitude(ws, label), 4)))
        overall = _overall(per_shot)
        return CameraResult(method=METHOD, shots_from=source, window_s=float(p["window_s"]),
                            overall=overall, shots=per_shot, timeline=_merge(timeline))


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


def _stats(m: Motion, a: int, b: int, fps: float, skip: np.ndarray) -> MotionStats:
    idx = np.arange(a + 1, b + 1)  # pairs (i-1, i) inside the span
    idx = idx[~skip[idx]] if len(idx) else idx
    use = idx[m.ok[idx]] if len(idx) else idx
    if len(use) == 0:
        return MotionStats(pan_speed=0, tilt_speed=0, zoom_rate=0, rotation_dps=0, shake=0,
                           tracked=0)
    # content moving left means the camera turning right: signs flipped to the camera's view
    pan = -float(m.dx[use].mean()) / m.width * fps
    tilt = -float(m.dy[use].mean()) / m.height * fps
    zoom = float(m.log_scale[use].mean()) * fps
    roll = math.degrees(float(m.roll[use].mean())) * fps
    dx = np.where(m.ok[idx], m.dx[idx], 0.0)
    dy = np.where(m.ok[idx], m.dy[idx], 0.0)
    shake = _jitter(np.cumsum(dx), np.cumsum(dy), fps) / math.hypot(m.width, m.height) * 100
    return MotionStats(pan_speed=round(pan, 4), tilt_speed=round(tilt, 4), zoom_rate=round(zoom, 4),
                       rotation_dps=round(roll, 3), shake=round(shake, 4),
                       tracked=round(len(use) / len(idx), 3) if len(idx) else 0.0)


def _jitter(px: np.ndarray, py: np.ndarray, fps: float) -> float:
    """RMS distance of the path from its moving average (odd reflection keeps ramps exact)."""
    k = max(3, int(round(fps * SMOOTH_S)) | 1)
    if len(px) < k:
        return 0.0
    ker = np.ones(k) / k

    def resid(p: np.ndarray) -> np.ndarray:
        padded = np.pad(p, k // 2, mode="reflect", reflect_type="odd")
        return p - np.convolve(padded, ker, mode="valid")

    return float(np.sqrt((resid(px) ** 2 + resid(py) ** 2).mean()))


def _labels(s: MotionStats, thr: dict[str, float]) -> list[str]:
    """Every motion over its threshold, strongest (relative to its threshold) first."""
    found = []
    if abs(s.pan_speed) >= thr["pan"]:
        found.append((abs(s.pan_speed) / thr["pan"], "pan_right" if s.pan_speed > 0 else "pan_left"))
    if abs(s.tilt_speed) >= thr["tilt"]:
        found.append((abs(s.tilt_speed) / thr["tilt"], "tilt_down" if s.tilt_speed > 0 else "tilt_up"))
    if abs(s.zoom_rate) >= thr["zoom"]:
        found.append((abs(s.zoom_rate) / thr["zoom"], "zoom_in" if s.zoom_rate > 0 else "zoom_out"))
    if s.shake >= thr["shake"]:
        found.append((s.shake / thr["shake"], "handheld"))
    return [label for _, label in sorted(found, reverse=True)] or ["static"]


def _magnitude(s: MotionStats, label: str) -> float:
    if label.startswith("pan"):
        return abs(s.pan_speed)
    if label.startswith("tilt"):
        return abs(s.tilt_speed)
    if label.startswith("zoom"):
        return abs(s.zoom_rate)
    return s.shake if label == "handheld" else 0.0


def _merge(segments: list[MotionSegment]) -> list[MotionSegment]:
    """Join neighbouring windows with the same label (magnitude: duration-weighted mean)."""
    out: list[MotionSegment] = []
    for seg in segments:
        if out and out[-1].label == seg.label and abs(out[-1].end - seg.start) < 1e-6:
            prev = out[-1]
            d0, d1 = prev.end - prev.start, seg.end - seg.start
            mag = (prev.magnitude * d0 + seg.magnitude * d1) / max(d0 + d1, 1e-9)
            out[-1] = MotionSegment(start=prev.start, end=seg.end, label=seg.label,
                                    magnitude=round(mag, 4))
        else:
            out.append(seg)
    return out


def _overall(shots: list[ShotMotion]) -> str:
    """The label covering the most time."""
    total: dict[str, float] = {}
    for s in shots:
        total[s.label] = total.get(s.label, 0.0) + (s.end - s.start)
    return max(total.items(), key=lambda kv: kv[1])[0]
