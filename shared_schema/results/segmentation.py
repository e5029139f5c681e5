"""Results of person/background segmentation."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from shared_schema.results.common import ResultBase


class SegmentationFrame(ResultBase):
    t: float = Field(ge=0)
    foreground_ratio: float = Field(ge=0, le=1, description="share of pixels that are person")
    background_distance: float | None = Field(
        default=None, ge=0, le=1,
        description="Hellinger distance of the background colour histogram to the previous "
                    "frame's (pixels that are background in both); None for the first frame "
                    "or when too little background is visible")


class BackgroundChange(ResultBase):
    t: float = Field(ge=0)
    distance: float = Field(ge=0, le=1)


class BackgroundSegmentationResult(ResultBase):
    method: Literal["mediapipe_selfie_segmentation"]
    model: Literal["general", "landscape"] | None = Field(
        description="256x256 or 256x144 input variant; None when no frame was analyzed")
    precision: Literal["float32", "float16"] = Field(
        description="precision of the preprocessing; the tensor is always cast to the model's dtype")
    model_dtype: str | None = Field(description="input dtype the model declares")
    threshold: float = Field(gt=0, lt=1, description="mask probability counted as person")
    change_threshold: float = Field(gt=0, le=1)
    frame_set: str
    frames_analyzed: int = Field(ge=0)
    mean_foreground_ratio: float | None = Field(default=None, ge=0, le=1)
    frames: list[SegmentationFrame]
    background_changes: list[BackgroundChange]

    @model_validator(mode="after")
    def _counts(self) -> "BackgroundSegmentationResult":
        if len(self.frames) != self.frames_analyzed:
            raise ValueError("one entry per analyzed frame")
        if (self.mean_foreground_ratio is None) != (self.frames_analyzed == 0):
            raise ValueError("mean_foreground_ratio is set exactly when frames were analyzed")
        return self
