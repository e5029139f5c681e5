"""Result of ``camera_analysis``: camera motion per shot and over time.

Magnitudes are resolution-free: pan speed in frame widths per second, tilt
speed in frame heights per second, zoom as the log of the scale change per
second (+ in, - out), roll in degrees per second, shake as the RMS of the
jitter around the smoothed camera path in percent of the frame diagonal.

Labels name the camera's move (``pan_right``: the camera turns right, the
picture slides left; ``roll_cw``: the camera rolls clockwise, the picture turns
counterclockwise). A motion is labelled when its mean over the span reaches the
thresholds in ``analyzers/camera_analysis/analyzer.toml`` (chosen on the motion
calibration set, figures in docs/camera.md). Nothing is invented: a value that was not
measured is ``null`` and ``not_measured`` says why (a span shorter than the
0.5 s shake window has no ``shake``; a span where no frame pair could be
tracked has no stats and no label).
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from shared_schema.results.common import ResultBase, Span

__all__ = ["MotionLabel", "MotionStats", "ShotMotion", "MotionSegment", "CameraResult"]

MotionLabel = Literal["static", "pan_left", "pan_right", "tilt_up", "tilt_down",
                      "zoom_in", "zoom_out", "roll_cw", "roll_ccw", "handheld"]

_NOT_MEASURED = "field -> why it is null (not measured)"


class _Nulls(ResultBase):
    """A field listed here must be null, and a null field must be listed with its reason."""

    not_measured: dict[str, str] = Field(default_factory=dict, description=_NOT_MEASURED)

    @model_validator(mode="after")
    def _reasons(self):
        for name in type(self).model_fields:
            if name == "not_measured":
                continue
            if getattr(self, name) is None and name not in self.not_measured:
                raise ValueError(f"{name} is null without a reason in not_measured")
            if name in self.not_measured and getattr(self, name) is not None:
                raise ValueError(f"{name} has a value but not_measured says why it has none")
        return self


class MotionStats(_Nulls):
    pan_speed: float | None = Field(description="frame widths/s; + the camera turns right, - left")
    tilt_speed: float | None = Field(description="frame heights/s; + the camera turns down, - up")
    zoom_rate: float | None = Field(description="log scale per second; + in, - out")
    rotation_dps: float | None = Field(description="roll, degrees per second; + the picture turns "
                                                   "clockwise on screen (the camera rolls counterclockwise)")
    shake: float | None = Field(ge=0, description="jitter RMS around the 0.5 s moving average of the "
                                                  "camera path, % of frame diagonal; null for spans "
                                                  "shorter than 0.5 s")
    tracked: float = Field(ge=0, le=1, description="share of frame pairs with a reliable estimate; at 0 "
                                                   "the other stats and the label are null")


class ShotMotion(Span, _Nulls):
    shot: int = Field(ge=0)
    label: MotionLabel | None = Field(description="the dominant motion; null when nothing could be tracked")
    labels: list[MotionLabel] = Field(description="every motion found, dominant first; empty when "
                                                  "label is null")
    stats: MotionStats


class MotionSegment(Span, _Nulls):
    label: MotionLabel | None = Field(description="null when nothing could be tracked in the window")
    magnitude: float | None = Field(ge=0, description="in the label's unit (see module doc); 0 for "
                                                      "static, null when label is null")


class CameraResult(_Nulls):
    method: str
    shots_from: Literal["cut_analysis", "whole_video"]
    window_s: float = Field(gt=0)
    overall: MotionLabel | None = Field(description="the label covering the most time among shots "
                                                    "with a label; null when no shot has one")
    shots: list[ShotMotion] = Field(min_length=1)
    timeline: list[MotionSegment]
