"""Gradual transitions: fades through black or white, and dissolves.

Fades: a run of near-uniform dark (or bright) frames with content on both
sides; the span runs from where the picture starts sinking towards that level
to where it has finished rising out of it.

Dissolves: frames a short time apart differ a lot although no consecutive pair
does. A candidate is kept only if the frames in between are blends of the
frames before and after it, with a blend weight that ramps from 0 to 1: the
ramp's ends are the span. Camera moves, zooms and people walking also make
distant frames differ, but their middle frames are not blends, so they fail.
Wipes, slides and pushes are not blends and are not reported: a wipe test by
"each pixel shows one shot or the other" also fired on pans over fine texture.

A fade or a dissolve changes the whole picture at once; something passing close to the lens (a
person, a car) changes it region by region. So both are kept only when the frames inside their
ramps sit at the same blend weight between the two ends in every region of the picture
(``blend_spread`` at most ``SPREAD_MAX``): a dark, defocused body sweeping across before a cut
was a "fade through black" that swallowed the cut (issue 27).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .frames import FrameStats, confidence, margin, pair_diff

FLAT_STD = 10.0  # luma spread (0..255) under which a frame is "uniform"
LEVEL_STEP = 0.4  # grey levels per frame that still count as "still fading"
ABRUPT = 0.7  # one frame makes this much of a fade side's change: that side is a cut
DARKEST_TOL = 1.0  # level units: frames this close to the run's minimum are "the darkest"
BLEND_W = 32  # width the blend test runs at: coarse enough to forgive slow camera motion
SPREAD_GRID = 4  # regions per side for the blend-weight spread
SPREAD_MAX = 0.19  # blend weights this uneven across the picture: something moving, not a blend
RAMP_ERR = 0.01  # mean squared error of the blend weight's ramp fit, at most


@dataclass(frozen=True)
class Gradual:
    start: int  # first frame of the transition
    end: int  # last frame of the transition
    mid: float  # the boundary, as a (fractional) frame index
    kind: str  # "fade" | "dissolve"
    via: str  # "black" | "white" | "blend"
    confidence: float
    spread: float = 0.0  # blend_spread of its ramp frames (tests/cuts_blend_spread.py reads it)


def find_fades(stats: FrameStats, fps: float, black_level: float, min_change: float) -> list[Gradual]:
    n = len(stats.mean)
    tiny = _tiny(stats)
    dark = (stats.mean < black_level) & (stats.std < FLAT_STD)
    bright = (stats.mean > 255 - black_level) & (stats.std < FLAT_STD)
    out: list[Gradual] = []
    for mask, via in ((dark, "black"), (bright, "white")):
        for b0, b1 in _runs(mask):
            if b0 == 0 or b1 == n - 1:
                continue  # fading in from / out to the ends of the video is no boundary
            # a level that drops to 0 for black; for white, distance from white
            level = stats.mean + stats.std if via == "black" else (255 - stats.mean) + stats.std
            s = b0
            while s > 0 and level[s - 1] > level[s] + LEVEL_STEP:
                s -= 1
            e = b1
            while e < n - 1 and level[e + 1] > level[e] + LEVEL_STEP:
                e += 1
            if s == 0 or e == n - 1:
                continue
            # content on both sides: the frames outside the span are not uniform
            if stats.std[s - 1] < FLAT_STD or stats.std[min(n - 1, e + 1)] < FLAT_STD:
                continue
            # the same picture on both sides: a flash or a blink, not a change of shot
            change = pair_diff(stats, s - 1, min(n - 1, e + 1))
            if change < min_change:
                continue
            # each ramp (fade-out s..b0, fade-in b1..e) darkens or lights the whole picture at once
            spread = max(_ramp_spread(tiny, s, b0, s - 1, b0), _ramp_spread(tiny, b1 + 1, e + 1, b1, e + 1))
            if spread > SPREAD_MAX:
                continue
            conf = confidence(margin(change, min_change), margin(spread, SPREAD_MAX, at_most=True),
                              margin(stats.std[s - 1], FLAT_STD), margin(stats.std[min(n - 1, e + 1)], FLAT_STD))
            out.append(Gradual(s, e, _fade_boundary(level, s, b0, b1, e), "fade", via, conf, spread))
    return sorted(out, key=lambda g: g.start)


def _fade_boundary(level: np.ndarray, s: int, b0: int, b1: int, e: int) -> float:
    """Where the new shot begins in a fade whose span is ``s..e`` and uniform run ``b0..b1``.

    A side whose level jumps in one frame is a hard cut into or out of the uniform run:
    the picture that follows a cut out of black (fade-out, hold, cut) starts its shot at
    that cut, frame ``b1 + 1``; a cut into black followed by a fade-in starts the new shot
    at the first black frame ``b0`` (that black is the fade-in's). When the picture comes
    back with a cut, that cut wins. Otherwise (faded out and faded in) the boundary is the
    middle of the darkest frames. Returned as a (fractional) frame index.
    """
    if e > b1 and _abrupt(level[b1], level[b1 + 1], level[e]):
        return float(b1 + 1)
    if s < b0 and _abrupt(level[b0], level[b0 - 1], level[s]):
        return float(b0)
    run = level[b0:b1 + 1]
    darkest = np.flatnonzero(run <= run.min() + DARKEST_TOL)
    return b0 + (darkest[0] + darkest[-1]) / 2


def _abrupt(bottom: float, next_to_run: float, far: float) -> bool:
    """The frame next to the uniform run already has most of the level the ramp reaches."""
    rise = far - bottom
    return rise > 0 and next_to_run - bottom >= ABRUPT * rise


def _tiny(stats: FrameStats) -> np.ndarray:
    """Every small frame at BLEND_W px wide, float 0..1: (N, h, BLEND_W)."""
    th = max(4, int(round(BLEND_W * stats.small.shape[1] / stats.small.shape[2])))
    return np.stack([cv2.resize(f, (BLEND_W, th), interpolation=cv2.INTER_AREA)
                     for f in stats.small]).astype(np.float32) / 255.0


def blend_spread(frames: np.ndarray, A: np.ndarray, B: np.ndarray) -> float:
    """How unevenly ``frames`` sit between pictures ``A`` and ``B`` across the picture: per frame, the
    spread (weighted standard deviation) of the blend weights of its SPREAD_GRID x SPREAD_GRID regions,
    each weight the region's least-squares ``alpha`` in ``A + alpha (B - A)``, weighted by how much the
    region changes; the median over the frames. A fade or a dissolve gives every region the same weight
    (0, up to noise and slow camera motion); something crossing the picture gives some regions 0 and
    others 1 (up to 0.5). 0 when fewer than 4 regions change enough to tell."""
    h, w = A.shape
    ys, xs = np.linspace(0, h, SPREAD_GRID + 1).astype(int), np.linspace(0, w, SPREAD_GRID + 1).astype(int)
    cells = [(slice(ys[i], ys[i + 1]), slice(xs[j], xs[j + 1]))
             for i in range(SPREAD_GRID) for j in range(SPREAD_GRID)]
    d = (B - A).astype(np.float64)
    dd = np.array([float((d[c] ** 2).sum()) for c in cells])
    keep = dd > 0.05 * dd.max() if dd.max() > 0 else np.zeros(len(cells), bool)
    if keep.sum() < 4 or len(frames) == 0:
        return 0.0
    wgt = dd[keep]
    out = []
    for f in frames:
        x = f - A
        alpha = np.array([float((x[c] * d[c]).sum()) for c in cells])[keep] / wgt
        mean = float((wgt * alpha).sum() / wgt.sum())
        out.append(float(np.sqrt((wgt * (alpha - mean) ** 2).sum() / wgt.sum())))
    return float(np.median(out))


def _ramp_spread(tiny: np.ndarray, k0: int, k1: int, a: int, b: int) -> float:
    """blend_spread of the ramp frames ``k0 .. k1 - 1`` that are 20-80 % of the way from frame ``a``
    to frame ``b`` (0 for a side with no such frame: a cut into or out of the uniform run)."""
    A, B = tiny[a].astype(np.float64), tiny[b].astype(np.float64)
    d = (B - A).ravel()
    dd = float(d @ d)
    if k1 <= k0 or dd < 1e-6:
        return 0.0
    ks = [k for k in range(k0, k1) if 0.2 <= float((tiny[k].ravel() - A.ravel()) @ d) / dd <= 0.8]
    return blend_spread(tiny[ks], A, B)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    idx = np.flatnonzero(np.diff(np.r_[0, mask.astype(np.int8), 0]))
    return [(int(a), int(b) - 1) for a, b in zip(idx[::2], idx[1::2])]


def find_dissolves(stats: FrameStats, fps: float, blocked: list[tuple[int, int]],
                   min_change: float, max_s: float = 3.0) -> list[Gradual]:
    """Dissolves not overlapping ``blocked`` spans (cuts and fades already found)."""
    n = len(stats.small)
    tiny = _tiny(stats)
    found: list[Gradual] = []
    for half in sorted({max(2, int(round(fps * s))) for s in (0.25, 0.5, 1.0)}):
        far = np.zeros(n, np.float32)
        # change between distant frames needs change along the way: skip quiet stretches
        along = np.convolve(stats.diff, np.ones(2 * half), mode="full")[:n]
        for i in range(half, n - half):
            if along[i + half] >= 0.5 * min_change:
                far[i] = pair_diff(stats, i - half, i + half)
        for i in _peaks(far, min_change, half):
            g = _fit_gradual(tiny, stats, i, 2 * half, fps, max_s, blocked, min_change)
            if g and not any(_overlap((g.start, g.end), (f.start, f.end)) for f in found):
                found.append(g)
    return sorted(found, key=lambda g: g.start)


def _peaks(x: np.ndarray, floor: float, radius: int) -> list[int]:
    out = []
    for i in np.argsort(-x):
        if x[i] < floor:
            break
        lo, hi = max(0, i - radius), min(len(x), i + radius + 1)
        if x[i] >= x[lo:hi].max() and all(abs(i - j) > radius for j in out):
            out.append(int(i))
    return out


def _overlap(a: tuple[int, int], b: tuple[int, int], pad: int = 0) -> bool:
    return a[0] <= b[1] + pad and b[0] <= a[1] + pad


def _fit_gradual(tiny: np.ndarray, stats: FrameStats, centre: int, reach: int, fps: float,
                 max_s: float, blocked: list[tuple[int, int]],
                 min_change: float) -> Gradual | None:
    """A dissolve around ``centre``, inside the shots around it, or None."""
    n = len(tiny)
    a, b = max(0, centre - reach), min(n - 1, centre + reach)
    for s0, e0 in blocked:
        if e0 < centre:
            a = max(a, e0 + 1)
        elif s0 > centre:
            b = min(b, s0 - 1)
        else:
            return None
    if b - a < 6:
        return None
    frames = tiny[a:b + 1].astype(np.float64)
    found = _blend(frames)
    if found is None:
        return None
    s, e, margins, spread = found
    if not 3 <= e - s <= max_s * fps:
        return None  # a ramp of 1-2 frames is a cut
    start, end = a + s, a + e
    before, after = max(0, start - 2), min(n - 1, end + 2)
    if stats.std[before] < FLAT_STD or stats.std[after] < FLAT_STD:
        return None  # a blend with a uniform frame is a fade in or out at the video's ends
    # the shots either side must really differ once the camera's shift is undone: a pan
    # over fine texture also looks like a blend of its ends at this coarse scale
    change = pair_diff(stats, before, after)
    if change < min_change:
        return None
    conf = confidence(*margins, margin(change, min_change), margin(stats.std[before], FLAT_STD),
                      margin(stats.std[after], FLAT_STD))
    return Gradual(start, end, (start + end) / 2, "dissolve", "blend", conf, spread)


def _blend(frames: np.ndarray) -> tuple[int, int, list[float], float] | None:
    """Dissolve: every frame is ``A + alpha (B - A)`` (A, B: the first and last two frames) with
    alpha ramping from 0 to 1, the same alpha all over the picture. (ramp start, ramp end, the
    margins of its tests, the blend spread), or None."""
    x = frames.reshape(len(frames), -1)
    A2, B2 = frames[:2].mean(axis=0), frames[-2:].mean(axis=0)
    A, B = A2.ravel(), B2.ravel()
    d = B - A
    dd = float(d @ d)
    if dd < 1e-6:
        return None
    alpha = (x - A) @ d / dd
    s, e, err = _fit_ramp(alpha)
    if err > RAMP_ERR:
        return None
    # middle frames must be explained by the blend far better than by either end
    mid = [k for k in range(s + 1, e) if 0.2 <= alpha[k] <= 0.8] or [int((s + e) / 2)]
    resid = np.abs(x[mid] - (A + np.outer(alpha[mid], d))).mean()
    to_ends = min(np.abs(x[mid] - A).mean(), np.abs(x[mid] - B).mean())
    if to_ends <= 0 or resid > 0.5 * to_ends:
        return None
    spread = blend_spread(frames[mid], A2, B2)
    if spread > SPREAD_MAX:
        return None  # one part of the picture changes before another: motion, not a blend
    return s, e, [margin(resid, 0.5 * to_ends, at_most=True), margin(err, RAMP_ERR, at_most=True),
                  margin(spread, SPREAD_MAX, at_most=True)], spread


def _fit_ramp(alpha: np.ndarray) -> tuple[int, int, float]:
    """Best ``clip((k - s) / (e - s), 0, 1)`` through ``alpha``: (s, e, mean squared error)."""
    m = len(alpha)
    k = np.arange(m, dtype=np.float64)
    best = (0, m - 1, np.inf)
    for s in range(0, m - 1):
        e = np.arange(s + 1, m)
        model = np.clip((k[None, :] - s) / (e - s)[:, None], 0.0, 1.0)
        err = ((model - alpha[None, :]) ** 2).mean(axis=1)
        j = int(np.argmin(err))
        if err[j] < best[2]:
            best = (s, int(e[j]), float(err[j]))
    return best
