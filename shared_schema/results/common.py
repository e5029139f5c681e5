"""Building blocks shared by result models: spans, instants, series.

Time convention everywhere: seconds as floats, ``start``/``end`` for spans,
``t`` for instants.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ResultBase(BaseModel):
    """Base of every analyzer result: strict about unknown fields."""

    model_config = ConfigDict(extra="forbid")


class Span(ResultBase):
    start: float = Field(ge=0)
    end: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> "Span":
        if self.end < self.start:
            raise ValueError(f"span ends ({self.end}) before it starts ({self.start})")
        return self


class TimedValue(ResultBase):
    t: float = Field(ge=0)
    value: float


class Box(ResultBase):
    """A box in normalized image coordinates (0..1), x1<x2, y1<y2."""

    x1: float = Field(ge=0, le=1)
    y1: float = Field(ge=0, le=1)
    x2: float = Field(ge=0, le=1)
    y2: float = Field(ge=0, le=1)
