"""PP-OCRv4 (ONNX, the weights of the rapidocr-onnxruntime wheel) on the sampled frames: text lines
tracked over time.

Nothing is skipped that changed: every sampled frame whose picture differs from the one before runs the
text detector (DB at the sampled set's size, ~0.05 s of CPU), so a caption that lands a second after a
cut or a word shown for half a second is seen (issue 24); frames that repeat the one before reuse its
readings. A line is read by the recognizer when it is new or its crop changed (tracks.py), and
its text is a confidence-weighted vote over its readings; lines too small for the sampled frames are
read from the ``hires`` set. Caption vs scene text is a fitted logistic model over measured cues
(cues.py).
"""
from __future__ import annotations

import numpy as np

from analyzers.base import Analyzer as Base
from analyzers.base import Context, SkipAnalysis
from analyzers.common.stride import strided
from shared_schema.envelope import SkipReason
from shared_schema.results.common import Box
from shared_schema.results.text import (
    FrameText,
    TextBox,
    TextOverlayResult,
    TextSegment,
)

from .cues import block_lines, evidence, kind, measure, score
from .engine import PPOCREngine
from .motion import to_grey
from .records import Params, Reading, Track
from .crop_measures import position
from .tracks import Tracker

FRAME_SET = "sampled"
HIRES_SET = "hires"


class Analyzer(Base):
    def setup(self, ctx: Context) -> None:
        from .ppocr import DET_FILE, PACKAGE, PPOCR, REC_FILE, model_dir

        try:
            folder = model_dir()
            import onnxruntime  # noqa: F401  (the runtime: its absence is a skip, not a crash)
        except ImportError as exc:
            raise SkipAnalysis(SkipReason.model_absent, f"PP-OCR models or ONNX Runtime missing: {exc}",
                               f"pip install {PACKAGE} onnxruntime") from None
        self.langs = list(ctx.params.languages)
        self.ocr = PPOCR(folder, threads=ctx.threads, languages=tuple(self.langs))
        for name in (DET_FILE, REC_FILE):  # hashed: what ONNX Runtime loaded is what is recorded
            ctx.use_model_file(name.removesuffix(".onnx"), f"package {PACKAGE}", folder / name)

    def analyze(self, ctx: Context) -> TextOverlayResult:
        p = ctx.params
        stride, scale = p.stride, p.scale
        detect_scale = p.detect_scale
        if stride > 1:
            ctx.degrade(f"read every {stride}th sampled frame (stride={stride})")
        params = Params(detect_every=p.detect_every, min_confidence=p.min_confidence,
                        same_frame_diff=p.same_frame_diff, max_gap=p.max_gap, recog_diff=p.recog_diff)
        frames = ctx.frames(FRAME_SET)
        hires = ctx.frames(HIRES_SET) if HIRES_SET in ctx.job.frames and scale >= 1 else None
        engine = PPOCREngine(self.ocr, detect_scale, hires, p.hires_below_px)
        tracker = Tracker(engine, params)
        greys, wh = _track(tracker, engine, frames, stride, scale)
        segments = _segments(tracker, greys, wh, float(ctx.media.duration_s or 0))
        out = _frame_texts(tracker, wh)
        overlay_text = list(dict.fromkeys(s.text for s in segments if s.kind == "overlay"))
        return TextOverlayResult(
            method="ppocr", languages=self.langs, frame_set=FRAME_SET, scale=scale, detect_scale=detect_scale,
            stride=stride, min_confidence=params.min_confidence,
            frames_total=len(frames), frames_analyzed=len(tracker.frames), frames_ocr=sum(1 for f in out if f.ocr),
            detector_runs=tracker.detections, hires_detections=engine.hires_detections,
            recognitions=tracker.recognitions, hires_reads=engine.hires_reads,
            detect_every=params.detect_every, frames=out,
            segments=segments, overlay_text=overlay_text, has_text=bool(segments))


def _track(tracker: Tracker, engine: PPOCREngine, frames, stride: int, scale: float
           ) -> tuple[dict[int, np.ndarray], tuple[int, int]]:
    """Step the tracker through every ``stride``-th frame; (analyzed frame -> grey frame, frame size)."""
    import cv2

    greys: dict[int, np.ndarray] = {}
    wh = (1, 1)
    for k, _, t, img in strided(frames, stride):
        if scale < 1:
            img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        wh = (img.shape[1], img.shape[0])
        tracker.step(img, t)
        greys[k] = to_grey(img)
    tracker.finish()
    return greys, wh


def _segments(tracker: Tracker, greys: dict[int, np.ndarray], wh: tuple[int, int], duration: float
              ) -> list[TextSegment]:
    """One segment per tracked line, by start time then height on screen."""
    times = [f.t for f in tracker.frames]
    cuts = {k for k, f in enumerate(tracker.frames) if f.cut}
    changes = [f.change for f in tracker.frames]
    blocks = block_lines(tracker.tracks)
    segments = [_segment(tr, times, duration, greys, wh, cuts, changes, blocks.get(tr.id))
                for tr in tracker.tracks if tr.readings]
    return sorted(segments, key=lambda s: (s.start, s.box.y1))


def _segment(tr: Track, times: list[float], duration: float, greys: dict[int, np.ndarray],
             wh: tuple[int, int], cuts: set[int], changes: list[float], block: int | None) -> TextSegment:
    n = len(times)
    w, h = wh
    first, last = tr.first.frame, tr.last.frame
    end = times[last + 1] if last + 1 < n else max(duration, times[last])
    bx = np.median(np.array([r.box for r in tr.readings]), axis=0) / [w, h, w, h]
    bx = tuple(float(np.clip(v, 0, 1)) for v in bx)
    cues = measure(tr, greys, wh, cuts, n, changes, block)
    prob, contrib = score(cues)
    vertical, horizontal = position(bx)
    variants = list(dict.fromkeys(r.text for r in tr.readings if r.ocr))
    return TextSegment(
        start=times[first], end=end, text=tr.best_text(), confidence=round(tr.confidence(), 4),
        frames=len({r.frame for r in tr.readings}),
        box=Box(x1=bx[0], y1=bx[1], x2=max(bx[2], bx[0]), y2=max(bx[3], bx[1])),
        vertical=vertical, horizontal=horizontal, overlay_score=round(prob, 4),
        evidence=evidence(contrib), kind=kind(prob, contrib), track=tr.id, variants=variants[:20],
        cues={k: _r4(v) for k, v in cues.items()},  # null: not measured on this line
        cue_contributions={k: _r4(v) for k, v in contrib.items()})  # null: adds nothing


def _r4(v: float | None) -> float | None:
    return None if v is None else round(v, 4)


def _frame_texts(tracker: Tracker, wh: tuple[int, int]) -> list[FrameText]:
    """Each analyzed frame's readings (top to bottom), with what OCR ran on it."""
    w, h = wh
    n = len(tracker.frames)
    per_frame: list[list[tuple[int, Reading]]] = [[] for _ in range(n)]
    for tr in tracker.tracks:
        for r in tr.readings:
            if r.frame < n and r.source == "sampled":
                per_frame[r.frame].append((tr.id, r))
    out = []
    for k, f in enumerate(tracker.frames):
        boxes = [TextBox(text=r.text, confidence=round(r.conf, 4), track=tid,
                         box=Box(x1=r.box[0] / w, y1=r.box[1] / h, x2=min(1.0, r.box[2] / w),
                                 y2=min(1.0, r.box[3] / h)))
                 for tid, r in sorted(per_frame[k], key=lambda x: (x[1].box[1], x[1].box[0]))]
        out.append(FrameText(t=f.t, ocr=f.recognized > 0 or f.detected, detected=f.detected,
                             recognized=f.recognized, boxes=boxes))
    return out
