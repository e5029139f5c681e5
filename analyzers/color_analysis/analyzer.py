"""color_analysis: dominant palettes per shot and overall, tone statistics and colour changes."""
from __future__ import annotations

import bisect

import numpy as np

from analyzers.base import Analyzer as Base
from shared_schema.envelope import Status
from shared_schema.results.appearance import (
    ColorAnalysisResult, ColorChange, ColorPoint, ColorShot, PaletteColor, ToneStats,
)

from . import _palette as P

CUTS = "cut_analysis"
METHOD = ("k-means (k-means++, OpenCV) on CIELAB pixels subsampled from the 2 fps frames, clusters "
          f"closer than {P.MERGE_DELTA_E:g} CIE76 merged; tone from CIELAB L*, HSV S and sRGB R-B")


def shot_starts(ctx, duration: float, window_s: float) -> tuple[list[float], str, str]:
    """Shot start times, where they come from, and a note saying why."""
    if CUTS in ctx.job.upstream:
        env = ctx.upstream(CUTS)
        shots = (env.result or {}).get("shots") if env is not None else None
        if env is not None and env.status is Status.ok and shots:
            starts = sorted(float(s["start"]) for s in shots)
            starts[0] = 0.0
            return starts, "cut_analysis", f"{len(starts)} shot(s) from cut_analysis"
        why = ("cut_analysis produced no envelope" if env is None
               else f"cut_analysis status {env.status.value}")
    else:
        why = "cut_analysis was not run"
    n = max(1, int(np.ceil(duration / window_s - 1e-9)))
    return [i * window_s for i in range(n)], "fixed_windows", f"{why}: fixed {window_s:g} s windows"


class Analyzer(Base):
    def analyze(self, ctx) -> ColorAnalysisResult:
        p = ctx.params
        k, window_s, threshold = p.palette_size, p.window_s, p.change_delta_e
        frames = ctx.frames("sampled")
        if len(frames) == 0:
            raise ValueError("the sampled frame set is empty")
        duration = max(ctx.media.duration_s, frames.times[-1])
        starts, segmentation, note = shot_starts(ctx, duration, window_s)

        series: list[ColorPoint] = []
        pixels: list[np.ndarray] = []
        shot_of: list[int] = []
        for entry, bgr in frames:
            lab = P.to_lab(bgr)
            series.append(ColorPoint(t=entry.t, mean_lab=_triple(lab.reshape(-1, 3).mean(axis=0)),
                                     **P.tone(bgr, lab)))
            pixels.append(P.small_pixels(bgr))
            shot_of.append(max(0, bisect.bisect_right(starts, entry.t + 1e-6) - 1))

        shots = []
        ends = [*starts[1:], duration]
        for i, (start, end) in enumerate(zip(starts, ends)):
            members = [j for j, s in enumerate(shot_of) if s == i]
            if not members:  # a shot shorter than the 0.5 s frame spacing has no frame of its own
                continue
            px = np.concatenate([pixels[j] for j in members])
            shots.append(ColorShot(
                index=i, start=start, end=max(start, end), frames=len(members),
                palette=[PaletteColor(**c) for c in P.palette(px, k, seed=i)],
                **_mean_tone([series[j] for j in members])))

        all_px = np.concatenate(pixels)
        changes = []
        for prev, cur in zip(series, series[1:]):
            d = float(np.linalg.norm(np.subtract(cur.mean_lab, prev.mean_lab)))
            if d > threshold:
                changes.append(ColorChange(t=cur.t, delta_e=round(d, 2)))
        return ColorAnalysisResult(
            method=METHOD, segmentation=segmentation, segmentation_note=note,
            window_s=window_s if segmentation == "fixed_windows" else None,
            frames_analyzed=len(series), overall=ToneStats(**_mean_tone(series)),
            palette=[PaletteColor(**c) for c in P.palette(all_px, k, seed=0)],
            shots=shots, series=series, changes=changes, change_threshold=threshold)


def _triple(v) -> tuple[float, float, float]:
    return tuple(round(float(x), 2) for x in v)


def _mean_tone(points: list[ColorPoint]) -> dict[str, float]:
    """Frames are all the same size, so the mean of per-frame means is the pixel mean
    (contrast is the mean per-frame contrast: a cut between two flat colours is not contrast)."""
    keys = ("brightness", "saturation", "contrast", "warmth")
    return {k: round(float(np.mean([getattr(p, k) for p in points])), 4) for k in keys}
