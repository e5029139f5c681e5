"""Result of ``qwen2_vl_temporal``: a vision-language model's description per time window.

Text quality is the model's; the structure (windows tiling the video, the
frames each saw, the settings that produced them) is what the schema checks.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from shared_schema.results.common import ResultBase, Span

__all__ = ["VlmSettings", "VlmWindow", "VlmSummary", "VlmTemporalResult"]


class VlmSettings(ResultBase):
    """The memory-relevant settings this result was produced with (after any retry overrides)."""

    dtype: Literal["float32", "float16", "bfloat16"]
    max_frames_per_window: int = Field(ge=1)
    max_pixels: int = Field(ge=28 * 28, description="per frame, after resizing")
    batch_size: int = Field(ge=1)
    window_s: float = Field(gt=0)
    max_new_tokens: int = Field(ge=1)


class VlmWindow(Span):
    index: int = Field(ge=0)
    frame_times: list[float] = Field(min_length=1, description="timestamps of the frames the model saw")
    input: Literal["video", "image"] = Field(description="frames passed as one video clip, or one image")
    description: str
    new_tokens: int = Field(ge=0)

    @model_validator(mode="after")
    def _frames_inside(self) -> "VlmWindow":
        if any(t < self.start - 1e-6 or t > self.end + 1e-6 for t in self.frame_times):
            raise ValueError(f"window {self.index}: a frame time lies outside [{self.start}, {self.end}]")
        if self.frame_times != sorted(self.frame_times):
            raise ValueError(f"window {self.index}: frame times are not in order")
        return self


class VlmSummary(ResultBase):
    text: str
    frame_times: list[float] = Field(min_length=1)
    method: Literal["model_over_sampled_video"] = Field(
        description="one more model pass over frames spread across the whole video")


class VlmTemporalResult(ResultBase):
    model: str = Field(description="the model store entry used, e.g. Qwen2-VL-2B-Instruct")
    architecture: str = Field(description="the transformers class that ran")
    device: str
    settings: VlmSettings
    duration: float = Field(ge=0)
    windows: list[VlmWindow] = Field(min_length=1)
    summary: VlmSummary

    @model_validator(mode="after")
    def _windows_ordered(self) -> "VlmTemporalResult":
        for i, (a, b) in enumerate(zip(self.windows, self.windows[1:])):
            if b.start < a.end - 1e-6:
                raise ValueError(f"windows {i} and {i + 1} overlap")
        if [w.index for w in self.windows] != list(range(len(self.windows))):
            raise ValueError("window indexes must be 0..n-1 in order")
        return self
