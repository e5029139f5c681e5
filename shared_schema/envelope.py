"""The result envelope every analyzer container writes, and the statuses."""
from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.4"  # 1.1: Envelope.cache; 1.2: Envelope.dropped; 1.3: manifest params are declared;
# 1.4: result models null what was not measured (FlowSegment.label, EmotionSegment.arousal/energy_dbfs/
# voiced_ratio + arousal_cues, AlignedText.coverage, AudioEnvironment.dominant) and AgeEstimationResult has
# frame_times (issue 27)
#                        (type, default, range/choices, description) and a job's params are all of them, typed


class Status(str, Enum):
    ok = "ok"
    failed = "failed"                  # analyze() raised
    invalid_output = "invalid_output"  # returned/wrote something the schema rejects
    oom = "oom"                        # runner: killed for memory
    timeout = "timeout"                # runner: over its wall-clock limit
    crashed = "crashed"                # runner: died without an envelope
    skipped = "skipped"                # never ran; see skip_reason


class SkipReason(str, Enum):
    model_absent = "model_absent"
    needs_gpu = "needs_gpu"
    upstream_failed = "upstream_failed"
    not_selected = "not_selected"
    no_audio = "no_audio"
    env_missing = "env_missing"
    image_missing = "image_missing"
    interrupted = "interrupted"
    not_applicable = "not_applicable"


class ErrorInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str
    message: str
    fix: str | None = Field(default=None, description="what a user runs to fix it, where known")


class ModelUse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    source: str
    sha256: str | None = None


class Attempt(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int = Field(ge=1)
    status: Status
    overrides: dict[str, Any] = Field(default_factory=dict)
    duration_s: float = 0.0
    exit_code: int | None = None
    error: ErrorInfo | None = None


class CacheInfo(BaseModel):
    """Set by the runner when a result was reused from the result cache instead of executed."""
    model_config = ConfigDict(extra="forbid")

    key: str = Field(description="sha256 of what determines the result (input, analyzer, image/env, params, models, upstream)")
    run_id: str = Field(description="the run that executed it")
    created_at: datetime


class DroppedOutput(BaseModel):
    """A file of the sandbox's output the runner did not keep (a link, a FIFO, over a cap, ...)."""
    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="relative to the analyzer's output folder")
    why: str


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: str = SCHEMA_VERSION
    analyzer: str
    analyzer_version: str
    status: Status
    skip_reason: SkipReason | None = None
    device: str = "cpu"
    started_at: datetime | None = None
    duration_s: float = 0.0
    models: list[ModelUse] = Field(default_factory=list)
    attempts: list[Attempt] = Field(default_factory=list)
    degraded: bool = False
    degraded_reasons: list[str] = Field(default_factory=list)
    result: dict[str, Any] | None = None
    error: ErrorInfo | None = None
    exit_code: int | None = None
    log_tail: str | None = None
    cache: CacheInfo | None = Field(default=None, description="set when this result came from the result cache")
    dropped: list[DroppedOutput] = Field(default_factory=list, description=(
        "set by the runner: output files it did not keep (links, FIFOs, devices, over a size/count/depth cap)"))

    @property
    def ok(self) -> bool:
        return self.status is Status.ok
