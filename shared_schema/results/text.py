"""Result of ``text_overlay``: text read from frames, merged into timed segments."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from shared_schema.results.common import Box, ResultBase, Span

__all__ = ["TextBox", "FrameText", "TextSegment", "TextOverlayResult"]

TextKind = Literal["overlay", "scene", "uncertain"]


class TextBox(ResultBase):
    text: str = Field(min_length=1)
    confidence: float = Field(ge=0, le=1)
    box: Box


class FrameText(ResultBase):
    t: float = Field(ge=0)
    ocr: bool = Field(description="false: the frame matched the previous one, its boxes were reused")
    boxes: list[TextBox] = Field(default_factory=list)


class TextSegment(Span):
    """The same text at about the same place over consecutive analyzed frames.

    ``start`` is the first analyzed frame it was read in; ``end`` the first
    analyzed frame after it where it was gone (or the end of the video).
    """

    text: str = Field(min_length=1, description="the most confident reading")
    confidence: float = Field(ge=0, le=1, description="mean over its frames")
    frames: int = Field(ge=1)
    box: Box = Field(description="median box over its frames")
    vertical: Literal["top", "middle", "bottom"]
    horizontal: Literal["left", "center", "right"]
    kind: TextKind = Field(description="overlay caption (added in editing) or text in the scene")
    overlay_score: float = Field(ge=0, le=1, description=(
        "hand-weighted evidence for an overlay caption, not fitted: (0.5 x 1.5 + sum(value x weight)) / "
        "(1.5 + sum(weight)) over the cues present (a neutral prior 0.5 of weight 1.5), cues as (value, weight): "
        "fixed on screen while the picture changes (median background change > 3) (1.0, 2.5) or moving with "
        "it (0.15, 1.5); text colour spread <= 6 (0.65, 1.0) or >= 15 (0.2, 1.0); even background ring "
        "spread <= 2 (0.9, 1.5); slanted (0.1, 1.0); centre within 0.08 of the middle (0.75, 0.5). "
        "kind: >= 0.6 overlay, <= 0.4 scene, else uncertain"))
    evidence: list[str] = Field(description="the cues behind overlay_score")


class TextOverlayResult(ResultBase):
    method: Literal["easyocr"] = "easyocr"
    languages: list[str] = Field(min_length=1)
    frame_set: str
    scale: float = Field(gt=0, le=1, description="frames are resized by this before OCR")
    detect_scale: float = Field(gt=0, le=1, description="the text detector sees the frame at this further scale")
    stride: int = Field(ge=1, description="every stride-th frame of the set is analyzed")
    min_confidence: float = Field(ge=0, le=1)
    frames_total: int = Field(ge=0, description="frames in the set")
    frames_analyzed: int = Field(ge=0)
    frames_ocr: int = Field(ge=0, description="analyzed frames that went through OCR")
    frames: list[FrameText]
    segments: list[TextSegment] = Field(description="in order of start")
    overlay_text: list[str] = Field(description="texts of overlay segments, in order of appearance, unique")
    has_text: bool

    @model_validator(mode="after")
    def _consistent(self) -> "TextOverlayResult":
        if len(self.frames) != self.frames_analyzed or self.frames_ocr > self.frames_analyzed:
            raise ValueError("frames must have one entry per analyzed frame; frames_ocr <= frames_analyzed")
        if self.has_text != bool(self.segments):
            raise ValueError("has_text must say whether any segment was found")
        return self
