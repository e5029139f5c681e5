"""Results of ``cut_analysis`` (shot boundaries, shots) and ``scene_segmentation`` (scenes).

Frame indexes refer to the ``dense`` frame set the analyzers read (every frame
up to 30 fps); times are seconds.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from shared_schema.results.common import ResultBase, Span

__all__ = ["Transition", "Shot", "CutResult", "Scene", "SceneResult"]

TransitionKind = Literal["cut", "dissolve", "fade"]


class Transition(Span):
    """One shot boundary. A cut has ``start == end == t``; a gradual one spans frames.

    ``t`` is the instant the new shot is taken to begin: the first frame after a
    cut; the middle of a dissolve; in a fade, the cut when the picture comes back
    (or goes) with a cut (fade-out, black, cut: the new shot starts at that cut),
    else the middle of the darkest (or brightest) frames. ``start``/``end`` are the
    whole transition's span either way.
    """

    kind: TransitionKind
    t: float = Field(ge=0)
    frame: int = Field(ge=0, description="dense frame index of the new shot's first frame")
    confidence: float = Field(ge=0, le=1, description=(
        "m / (1 + m), m = the margin of the weakest test the boundary passed (measured / required level, "
        "or required / measured for an at-most test): 0.5 at a threshold, 0.75 at 3 times it, 0.9 at 9 times. "
        "The tests per kind are in docs/cuts.md (cut_analysis >= 1.2.0); a documented convention, not "
        "calibrated against viewers. How closely the boundary is placed is uncertainty_s, not this"))
    via: Literal["black", "white", "blend", "content", "chroma"] | None = Field(
        default=None, description="fades: through black or white; dissolves: blend; cuts: content "
                                  "(the grey frames show it) or chroma (only colour does: equal luma)")
    uncertainty_s: float | None = Field(
        default=None, ge=0,
        description="half-width (s) of the window the boundary is known to lie in around t: half a "
                    "frame when the frames show it; for a chroma cut that left no trace in the luma, "
                    "half the interval between the colour samples that bracket it; null: not stated "
                    "(results from before cut_analysis 1.1.0)")

    @model_validator(mode="after")
    def _t_inside(self) -> "Transition":
        if not (self.start - 1e-6 <= self.t <= self.end + 1e-6):
            raise ValueError(f"t={self.t} outside its span [{self.start}, {self.end}]")
        if self.kind == "cut" and self.end - self.start > 1e-6:
            raise ValueError("a cut has no duration (start == end)")
        return self


class Shot(Span):
    index: int = Field(ge=0)
    start_frame: int = Field(ge=0)
    end_frame: int = Field(ge=0, description="inclusive")
    duration: float = Field(ge=0)


class CutResult(ResultBase):
    method: str = Field(description="how the boundaries were found")
    fps: float = Field(gt=0, description="rate of the frames analysed")
    frames: int = Field(ge=1)
    duration_s: float = Field(ge=0)
    transitions: list[Transition]
    shots: list[Shot] = Field(min_length=1)
    cut_count: int = Field(ge=0, description="every boundary, hard and gradual")
    hard_cuts: int = Field(ge=0)
    gradual: int = Field(ge=0)
    cuts_per_minute: float = Field(ge=0)
    mean_shot_s: float = Field(ge=0)
    median_shot_s: float = Field(ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> "CutResult":
        if self.cut_count != len(self.transitions) or self.hard_cuts + self.gradual != self.cut_count:
            raise ValueError("cut_count / hard_cuts / gradual disagree with transitions")
        if len(self.shots) != self.cut_count + 1:
            raise ValueError(f"{self.cut_count} boundaries but {len(self.shots)} shots")
        times = [tr.t for tr in self.transitions]
        if times != sorted(times):
            raise ValueError("transitions are not in time order")
        for a, b in zip(self.shots, self.shots[1:]):
            if b.start_frame != a.end_frame + 1:
                raise ValueError(f"shots {a.index} and {b.index} are not contiguous")
        return self


class Scene(Span):
    index: int = Field(ge=0)
    shots: list[int] = Field(min_length=1, description="indexes into cut_analysis's shots")
    representative_frame: int = Field(ge=0, description="dense frame index of the keyframe")
    representative_t: float = Field(ge=0)


class SceneResult(ResultBase):
    method: str
    threshold: float = Field(ge=0, le=1, description="keyframe similarity needed to join a scene")
    scenes: list[Scene] = Field(min_length=1)
    shot_count: int = Field(ge=1)

    @model_validator(mode="after")
    def _partition(self) -> "SceneResult":
        flat = [s for sc in self.scenes for s in sc.shots]
        if flat != list(range(self.shot_count)):
            raise ValueError("scenes must cover every shot once, in order")
        return self
