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
    track: int | None = Field(default=None, description="the tracked line (TextSegment.track) this reading belongs to")


class FrameText(ResultBase):
    t: float = Field(ge=0)
    ocr: bool = Field(description="true: the detector or the recognizer ran on this frame; false: every box was "
                      "carried over (the picture or the line's crop did not change)")
    detected: bool = Field(default=False, description="the text detector ran on this frame")
    recognized: int = Field(default=0, ge=0, description="regions the recognizer read in this frame")
    boxes: list[TextBox] = Field(default_factory=list)


class TextSegment(Span):
    """One text line tracked over consecutive analyzed frames (by position and fuzzy text similarity).

    ``start`` is the first analyzed frame it was read in; ``end`` the first
    analyzed frame after it where it was gone (or the end of the video).
    """

    text: str = Field(min_length=1, description="confidence-weighted vote over its per-frame readings")
    confidence: float = Field(ge=0, le=1, description="mean confidence of its recognized readings")
    frames: int = Field(ge=1)
    box: Box = Field(description="median box over its frames")
    vertical: Literal["top", "middle", "bottom"]
    horizontal: Literal["left", "center", "right"]
    kind: TextKind = Field(description="overlay caption (added in editing) or text in the scene")
    overlay_score: float = Field(ge=0, le=1, description=(
        "a score, not a calibrated probability: sigmoid(bias + sum(weight x feature)) over the features of "
        "the cues measured on the tracked line (cues, cue_contributions; an unmeasured cue adds nothing), "
        "weights fitted on a labelled set of made clips (analyzers/text_overlay/cues.py WEIGHTS, "
        "docs/text_overlay.md). kind: >= 0.7 overlay, <= 0.3 scene, between: uncertain when one cue "
        "contributes >= +2 and another <= -2 (the bias is no cue), else the nearer side"))
    evidence: list[str] = Field(description="the cues behind overlay_score, as 'cue +contribution', strongest first")
    track: int | None = Field(default=None, description="the tracked line: FrameText boxes with this track are its per-frame readings")
    variants: list[str] = Field(default_factory=list, description="distinct per-frame readings that were voted into text")
    cues: dict[str, float | None] = Field(default_factory=dict, description=(
        "the cues, null where not measured on this line: ring_motion / inside_motion (grey change around / "
        "inside the box in the box's own frame), text_shift / picture_shift (box / whole-picture motion per "
        "frame in line heights), scale_change, flatness (stroke colour spread), crispness (edge sharpness), "
        "ring_std, outline (a contrasting rim around the letters unlike what lies beyond, 0..1), box (one even grey "
        "around the letters and a little further out, 0..1), box_edges (a straight edge right above and below "
        "the line, 0..1), centre_x, centre_y, left, right, top, bottom (box edges, 0..1), starts_with_shot, "
        "ends_with_shot, picture_change (whole-picture change per frame), measured_frames, block_lines (the "
        "median size of the block of stacked lines of alike height the line sits in)"))
    cue_contributions: dict[str, float | None] = Field(default_factory=dict, description=(
        "weight x feature per feature (logit units); null where its cues were not measured (no contribution)"))


class TextOverlayResult(ResultBase):
    method: Literal["easyocr", "ppocr"] = Field(default="easyocr", description=(
        "the OCR engine: ppocr (PP-OCRv4 DB detector + CTC recognizer on ONNX Runtime, text_overlay >= 3.0) or "
        "easyocr (CRAFT + CRNN, text_overlay < 3.0)"))
    languages: list[str] = Field(min_length=1)
    frame_set: str
    scale: float = Field(gt=0, le=1, description="frames are resized by this before OCR")
    detect_scale: float = Field(gt=0, le=1, description="the text detector sees the frame at this further scale")
    stride: int = Field(ge=1, description="every stride-th frame of the set is analyzed")
    min_confidence: float = Field(ge=0, le=1)
    frames_total: int = Field(ge=0, description="frames in the set")
    frames_analyzed: int = Field(ge=0)
    frames_ocr: int = Field(ge=0, description="analyzed frames where the detector or recognizer ran")
    detect_every: int | None = Field(default=None, ge=1, description="analyzed frames between scheduled detector runs")
    detector_runs: int | None = Field(default=None, ge=0, description="text detector runs on whole frames")
    recognitions: int | None = Field(default=None, ge=0, description="regions read by the recognizer, hires re-reads included")
    hires_reads: int | None = Field(default=None, ge=0, description="small lines read from the hires frame set")
    hires_detections: int | None = Field(default=None, ge=0, description=(
        "detector runs on crops of a hires frame around small text candidates (a shot's first detection)"))
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
