"""The HTTP API's request and response bodies (what the OpenAPI spec shows) and a job as the API shows it."""
from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field, model_validator

from runner.api.jobs import STATES, Job
from runner.api.security import MAX_PATH_CHARS, MAX_URL_CHARS
from shared_schema.params import ParamSpec

Scalar = Union[bool, int, float, Annotated[str, Field(max_length=1024)]]
OptionValue = Union[Scalar, Annotated[list[Scalar], Field(max_length=64)]]
JobId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{16}$", description="a job id from POST /analyze")]


class AnalyzeBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"tiktok_url": "https://www.tiktok.com/@user/video/7301234567890123456", "analyzers": ["cut_analysis"]},
        {"video_path": "/data/videos/clip.mp4", "analyzers": ["cut_analysis", "object_detection"],
         "options": {"cut_analysis.cut_ratio": 4.0, "object_detection.conf": 0.4, "object_detection.timeout_s": 600}}]})

    video_path: str | None = Field(None, min_length=1, max_length=MAX_PATH_CHARS,
                                   description="absolute path of a video under one of RUNNER_API_ROOTS")
    tiktok_url: str | None = Field(None, min_length=1, max_length=MAX_URL_CHARS,
                                   description="http(s) URL on the host allowlist; downloaded with yt-dlp")
    analyzers: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        None, max_length=64, description="run only these (and what they need); default: all")
    options: dict[Annotated[str, Field(max_length=160)], OptionValue] | None = Field(
        None, max_length=256, description='analyzer params as {"name.key": value}, each of the type and '
                                          'range its analyzer declares (GET /analyzers); also name.timeout_s, '
                                          'name.memory, name.cpus')
    no_cache: bool = Field(False, description="run every analyzer even when the result cache holds its result")

    @model_validator(mode="after")
    def _one_source(self) -> "AnalyzeBody":
        if (self.video_path is None) == (self.tiktok_url is None):
            raise ValueError("give exactly one of video_path or tiktok_url")
        return self


class ErrorInfo(BaseModel):
    code: str
    message: str
    fix: str | None = None


class ErrorBody(BaseModel):
    error: ErrorInfo


class JobView(BaseModel):
    id: str
    state: Literal[STATES]  # type: ignore[valid-type]
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    source: dict[str, str]
    analyzers: list[str] | None = None
    options: dict[str, Any] | None = None
    runs: int = Field(description="how many times a worker has started it")
    cancel_requested: bool = False
    progress: dict[str, Any] = Field(default_factory=dict,
                                     description="total, done, phases, per-analyzer state, notices")
    error: ErrorInfo | None = None
    summary: dict[str, Any] | None = None
    report_url: str | None = None


class JobPage(BaseModel):
    items: list[JobView]
    total: int
    limit: int
    offset: int


class AnalyzerView(BaseModel):
    name: str
    version: str
    description: str
    device: str
    frames: list[str]
    audio: bool
    after: list[str]
    needs: list[str]
    params: dict[str, ParamSpec] = Field(description="what `options` may set: type, default, range or choices, "
                                                     "description")


class Health(BaseModel):
    status: Literal["ok"]
    version: str


def job_view(job: Job) -> JobView:
    req = job.request
    source = {k: req[k] for k in ("video_path", "tiktok_url") if req.get(k)}
    return JobView(id=job.id, state=job.state, created_at=job.created_at, started_at=job.started_at,
                   finished_at=job.finished_at, source=source, analyzers=req.get("analyzers"),
                   options=req.get("options"), runs=job.runs, cancel_requested=job.cancel_requested,
                   progress=job.progress, error=ErrorInfo(**job.error) if job.error else None, summary=job.summary,
                   report_url=f"/jobs/{job.id}/report" if job.report_path else None)
