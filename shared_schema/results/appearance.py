"""Results of ``color_analysis`` (palettes, tone over time) and ``content_quality``.

Every colour statistic is defined in the field's description, so a number in a
report can be traced to how it was computed. Times are seconds.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from shared_schema.results.common import ResultBase, Span

__all__ = [
    "PaletteColor", "ToneStats", "ColorShot", "ColorPoint", "ColorChange", "ColorAnalysisResult",
    "QualityComponent", "QualityFrame", "ContentQualityResult",
]

HueName = Literal["red", "orange", "yellow", "green", "cyan", "blue", "purple", "pink",
                  "white", "grey", "black", "brown"]


class PaletteColor(ResultBase):
    hex: str = Field(pattern=r"^#[0-9a-f]{6}$")
    r: int = Field(ge=0, le=255)
    g: int = Field(ge=0, le=255)
    b: int = Field(ge=0, le=255)
    lab: tuple[float, float, float] = Field(description="CIELAB (D65) L*, a*, b*")
    share: float = Field(gt=0, le=1, description="fraction of the sampled pixels in this cluster")
    name: HueName = Field(description="coarse colour name from the CIELAB lightness, chroma and hue")


class ToneStats(ResultBase):
    brightness: float = Field(ge=0, le=1, description="mean CIELAB L* / 100")
    saturation: float = Field(ge=0, le=1, description="mean HSV saturation")
    contrast: float = Field(ge=0, le=1, description="RMS contrast: standard deviation of L* / 100")
    warmth: float = Field(ge=-1, le=1, description="mean (R - B) / 255 in sRGB: +1 red/yellow, -1 blue, "
                                                   "0 neutral or green")


class ColorShot(Span, ToneStats):
    index: int = Field(ge=0)
    frames: int = Field(ge=1, description="sampled frames that fell in this shot")
    palette: list[PaletteColor] = Field(min_length=1, description="largest share first")


class ColorPoint(ToneStats):
    t: float = Field(ge=0)
    mean_lab: tuple[float, float, float] = Field(description="mean CIELAB colour of the frame")


class ColorChange(ResultBase):
    t: float = Field(ge=0, description="time of the frame after the change")
    delta_e: float = Field(ge=0, description="CIE76 distance between consecutive frames' mean colour")


class ColorAnalysisResult(ResultBase):
    method: str = Field(description="how palettes and statistics were computed")
    segmentation: Literal["cut_analysis", "fixed_windows"] = Field(
        description="where the shots come from: cut_analysis's shot list, or fixed windows when it "
                    "was not run or did not succeed")
    segmentation_note: str
    window_s: float | None = Field(default=None, gt=0, description="window length when fixed_windows")
    frames_analyzed: int = Field(ge=1)
    overall: ToneStats
    palette: list[PaletteColor] = Field(min_length=1, description="whole video, largest share first")
    shots: list[ColorShot] = Field(min_length=1)
    series: list[ColorPoint] = Field(min_length=1, description="one point per sampled frame")
    changes: list[ColorChange] = Field(description="frames whose mean colour moved more than "
                                                   "change_threshold from the previous frame")
    change_threshold: float = Field(gt=0)

    @model_validator(mode="after")
    def _shares(self) -> "ColorAnalysisResult":
        for pal in [self.palette, *(s.palette for s in self.shots)]:
            if abs(sum(c.share for c in pal) - 1) > 0.02:
                raise ValueError("palette shares do not add up to 1")
        return self


# ---- content_quality ---------------------------------------------------

ComponentName = Literal["sharpness", "exposure", "noise", "blockiness", "resolution", "bitrate"]
AspectLabel = Literal["9:16", "16:9", "1:1", "4:5", "3:4", "4:3", "other"]


class QualityComponent(ResultBase):
    name: ComponentName
    value: float | None = Field(description="the measurement, in `unit`; None when it cannot be measured")
    unit: str
    score: float | None = Field(ge=0, le=1, description="1 is best; None when not measured")
    weight: float = Field(ge=0, le=1, description="share of the overall score (re-normalised over "
                                                  "the measured components)")
    scoring: str = Field(description="how value maps to score (the cut-offs)")
    reason: str | None = Field(default=None, description="why score is null (not measured)")


class QualityFrame(ResultBase):
    t: float = Field(ge=0)
    sharpness: float | None = Field(ge=0, description="variance of the Laplacian of the grey frame at 640 px; "
                                                      "null for a featureless frame (luma std under 1 level: "
                                                      "black, a solid card), which has no detail to judge "
                                                      "focus on (its variance, 0, is not blur)")
    clipped_dark: float = Field(ge=0, le=1, description="fraction of pixels with luma <= 4")
    clipped_bright: float = Field(ge=0, le=1, description="fraction of pixels with luma >= 251")
    noise_sigma: float = Field(ge=0, description="estimated noise standard deviation in luma levels")
    blockiness: float | None = Field(ge=0, description="small steps on the 8x8 grid over small steps "
                                                      "off it (1 = no blocks)")


class ContentQualityResult(ResultBase):
    method: str
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    aspect_ratio: float = Field(gt=0, description="display width / height")
    aspect_label: AspectLabel
    vertical_9_16: bool = Field(description="within 2% of 9:16")
    fps: float = Field(ge=0)
    bitrate_bps: int | None = Field(default=None, ge=0, description="video stream bitrate (or the "
                                                                     "container's, less audio)")
    frames_analyzed: int = Field(ge=1)
    frame_size: tuple[int, int] = Field(description="width, height of the analysed frames")
    components: list[QualityComponent] = Field(min_length=1)
    overall_score: float = Field(ge=0, le=1, description=(
        "hand-weighted, not fitted to viewers: sum of weight * score over the measured components; base "
        "weights sharpness 0.30, exposure 0.15, noise 0.15, blockiness 0.15, resolution 0.15, bitrate 0.10, "
        "renormalized over the measured ones: weight = base weight / sum of the measured base weights; a "
        "component not measured (null score with its reason: sharpness when every frame is featureless, "
        "blockiness on a grid under 4 px, bitrate without one from ffprobe) has weight 0 (each component's "
        "`scoring` gives its cut-offs)"))
    frames: list[QualityFrame] = Field(min_length=1)
    not_measured: dict[str, str] = Field(default_factory=dict, description=(
        "field -> why it is null, for the per-frame values (frames[].sharpness); a component's own "
        "reason is beside it"))

    @model_validator(mode="after")
    def _weighted(self) -> "ContentQualityResult":
        if any(f.sharpness is None for f in self.frames) != ("frames[].sharpness" in self.not_measured):
            raise ValueError("a frame's sharpness is null exactly when not_measured says why")
        measured = [c for c in self.components if c.score is not None]
        if abs(sum(c.weight for c in measured) - 1) > 1e-3:
            raise ValueError("weights of the measured components must add up to 1")
        if any(c.weight for c in self.components if c.score is None):
            raise ValueError("a component without a score carries weight")
        expected = sum(c.weight * c.score for c in measured)
        if abs(expected - self.overall_score) > 1e-3:
            raise ValueError(f"overall_score {self.overall_score} != weighted sum {expected:.4f}")
        return self
