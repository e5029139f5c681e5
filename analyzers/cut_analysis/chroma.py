"""Cuts only colour shows: two shots of (nearly) the same luma but different hue.

The dense frames are grey, so a cut from red to a green of the same luma leaves
them unchanged. The ``sampled`` colour frames (2 fps, extracted for most other
analyzers anyway) carry a cheap chroma signature: each is decoded at 1/8 scale
(libjpeg's DCT scaling, no full decode) and reduced to a grid of mean Cr/Cb.
A change of that signature between two consecutive samples is a colour cut when

- no boundary already found lies between them (luma saw nothing there),
- the luma of the dense frames at the two instants barely changed (below the
  hard-cut floor: a picture whose luma changed that much without a cut is a
  camera move, a fade or a light, not an equal-luma cut),
- it is several times the chroma change of the neighbouring sample pairs (a
  slow drift of colour is no cut) and the new colour stays (the next sample
  still differs from the one before the change: no flash).

It is then placed on the dense frames when their luma shows any trace of it (the
largest frame difference in the interval, standing well above the others): to
one frame. With no trace at all (flat colours of exactly equal luma) the cut is
put at the middle of the sample interval and ``uncertainty_s`` says how far off
it may be (half the interval).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .frames import FrameStats, confidence, margin, pair_diff

GRID = (4, 6)  # cells (w, h) of the chroma signature
TRACE_RATIO = 3.0  # a luma trace: the interval's largest difference over its median
MATCH_TOL = 1.5  # grey levels (mean abs, small frames): matches this close are ties
TRACE_MIN = 0.004  # and at least this (0..1): JPEG noise on flat frames stays below


@dataclass(frozen=True)
class ChromaCut:
    frame: int  # dense index of the new shot's first frame
    confidence: float
    uncertainty_s: float  # half-width of the window the cut is known to lie in


def signatures(frames, small_hw: tuple[int, int], stride: int = 1):
    """Every ``stride``-th sampled frame: grid of (Cr, Cb) means 0..1 (N, cells, 2), mean
    luma 0..255, a grey small frame like ``FrameStats.small`` (N, h, w), and times."""
    pick = list(range(0, len(frames), stride))
    n = len(pick)
    sig = np.zeros((n, GRID[0] * GRID[1], 2), np.float32)
    luma = np.zeros(n, np.float64)
    grey = np.zeros((n, *small_hw), np.uint8)
    for k, i in enumerate(pick):
        img = cv2.imread(str(frames.path(i)), cv2.IMREAD_REDUCED_COLOR_8)
        if img is None:
            raise ValueError(f"unreadable frame {frames.path(i)}")
        ycc = cv2.cvtColor(img, cv2.COLOR_BGR2YCrCb)
        grey[k] = cv2.GaussianBlur(cv2.resize(ycc[:, :, 0], small_hw[::-1], interpolation=cv2.INTER_AREA),
                                   (3, 3), 0)
        ycc = cv2.resize(ycc, GRID, interpolation=cv2.INTER_AREA).reshape(-1, 3).astype(np.float32) / 255.0
        sig[k] = ycc[:, 1:]
        luma[k] = float(ycc[:, 0].mean() * 255.0)
    times = frames.times
    return sig, luma, grey, [times[i] for i in pick]


def source_frames(stats: FrameStats, grey: np.ndarray, times: list[float], dense_times: np.ndarray,
                  sample_fps: float) -> list[int]:
    """The dense frame each colour sample shows.

    The extractor's ``fps`` filter (``round=up``) fills the output slot at ``t`` with the last
    input frame at or before ``t``. Each sample is still matched by its grey picture against the
    dense frames within half a sample interval either side (a sampled set from another extractor
    may differ); where several match equally (still or flat pictures) the one that rule predicts
    is taken among them.
    """
    out = []
    half = 0.5 / sample_fps
    for g, t in zip(grey, times):
        lo = int(np.searchsorted(dense_times, t - half - 1e-6))
        hi = int(np.searchsorted(dense_times, t + half - 1e-6))  # frames before t + half
        lo, hi = min(lo, len(dense_times) - 1), max(min(hi, len(dense_times)), lo + 1)
        cand = np.arange(lo, hi)
        err = np.abs(stats.small[cand].astype(np.float32) - g.astype(np.float32)).mean(axis=(1, 2))
        ties = cand[err <= err.min() + MATCH_TOL]
        rule = min(max(int(np.searchsorted(dense_times, t + 1e-6)) - 1, lo), hi - 1)  # last frame <= t
        out.append(int(ties[np.argmin(np.abs(ties - rule))]))
    return out


def find_chroma_cuts(stats: FrameStats, dense_times: list[float], fps: float, frames,
                     explained: list[tuple[int, int]], cut_min: float, chroma_min: float,
                     ratio: float, black_level: float, every: int) -> list[ChromaCut]:
    """Colour cuts between sampled frames that no luma boundary (``explained`` spans) covers.

    At most one colour frame is read per ``every`` dense frames, which bounds the cost:
    a colour frame decoded at 1/8 scale takes about 1-2 ms, the luma analysis about
    3-6 ms per dense frame. With the sampled set at 2 fps and dense at 30 fps every
    sample is read; a 10 fps video, or a higher ``--sample-fps``, reads every second or
    third (and a colour cut that left no luma trace is then placed less closely).
    """
    stride = max(1, int(np.ceil(len(frames) * every / max(1, len(dense_times)))))
    if len(frames) < 2 * stride:
        return []
    sig, luma, grey, times = signatures(frames, stats.small.shape[1:], stride)
    m = len(times)
    # change of the chroma signature from sample k to k + 1: median over cells, so a
    # subject moving through part of the frame does not count
    change = np.array([_sig_diff(sig[k], sig[k + 1]) for k in range(m - 1)])
    dense_at = source_frames(stats, grey, times, np.asarray(dense_times), frames.index.fps)
    covered = [any(a <= dense_at[k + 1] and dense_at[k] <= b for a, b in explained)
               for k in range(m - 1)]
    out: list[ChromaCut] = []
    for k in range(m - 1):
        if covered[k] or change[k] < chroma_min:
            continue
        if min(luma[k], luma[k + 1]) < black_level or max(luma[k], luma[k + 1]) > 255 - black_level:
            continue  # chroma of near-black or near-white frames is noise
        around = [change[j] for j in (k - 1, k + 1) if 0 <= j < m - 1 and not covered[j]]
        need = ratio * max(float(np.mean(around)), 1e-3) if around else 0.0
        if around and change[k] < need:
            continue  # colour drifting steadily (a pan over colours, a light)
        stays = _sig_diff(sig[k], sig[k + 2]) if k + 2 < m else None
        if stays is not None and stays < 0.5 * chroma_min:
            continue  # the old colour came back: a flash
        a, b = dense_at[k], dense_at[k + 1]
        luma_change = pair_diff(stats, a, b) if b - a >= 1 else None
        if luma_change is None or luma_change >= cut_min:
            continue  # the luma changed as much as a cut: not an equal-luma cut
        margins = [margin(change[k], chroma_min), margin(luma_change, cut_min, at_most=True)]
        margins += [margin(change[k], need)] if around else []
        margins += [margin(stays, 0.5 * chroma_min)] if stays is not None else []
        out.append(_locate(stats, a, b, fps, confidence(*margins)))
    return out


def _sig_diff(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.median(np.abs(x - y).sum(axis=1)))


def _locate(stats: FrameStats, a: int, b: int, fps: float, conf: float) -> ChromaCut:
    """The cut inside dense frames ``a+1 .. b`` (the new colour is seen at ``b``). How closely it is
    placed is its ``uncertainty_s``, not its confidence (that the colour changed for good)."""
    d = stats.diff[a + 1:b + 1]
    j = int(np.argmax(d))
    rest = np.delete(d, j)
    base = float(np.median(rest)) if len(rest) else 0.0
    if d[j] >= TRACE_MIN and d[j] >= TRACE_RATIO * base:
        return ChromaCut(a + 1 + j, conf, round(0.5 / fps, 4))
    # no trace in the luma: the middle of the interval, and how far off that may be
    return ChromaCut((a + 1 + b) // 2, conf, round((b - a) / (2 * fps), 4))
