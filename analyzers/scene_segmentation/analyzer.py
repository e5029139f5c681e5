"""Scenes: runs of shots that look alike, from cut_analysis's shots and their keyframes.

Each shot is described by a few keyframes (grey-level histogram and a tiny
thumbnail). A shot similar to one of the last ``lookback`` shots links every
shot between them into one scene, so alternating shots of a conversation
(A B A B) stay one scene while a change of place starts a new one.
"""
from __future__ import annotations

import cv2
import numpy as np

from analyzers.base import Analyzer as Base
from analyzers.base import Context, SkipAnalysis
from shared_schema.envelope import SkipReason
from shared_schema.results.cuts import CutResult, Scene, SceneResult

METHOD = ("keyframes at 25/50/75 % of each shot; similarity = mean of grey-histogram intersection "
          "and thumbnail correlation (best keyframe pair), the histogram alone when a keyframe is flat (one "
          "grey level: no correlation to measure); overlapping links within the lookback")
THUMB = (16, 16)
HIST_BINS = 32


class Analyzer(Base):
    def analyze(self, ctx: Context) -> SceneResult:
        cuts = ctx.upstream_result("cut_analysis", CutResult)
        if cuts is None:  # the runner skips us first when it is not ok; this is the last guard
            raise SkipAnalysis(SkipReason.upstream_failed, "cut_analysis has no ok result")
        frames = ctx.frames("dense")
        threshold, lookback = ctx.params.threshold, ctx.params.lookback

        keys = [_keyframes(s.start_frame, s.end_frame) for s in cuts.shots]
        feats = [[_features(frames.read(i)) for i in k] for k in keys]
        sim = _similarity_matrix(feats, lookback)

        groups = _link(len(cuts.shots), sim, threshold, lookback)
        scenes = []
        for k, members in enumerate(groups):
            rep_shot, rep_frame = _representative(members, keys, feats)
            first, last = cuts.shots[members[0]], cuts.shots[members[-1]]
            scenes.append(Scene(index=k, start=first.start, end=last.end, shots=members,
                                representative_frame=rep_frame,
                                representative_t=frames.times[rep_frame]))
        return SceneResult(method=METHOD, threshold=threshold, scenes=scenes,
                           shot_count=len(cuts.shots))


def _keyframes(a: int, b: int) -> list[int]:
    return sorted({a + int(round((b - a) * q)) for q in (0.25, 0.5, 0.75)})


def _features(img: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    hist = cv2.calcHist([gray], [0], None, [HIST_BINS], [0, 256]).ravel()
    hist /= max(hist.sum(), 1.0)
    thumb = cv2.resize(gray, THUMB, interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    thumb -= thumb.mean()
    norm = float(np.linalg.norm(thumb))
    return hist, (thumb / norm if norm > 1e-6 else None)  # None: a flat frame has no pattern to correlate


def _pair(f: tuple[np.ndarray, np.ndarray | None], g: tuple[np.ndarray, np.ndarray | None]) -> float:
    hist = float(np.minimum(f[0], g[0]).sum())
    if f[1] is None or g[1] is None:  # correlation not measurable: not counted as 0
        return hist
    corr = max(0.0, float(f[1] @ g[1]))
    return 0.5 * (hist + corr)


def _similarity_matrix(feats: list, lookback: int) -> dict[tuple[int, int], float]:
    sim = {}
    for k in range(len(feats)):
        for j in range(max(0, k - lookback), k):
            sim[(j, k)] = max(_pair(f, g) for f in feats[j] for g in feats[k])
    return sim


def _link(n: int, sim: dict[tuple[int, int], float], threshold: float, lookback: int) -> list[list[int]]:
    """Scenes as lists of shot indexes; a link j~k joins every shot from j to k."""
    joined = np.zeros(max(n - 1, 0), bool)  # joined[i]: shots i and i+1 share a scene
    for (j, k), s in sim.items():
        if s >= threshold:
            joined[j:k] = True
    groups, cur = [], [0]
    for i in range(1, n):
        if joined[i - 1]:
            cur.append(i)
        else:
            groups.append(cur)
            cur = [i]
    groups.append(cur)
    return groups


def _representative(members: list[int], keys: list[list[int]], feats: list) -> tuple[int, int]:
    """The keyframe most similar to all others in the scene (its medoid)."""
    pool = [(m, frame, f) for m in members for frame, f in zip(keys[m], feats[m])]
    if len(pool) == 1:
        return pool[0][0], pool[0][1]
    scores = [sum(_pair(f, g) for _, _, g in pool) for _, _, f in pool]
    best = int(np.argmax(scores))
    return pool[best][0], pool[best][1]
