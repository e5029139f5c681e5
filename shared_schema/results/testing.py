"""Result of the toy analyzers the test suite uses (never selected in real runs)."""
from __future__ import annotations

from pydantic import Field

from shared_schema.results.common import ResultBase


class ToyResult(ResultBase):
    message: str
    frames_seen: int = Field(ge=0)
    first_t: float | None = None
    last_t: float | None = None
    audio_seconds: float | None = None
    upstream_ok: list[str] = Field(default_factory=list)
    params: dict[str, str] = Field(default_factory=dict)
