"""Results of the YOLO family: ``object_detection`` and ``body_pose``.

Boxes and keypoints are normalized to the frame (0..1) so they hold at any
frame-set resolution. Times are seconds of the source video.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from shared_schema.results.common import Box, ResultBase, Span, TimedValue

__all__ = [
    "Detection", "FrameDetections", "Track", "ClassSummary", "CountPoint", "ObjectDetectionResult",
    "KEYPOINT_NAMES", "Keypoint", "Person", "FramePoses", "HandsSpan", "FramingSpan", "BodyPoseResult",
]


class Detection(ResultBase):
    label: str = Field(min_length=1, description="class name from the model's metadata")
    class_id: int = Field(ge=0)
    confidence: float = Field(ge=0, le=1)
    box: Box
    track_id: int | None = Field(default=None, ge=1, description="the track this detection joined")


class FrameDetections(ResultBase):
    t: float = Field(ge=0)
    detections: list[Detection] = Field(default_factory=list)


class Track(Span):
    """One object followed across sampled frames (IoU matching, same class)."""

    id: int = Field(ge=1)
    label: str
    frames: int = Field(ge=1, description="sampled frames it was detected in")
    mean_confidence: float = Field(ge=0, le=1)
    first_box: Box
    last_box: Box


class ClassSummary(ResultBase):
    label: str
    frames_present: int = Field(ge=0, description="sampled frames with at least one")
    max_count: int = Field(ge=0, description="most seen in one frame")
    mean_count: float = Field(ge=0, description="mean per analyzed frame")
    tracks: int = Field(ge=0, description="distinct tracks (an estimate of distinct objects)")


class CountPoint(ResultBase):
    t: float = Field(ge=0)
    counts: dict[str, int] = Field(description="label -> objects in this frame (labels with none omitted)")

    @model_validator(mode="after")
    def _positive(self) -> "CountPoint":
        if any(v < 1 for v in self.counts.values()):
            raise ValueError("counts hold only labels that are present (>= 1)")
        return self


class ObjectDetectionResult(ResultBase):
    method: Literal["ultralytics-yolo"] = "ultralytics-yolo"
    model: str = Field(description="the weights file used, relative to the model store")
    model_format: Literal["pytorch", "tflite", "openvino", "onnx", "other"]
    frame_set: str
    imgsz: int = Field(gt=0)
    conf_threshold: float = Field(ge=0, le=1)
    tracking: Literal["iou-greedy"] = "iou-greedy"
    frames_analyzed: int = Field(ge=0)
    frames: list[FrameDetections]
    tracks: list[Track]
    classes: list[ClassSummary] = Field(description="per class, most frequent first")
    counts: list[CountPoint] = Field(description="objects per class in each analyzed frame")
    person_count: list[TimedValue] = Field(description="persons in each analyzed frame")
    max_persons: int | None = Field(ge=0, description="most persons in one analyzed frame (0 is a measurement: "
                                                      "frames were looked at); null when no frame was analyzed")
    not_measured: dict[str, str] = Field(default_factory=dict, description="field -> why it is null")

    @model_validator(mode="after")
    def _consistent(self) -> "ObjectDetectionResult":
        if len(self.frames) != self.frames_analyzed or len(self.person_count) != self.frames_analyzed:
            raise ValueError("frames / person_count must have one entry per analyzed frame")
        return self


#: COCO keypoint order, as YOLOv8-pose emits them.
KEYPOINT_NAMES = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)
KeypointName = Literal[KEYPOINT_NAMES]  # type: ignore[valid-type]
Framing = Literal["face", "half_body", "full_body", "unknown"]
Hands = Literal["none", "left", "right", "both"]


class Keypoint(ResultBase):
    name: KeypointName
    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)
    confidence: float = Field(ge=0, le=1, description="visibility score; low means guessed")


class Person(ResultBase):
    confidence: float = Field(ge=0, le=1)
    box: Box
    track_id: int | None = Field(default=None, ge=1)
    keypoints: list[Keypoint] = Field(min_length=17, max_length=17)
    raised_hands: Hands
    framing: Framing = Field(description="how much of this body the frame shows")

    @model_validator(mode="after")
    def _order(self) -> "Person":
        if tuple(k.name for k in self.keypoints) != KEYPOINT_NAMES:
            raise ValueError("keypoints must be the 17 COCO keypoints in order")
        return self


class FramePoses(ResultBase):
    t: float = Field(ge=0)
    persons: list[Person] = Field(default_factory=list)


class HandsSpan(Span):
    track_id: int = Field(ge=1)
    hands: Literal["left", "right", "both"]


class FramingSpan(Span):
    framing: Framing


class BodyPoseResult(ResultBase):
    method: Literal["ultralytics-yolo-pose"] = "ultralytics-yolo-pose"
    model: str
    model_format: Literal["pytorch", "tflite", "openvino", "onnx", "other"]
    frame_set: str
    conf_threshold: float = Field(ge=0, le=1)
    keypoint_threshold: float = Field(ge=0, le=1, description="a keypoint counts as seen above this")
    frames_analyzed: int = Field(ge=0)
    frames: list[FramePoses]
    max_persons: int | None = Field(ge=0, description="most persons in one analyzed frame (0 is a measurement); "
                                                      "null when no frame was analyzed")
    movement_energy: list[TimedValue] = Field(
        description="mean keypoint displacement per second between analyzed frames, in body "
                    "heights (persons matched by track); at each frame where a person seen in the previous "
                    "analyzed frame is seen again")
    mean_movement_energy: float | None = Field(default=None, ge=0, description="mean of movement_energy; null "
                                                                           "when no person was seen in two "
                                                                           "consecutive analyzed frames")
    raised_hands: list[HandsSpan] = Field(description="spans where a tracked person holds a hand above the shoulder")
    framing: list[FramingSpan] = Field(description="framing of the main (largest) person over time")
    framing_share: dict[Framing, float] = Field(description="share of the analyzed frames with a person, per framing of the main person; {} when no frame had a person (not_measured says so)")
    not_measured: dict[str, str] = Field(default_factory=dict, description="field -> why it is null or empty")

    @model_validator(mode="after")
    def _consistent(self) -> "BodyPoseResult":
        if len(self.frames) != self.frames_analyzed:
            raise ValueError("frames must have one entry per analyzed frame")
        if any(v.value < 0 for v in self.movement_energy):
            raise ValueError("movement energy is never negative")
        if self.framing_share and abs(sum(self.framing_share.values()) - 1) > 1e-3:
            raise ValueError("framing shares must sum to 1")
        return self
