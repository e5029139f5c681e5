"""Shot boundaries on every frame: hard cuts, dissolves, fades; the shot list and cut rate.

Hard cuts: PySceneDetect's AdaptiveDetector (content score against its rolling
neighbourhood) proposes them from the shared dense frames; each proposal is
kept only if the picture really changed almost everywhere after undoing the
global camera shift (``frames.aligned_diff``), which rejects shake, pans
and a hand sweeping past the lens, and only if the new picture stays (a flash
gives the old one back). Fades and dissolves, which the frame-to-frame score
does not see, come from ``gradual``; cuts between pictures of the same luma
(which the grey dense frames cannot show) from the colour of the ``sampled``
frames, ``chroma``.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass

import cv2
import numpy as np
from scenedetect import AdaptiveDetector, FrameTimecode

from analyzers.base import Analyzer as Base
from analyzers.base import Context
from shared_schema.results.cuts import CutResult, Shot, Transition

from .chroma import find_chroma_cuts
from .frames import FrameStats, confidence, margin, measure, pair_diff
from .gradual import Gradual, find_dissolves, find_fades

METHOD = ("hard cuts: PySceneDetect AdaptiveDetector (luma) confirmed by a shift-compensated block "
          "difference; equal-luma colour cuts: chroma grid of the 2-fps sampled colour frames, "
          "placed on the dense frames; fades: runs of uniform frames, the boundary at a cut out of "
          "(or into) black, else at the darkest frames; dissolves: long-range change whose middle "
          "frames are blends of both ends")
NEIGHBOURS = 5  # frames each side a confirmed cut's change is compared with


class Analyzer(Base):
    def analyze(self, ctx: Context) -> CutResult:
        p = ctx.params
        frames = ctx.frames("dense")
        fps = frames.index.fps
        min_gap = max(1, int(round(p.min_shot_s * fps)))
        floor = p.cut_min
        proposer = CutProposer(fps, min_gap)
        stats = measure(frames, proposer.visit)
        n = len(stats.diff)

        fades = find_fades(stats, fps, p.black_level, floor)
        cuts = [Cut(c, confidence(*m), "content", round(0.5 / fps, 4))
                for c in proposer.finish(n) if (m := confirm_cut(stats, c, floor, p.cut_ratio)) is not None]
        # a cut inside a fade is the fade's own steep part
        cuts = [c for c in cuts if not any(f.start <= c.frame <= f.end + 1 for f in fades)]
        blocked = [(c.frame, c.frame) for c in cuts] + [(f.start, f.end) for f in fades]
        dissolves = find_dissolves(stats, fps, blocked, floor)
        # what luma saw explains its stretch; colour cuts are looked for everywhere else
        explained = [(c.frame - 1, c.frame) for c in cuts] + [(g.start, g.end) for g in fades + dissolves]
        cuts += [Cut(c.frame, c.confidence, "chroma", c.uncertainty_s)
                 for c in find_chroma_cuts(stats, frames.times, fps, ctx.frames("sampled"), explained,
                                           floor, p.chroma_min, p.cut_ratio, p.black_level, p.chroma_every)]

        transitions = _transitions(cuts, fades + dissolves, frames.times, fps, min_gap)
        return _result(transitions, frames.times, fps, n)


class CutProposer:
    """PySceneDetect's AdaptiveDetector fed the frames as they are read; proposes cut frames."""

    def __init__(self, fps: float, min_gap: int):
        self.fps = fps
        self.det = AdaptiveDetector(luma_only=True, min_scene_len=min_gap)
        self.found: list[FrameTimecode] = []

    def visit(self, i: int, gray: np.ndarray) -> None:
        self.found += self.det.process_frame(FrameTimecode(i, self.fps),
                                             cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR))

    def finish(self, n: int) -> list[int]:
        """First frames of new shots."""
        self.found += self.det.post_process(FrameTimecode(n - 1, self.fps))
        return [tc.frame_num for tc in self.found if 0 < tc.frame_num < n]


def confirm_cut(stats: FrameStats, i: int, floor: float, ratio: float) -> list[float] | None:
    """The margins of the tests a hard cut at frame ``i`` passes (see ``confidence``), or None."""
    d = stats.diff
    lo, hi = max(1, i - NEIGHBOURS), min(len(d), i + NEIGHBOURS + 1)
    around = np.r_[d[lo:i], d[i + 1:hi]]
    base = float(np.median(around)) if len(around) else 0.0
    if not (d[i] >= floor and d[i] >= ratio * max(base, 1e-3)):
        return None
    # a flash (or a one-frame glitch) changes the picture and then gives it back: the
    # frames after the cut must differ from the one before it, and from two before
    pairs = [(i - 1, k) for k in (i + 1, i + 2) if k < len(d)] + ([(i - 2, i)] if i >= 2 else [])
    stays = [pair_diff(stats, a, b) for a, b in pairs]
    if any(x < 0.5 * floor for x in stays):
        return None
    return [margin(d[i], floor), margin(d[i], ratio * max(base, 1e-3))] + [margin(x, 0.5 * floor) for x in stays]


@dataclass(frozen=True)
class Cut:
    frame: int  # first frame of the new shot
    confidence: float
    via: str  # "content" (luma) | "chroma" (colour only)
    uncertainty_s: float


def _transitions(cuts: list[Cut], gradual: list[Gradual], times: list[float], fps: float,
                 min_gap: int) -> list[Transition]:
    n = len(times)
    out: list[tuple[float, Transition]] = []
    for c in cuts:
        i = c.frame
        out.append((i, Transition(kind="cut", start=times[i], end=times[i], t=times[i], frame=i,
                                  confidence=round(c.confidence, 3), via=c.via,
                                  uncertainty_s=c.uncertainty_s)))
    for g in gradual:
        first = min(n - 1, int(np.ceil(g.mid)))
        t = (times[int(np.floor(g.mid))] + times[first]) / 2
        out.append((g.mid, Transition(kind=g.kind, start=times[g.start], end=times[g.end],
                                      t=round(t, 4), frame=first, confidence=g.confidence,
                                      via=g.via, uncertainty_s=round(0.5 / fps, 4))))
    out.sort(key=lambda x: x[0])
    kept: list[Transition] = []
    for _, tr in out:  # two boundaries closer than the shortest shot: keep the stronger
        if kept and tr.frame - kept[-1].frame < min_gap:
            if tr.confidence > kept[-1].confidence:
                kept[-1] = tr
            continue
        kept.append(tr)
    return kept


def _result(transitions: list[Transition], times: list[float], fps: float, n: int) -> CutResult:
    starts = [0] + [tr.frame for tr in transitions]
    ends = [f - 1 for f in starts[1:]] + [n - 1]
    duration = n / fps
    shots = []
    for k, (a, b) in enumerate(zip(starts, ends)):
        start, end = times[a], (times[b + 1] if b + 1 < n else duration)
        shots.append(Shot(index=k, start=start, end=round(end, 4), start_frame=a, end_frame=b,
                          duration=round(end - start, 4)))
    lengths = [s.duration for s in shots]
    hard = sum(tr.kind == "cut" for tr in transitions)
    return CutResult(
        method=METHOD, fps=fps, frames=n, duration_s=round(duration, 4), transitions=transitions,
        shots=shots, cut_count=len(transitions), hard_cuts=hard, gradual=len(transitions) - hard,
        cuts_per_minute=round(len(transitions) / duration * 60, 3) if duration > 0 else 0.0,
        mean_shot_s=round(statistics.fmean(lengths), 4),
        median_shot_s=round(statistics.median(lengths), 4))
