"""Result of ``camera_analysis``: camera motion per shot and over time.

Magnitudes are resolution-free: pan speed in frame widths per second, tilt
speed in frame heights per second, zoom as the log of the scale change per
second (+ in, - out), shake as the RMS of the jitter around the smoothed
camera path in percent of the frame diagonal.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared_schema.results.common import ResultBase, Span

__all__ = ["MotionLabel", "MotionStats", "ShotMotion", "MotionSegment", "CameraResult"]

MotionLabel = Literal["static", "pan_left", "pan_right", "tilt_up", "tilt_down",
                      "zoom_in", "zoom_out", "handheld"]


class MotionStats(ResultBase):
    pan_speed: float = Field(description="frame widths/s; + right, - left")
    tilt_speed: float = Field(description="frame heights/s; + down, - up")
    zoom_rate: float = Field(description="log scale per second; + in, - out")
    rotation_dps: float = Field(description="roll, degrees per second")
    shake: float = Field(ge=0, description="jitter RMS, % of frame diagonal")
    tracked: float = Field(ge=0, le=1, description="share of frame pairs with a reliable estimate")


class ShotMotion(Span):
    shot: int = Field(ge=0)
    label: MotionLabel = Field(description="the dominant motion")
    labels: list[MotionLabel] = Field(min_length=1, description="every motion found, dominant first")
    stats: MotionStats


class MotionSegment(Span):
    label: MotionLabel
    magnitude: float = Field(ge=0, description="in the label's unit (see module doc)")


class CameraResult(ResultBase):
    method: str
    shots_from: Literal["cut_analysis", "whole_video"]
    window_s: float = Field(gt=0)
    overall: MotionLabel
    shots: list[ShotMotion] = Field(min_length=1)
    timeline: list[MotionSegment]
