"""The merged report of one run."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared_schema.envelope import SCHEMA_VERSION, Envelope, Status
from shared_schema.media import MediaInfo


class Timings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    probe_s: float = 0.0
    extract_s: float = 0.0
    analyzers_s: dict[str, float] = Field(default_factory=dict)
    merge_s: float = 0.0
    total_s: float = 0.0


class InputInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    sha256: str
    url: str | None = None


class RunInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: str
    runner_version: str
    backend: str
    host: str
    started_at: datetime
    finished_at: datetime
    workdir: str
    input: InputInfo
    timings: Timings
    interrupted: bool = False
    notices: list[str] = Field(default_factory=list)
    #: where ffprobe/ffmpeg decoded the input: "docker" (the media sandbox) or "host" (limits only)
    media_exec: str | None = None
    media_sandboxed: bool | None = None


class Report(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: str = SCHEMA_VERSION
    run: RunInfo
    media: MediaInfo
    stages: list[list[str]]
    counts: dict[Status, int]
    analyzers: dict[str, Envelope]

    @property
    def all_ok(self) -> bool:
        return all(e.status is Status.ok for e in self.analyzers.values())
