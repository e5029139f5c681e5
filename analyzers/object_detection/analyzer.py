"""Ultralytics YOLO on the sampled frames: detections, IoU tracks, counts per class over time."""
from __future__ import annotations

from collections import Counter

import numpy as np

from analyzers.common.boxes import IouTracker
from analyzers.common.stride import strided
from analyzers.common.yolo import model_format
from analyzers.base import Analyzer as Base
from analyzers.base import Context
from shared_schema.results.common import Box, TimedValue
from shared_schema.results.detection import (
    ClassSummary, CountPoint, Detection, FrameDetections, ObjectDetectionResult, Track,
)

FRAME_SET = "sampled"




def _box(xyxyn) -> Box:
    x1, y1, x2, y2 = (float(min(max(v, 0.0), 1.0)) for v in xyxyn)
    return Box(x1=x1, y1=y1, x2=max(x2, x1), y2=max(y2, y1))


class Analyzer(Base):
    def setup(self, ctx: Context) -> None:
        from ultralytics import YOLO  # guarded: heavy, and it must see YOLO_OFFLINE first

        rel = ctx.params.model
        self.path, name, source = ctx.store_model(rel)
        self.rel = rel
        self.format = model_format(self.path)
        self.model = YOLO(str(self.path), task="detect")
        ctx.use_model_file(name, source, self.path)

    def analyze(self, ctx: Context) -> ObjectDetectionResult:
        p = ctx.params
        conf, imgsz, stride = p.conf, p.imgsz, p.stride
        if stride > 1:
            ctx.degrade(f"analyzed every {stride}th sampled frame (stride={stride})")
        frames = ctx.frames(FRAME_SET)
        tracker = IouTracker(iou_threshold=p.track_iou, max_gap=p.track_max_gap, max_shift=p.track_max_shift)
        names: dict[int, str] = {}
        out_frames: list[FrameDetections] = []
        per_frame_labels: list[Counter] = []
        for k, _, t, img in strided(frames, stride):
            r = self.model.predict(img, imgsz=imgsz, conf=conf, iou=p.nms_iou, device=ctx.device,
                                   verbose=False)[0]
            names = r.names
            boxes = r.boxes
            xyxyn = boxes.xyxyn.cpu().numpy() if len(boxes) else np.zeros((0, 4))
            cls = boxes.cls.cpu().numpy().astype(int) if len(boxes) else np.zeros(0, int)
            confs = boxes.conf.cpu().numpy() if len(boxes) else np.zeros(0)
            ids = tracker.update(k, xyxyn, cls, confs)
            dets = [Detection(label=names[int(c)], class_id=int(c), confidence=round(float(s), 4),
                              box=_box(b), track_id=tid)
                    for b, c, s, tid in zip(xyxyn, cls, confs, ids)]
            dets.sort(key=lambda d: -d.confidence)
            out_frames.append(FrameDetections(t=t, detections=dets))
            per_frame_labels.append(Counter(d.label for d in dets))

        times = [f.t for f in out_frames]
        step = float(np.median(np.diff(times))) if len(times) > 1 else 0.0
        tracks = [Track(id=s.id, label=names[s.label], start=times[s.hits[0][0]],
                        end=min(times[s.hits[-1][0]] + step, max(ctx.media.duration_s or 0, times[s.hits[-1][0]])),
                        frames=len(s.hits), mean_confidence=round(float(np.mean([h[1] for h in s.hits])), 4),
                        first_box=_box(s.hits[0][2]), last_box=_box(s.hits[-1][2]))
                  for s in tracker.tracks]
        n = len(out_frames)
        totals = Counter()
        for c in per_frame_labels:
            totals.update(c)
        classes = [ClassSummary(label=label, frames_present=sum(1 for c in per_frame_labels if c[label]),
                                max_count=max(c[label] for c in per_frame_labels),
                                mean_count=round(total / n, 4),
                                tracks=sum(1 for tr in tracks if tr.label == label))
                   for label, total in totals.most_common()]
        persons = [c.get("person", 0) for c in per_frame_labels]
        return ObjectDetectionResult(
            model=self.rel, model_format=self.format, frame_set=FRAME_SET, imgsz=imgsz, conf_threshold=conf,
            frames_analyzed=n, frames=out_frames, tracks=tracks, classes=classes,
            counts=[CountPoint(t=t, counts=dict(c)) for t, c in zip(times, per_frame_labels)],
            person_count=[TimedValue(t=t, value=v) for t, v in zip(times, persons)],
            max_persons=max(persons) if persons else None,
            not_measured={} if persons else {"max_persons": "no frame was analyzed (the frame set is empty)"})
