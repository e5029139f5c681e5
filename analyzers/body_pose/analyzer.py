"""YOLOv8-pose on the sampled frames: 17 keypoints per person, movement, raised hands, framing."""
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
    KEYPOINT_NAMES, BodyPoseResult, FramePoses, FramingSpan, HandsSpan, Keypoint, Person,
)

FRAME_SET = "sampled"
K = {name: i for i, name in enumerate(KEYPOINT_NAMES)}
FACE = [K[n] for n in ("nose", "left_eye", "right_eye")]
ARMS_HIPS = [K[n] for n in ("left_elbow", "right_elbow", "left_hip", "right_hip")]




def raised_hands(kp: np.ndarray, seen: np.ndarray) -> str:
    """A wrist above its shoulder (image y grows downwards), both seen."""
    left = seen[K["left_wrist"]] and seen[K["left_shoulder"]] and kp[K["left_wrist"], 1] < kp[K["left_shoulder"], 1]
    right = seen[K["right_wrist"]] and seen[K["right_shoulder"]] and kp[K["right_wrist"], 1] < kp[K["right_shoulder"], 1]
    return {(True, True): "both", (True, False): "left", (False, True): "right"}.get((bool(left), bool(right)), "none")


def framing(seen: np.ndarray) -> str:
    """How much of the body is in frame, from which keypoints the model is confident about.

    YOLO-pose still places keypoints that are out of frame, with low confidence,
    so "seen" is what tells the crop: ankles -> full body; hips or elbows -> half body
    (a medium shot); only the face -> a close-up.
    """
    if seen[K["left_ankle"]] or seen[K["right_ankle"]] or (seen[K["left_knee"]] and seen[K["right_knee"]]):
        return "full_body"
    if seen[ARMS_HIPS].any():
        return "half_body"
    if seen[FACE].any():
        return "face"
    return "unknown"


def _box(xyxyn) -> Box:
    x1, y1, x2, y2 = (float(min(max(v, 0.0), 1.0)) for v in xyxyn)
    return Box(x1=x1, y1=y1, x2=max(x2, x1), y2=max(y2, y1))


def _spans(times: list[float], labels: list[str | None], end_of_video: float):
    """Runs of equal non-None labels -> (start, end, label); end = the next analyzed frame's time."""
    out, start, cur = [], None, None
    for i, lab in enumerate(labels + [None]):
        if lab != cur:
            if cur is not None:
                end = times[i] if i < len(times) else max(end_of_video, times[-1])
                out.append((times[start], end, cur))
            start, cur = i, lab
    return out


class Analyzer(Base):
    def setup(self, ctx: Context) -> None:
        from ultralytics import YOLO  # guarded: heavy, and it must see YOLO_OFFLINE first

        self.rel = ctx.params.model
        self.path, name, source = ctx.store_model(self.rel)
        self.format = model_format(self.path)
        self.model = YOLO(str(self.path), task="pose")
        ctx.use_model_file(name, source, self.path)

    def analyze(self, ctx: Context) -> BodyPoseResult:
        p = ctx.params
        conf, kth = p.conf, p.keypoint_conf
        stride = p.stride
        if stride > 1:
            ctx.degrade(f"analyzed every {stride}th sampled frame (stride={stride})")
        frames = ctx.frames(FRAME_SET)
        w, h = frames.index.width, frames.index.height
        tracker = IouTracker(iou_threshold=p.track_iou, max_gap=p.track_max_gap, max_shift=p.track_max_shift)
        out: list[FramePoses] = []
        pix: list[dict[int, tuple[np.ndarray, np.ndarray, float]]] = []  # per frame: track -> (kp px, seen, height px)
        for k, _, t, img in strided(frames, stride):
            r = self.model.predict(img, imgsz=p.imgsz, conf=conf, device=ctx.device,
                                   verbose=False)[0]
            n = len(r.boxes)
            boxes = r.boxes.xyxyn.cpu().numpy() if n else np.zeros((0, 4))
            scores = r.boxes.conf.cpu().numpy() if n else np.zeros(0)
            kpn = r.keypoints.xyn.cpu().numpy() if n and r.keypoints is not None else np.zeros((0, 17, 2))
            kpc = r.keypoints.conf.cpu().numpy() if n and r.keypoints is not None and r.keypoints.conf is not None \
                else np.zeros((n, 17))
            ids = tracker.update(k, boxes, np.zeros(n, int), scores)
            persons, moved = [], {}
            for b, s, kp, kc, tid in zip(boxes, scores, kpn, kpc, ids):
                seen = kc >= kth
                persons.append(Person(
                    confidence=round(float(s), 4), box=_box(b), track_id=tid,
                    keypoints=[Keypoint(name=nm, x=float(np.clip(x, 0, 1)), y=float(np.clip(y, 0, 1)),
                                        confidence=round(float(np.clip(c, 0, 1)), 4))
                               for nm, (x, y), c in zip(KEYPOINT_NAMES, kp, kc)],
                    raised_hands=raised_hands(kp, seen), framing=framing(seen)))
                moved[tid] = (kp * [w, h], seen, max((b[3] - b[1]) * h, 1.0))
            out.append(FramePoses(t=t, persons=persons))
            pix.append(moved)

        times = [f.t for f in out]
        energy = _movement_energy(times, pix)
        duration = float(ctx.media.duration_s or 0)
        hands = _hands_spans(out, times, [tr.id for tr in tracker.tracks], duration)

        main = [max(fr.persons, key=lambda q: (q.box.x2 - q.box.x1) * (q.box.y2 - q.box.y1)).framing
                if fr.persons else None for fr in out]
        spans = [FramingSpan(start=s, end=e, framing=lab) for s, e, lab in _spans(times, main, duration)]
        counted = Counter(m for m in main if m is not None)
        total = sum(counted.values())
        return BodyPoseResult(
            model=self.rel, model_format=self.format, frame_set=FRAME_SET, conf_threshold=conf,
            keypoint_threshold=kth, frames_analyzed=len(out), frames=out,
            max_persons=max(len(f.persons) for f in out) if out else None,
            movement_energy=energy,
            mean_movement_energy=round(float(np.mean([e.value for e in energy])), 5) if energy else None,
            raised_hands=hands, framing=spans,
            framing_share={f: round(c / total, 4) for f, c in counted.items()} if total else {},
            not_measured=_not_measured(out, energy, total))


def _movement_energy(times: list[float], pix: list[dict]) -> list[TimedValue]:
    """Mean keypoint speed of the tracked persons between two analysed frames, in body heights per second."""
    energy = []
    for k in range(1, len(times)):
        dt = times[k] - times[k - 1]
        vals = []
        for tid, (kp, seen, height) in pix[k].items():
            prev = pix[k - 1].get(tid)
            if prev is None or dt <= 0:
                continue
            both = seen & prev[1]
            if both.sum() >= 3:  # fewer keypoints than that is noise, not movement
                d = np.linalg.norm(kp[both] - prev[0][both], axis=1).mean()
                vals.append(d / ((height + prev[2]) / 2) / dt)
        if vals:
            energy.append(TimedValue(t=times[k], value=round(float(np.mean(vals)), 5)))
    return energy


def _hands_spans(out: list[FramePoses], times: list[float], track_ids: list[int], duration: float) -> list[HandsSpan]:
    """Spans in which each track raises a hand, or both."""
    hands = []
    for tid in track_ids:
        labels = [None] * len(out)
        for f, fr in enumerate(out):
            for person in fr.persons:
                if person.track_id == tid and person.raised_hands != "none":
                    labels[f] = person.raised_hands
        hands += [HandsSpan(start=s, end=e, track_id=tid, hands=lab) for s, e, lab in _spans(times, labels, duration)]
    hands.sort(key=lambda s: (s.start, s.track_id))
    return hands


def _not_measured(out: list[FramePoses], energy: list[TimedValue], with_person: int) -> dict[str, str]:
    """Why each null (or empty-for-lack-of-input) field is so."""
    why = {}
    if not out:
        why["max_persons"] = "no frame was analyzed (the frame set is empty)"
    if not energy:
        why["mean_movement_energy"] = (
            "no person seen with at least 3 keypoints in two consecutive analyzed frames"
            if len(out) > 1 else f"{len(out)} analyzed frame(s): movement needs two")
    if not with_person:
        why["framing_share"] = "no analyzed frame had a person"
    return why
