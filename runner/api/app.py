"""The HTTP API: FastAPI app factory. ``runner serve`` runs it under uvicorn.

Jobs are durable (SQLite, :mod:`runner.api.jobs`) and run by a bounded worker pool
(:mod:`runner.api.worker`). Every error is JSON ``{"error": {"code", "message", "fix"}}``;
no stack trace ever leaves the server.
"""
from __future__ import annotations

import hmac
import json
import logging
import pathlib
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal, Union

from fastapi import Depends, FastAPI, Path as PathParam, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from runner import __version__
from runner.api.middleware import BodyLimit, LoopbackHostOnly
from runner.api.jobs import FINISHED, QUEUED, RETRYABLE, RUNNING, STATES, Job, JobStore
from runner.api.security import MAX_PATH_CHARS, MAX_URL_CHARS, Refused, check_url, resolve_video_path
from runner.api.settings import ApiSettings
from runner.api.wait import answer, wait_for_job
from runner.api.worker import WorkerPool
from runner.config import Settings
from runner.errors import RunnerError
from runner.params import ParamError, ResourceBounds, from_options
from runner.registry import Registry, registry_for
from shared_schema.params import ParamSpec

log = logging.getLogger("runner.api")

Scalar = Union[bool, int, float, Annotated[str, Field(max_length=1024)]]
OptionValue = Union[Scalar, Annotated[list[Scalar], Field(max_length=64)]]
JobId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{16}$", description="a job id from POST /analyze")]


# -- request and response bodies ---------------------------------------------------------------
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


def _view(job: Job) -> JobView:
    req = job.request
    source = {k: req[k] for k in ("video_path", "tiktok_url") if req.get(k)}
    return JobView(id=job.id, state=job.state, created_at=job.created_at, started_at=job.started_at,
                   finished_at=job.finished_at, source=source, analyzers=req.get("analyzers"),
                   options=req.get("options"), runs=job.runs, cancel_requested=job.cancel_requested,
                   progress=job.progress, error=ErrorInfo(**job.error) if job.error else None, summary=job.summary,
                   report_url=f"/jobs/{job.id}/report" if job.report_path else None)


def _error(status: int, code: str, message: str, fix: str | None = None, headers=None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "fix": fix}}, status_code=status,
                        headers=headers)


# -- validation against the registry -------------------------------------------------------------
def api_bounds(settings: Settings) -> ResourceBounds:
    """What a request may set ``timeout_s``, ``memory`` and ``cpus`` to: within this runner's budgets."""
    return ResourceBounds(min_memory=16 * 2**20, max_memory=settings.memory_budget,
                          max_cpus=max(1.0, settings.cpu_budget), max_timeout_s=3600.0)


def validate_selection(body: AnalyzeBody, registry: Registry, settings: Settings) -> None:
    """Only analyzers from the registry, and params they declare with values that fit (runner.params)."""
    unknown = sorted({n for n in body.analyzers or [] if n not in registry})
    if unknown:
        raise Refused("unknown_analyzer", f"unknown analyzer(s): {', '.join(unknown)[:300]}", status=422,
                      fix="GET /analyzers lists the names")
    try:
        from_options(body.options, registry, api_bounds(settings))
    except ParamError as exc:
        raise Refused("bad_option", exc.message, status=422,
                      fix=f"{exc.fix}; GET /analyzers lists every param" if exc.fix else None) from None


ROLES = ("all", "api", "worker")


# -- the app -----------------------------------------------------------------------------------
def create_app(settings: Settings, api: ApiSettings, *, registry: Registry | None = None,
               start_workers: bool = True, role: str = "all") -> FastAPI:
    """``role="api"``: the HTTP API only (authenticates, validates, queues; runs and renders nothing,
    holds no Docker socket); a ``runner worker`` process on the same data dir runs the jobs."""
    start_workers = start_workers and role != "api"
    registry = registry if registry is not None else registry_for(settings)
    store = JobStore(api.data_dir / "jobs.sqlite3")
    pool = WorkerPool(store, settings, api, registry)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if start_workers:
            recovered = pool.start()
            log.info("API ready: %d worker(s), %d analyzer(s), data in %s%s", pool.size, len(registry), api.data_dir,
                     f"; {len(recovered)} interrupted job(s) from the last run" if recovered else "")
        try:
            yield
        finally:
            if start_workers:
                import asyncio

                await asyncio.get_running_loop().run_in_executor(None, pool.stop)

    bearer = HTTPBearer(auto_error=False, description="RUNNER_API_TOKEN")

    def authorized(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if api.token is None:
            return
        if creds is None or not hmac.compare_digest(creds.credentials.encode(), api.token.encode()):
            raise StarletteHTTPException(401, "missing or wrong bearer token")

    app = FastAPI(title="TikTok sandbox runner API", version=__version__, lifespan=lifespan,
                  description="Queue analyses of short videos and read their reports. Send "
                              "`Authorization: Bearer <RUNNER_API_TOKEN>` on every call but /health.")
    app.state.store, app.state.pool, app.state.registry = store, pool, registry
    app.add_middleware(BodyLimit, limit=api.max_body)
    if api.token is None:
        app.add_middleware(LoopbackHostOnly)  # added last: runs first, before the body is read
    auth = [Depends(authorized)]
    errors = {401: {"model": ErrorBody}, 404: {"model": ErrorBody}, 409: {"model": ErrorBody},
              422: {"model": ErrorBody}}

    @app.exception_handler(Refused)
    async def _refused(_req: Request, exc: Refused):
        return _error(exc.status, exc.code, exc.message, exc.fix)

    @app.exception_handler(RunnerError)
    async def _runner_error(_req: Request, exc: RunnerError):
        return _error(400, "bad_request", exc.message, exc.fix)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_req: Request, exc: StarletteHTTPException):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return _error(exc.status_code, {401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}
                      .get(exc.status_code, f"http_{exc.status_code}"), str(exc.detail), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError):
        parts = []
        for e in exc.errors()[:10]:
            loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
            msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
            parts.append(f"{loc or 'body'}: {msg}"[:300])
        return _error(422, "invalid_request", "; ".join(parts) or "invalid request")

    @app.exception_handler(Exception)
    async def _internal(_req: Request, exc: Exception):
        log.exception("unhandled error")
        return _error(500, "internal", "internal error; the server log has the details")

    @app.get("/health", response_model=Health, tags=["service"])
    def health() -> Health:
        """Liveness: no token needed."""
        return Health(status="ok", version=__version__)

    @app.get("/analyzers", response_model=list[AnalyzerView], dependencies=auth, responses=errors, tags=["service"])
    def analyzers() -> list[AnalyzerView]:
        """The analyzers this server runs, with their params (what `options` may set)."""
        return [AnalyzerView(name=n, version=e.manifest.version, description=e.manifest.description,
                             device=e.manifest.resources.device, frames=e.manifest.inputs.frames,
                             audio=e.manifest.inputs.audio, after=e.manifest.after, needs=e.manifest.needs,
                             params=e.manifest.params)
                for n, e in sorted(registry.items())]

    @app.post("/analyze", status_code=202, response_model=JobView, dependencies=auth, tags=["jobs"],
              responses={**errors, 200: {"description": "with `wait`: the job finished in time; its report.json",
                                         "content": {"application/json": {"schema": {"type": "object"}}}},
                         403: {"model": ErrorBody}, 413: {"model": ErrorBody}})
    async def submit(body: AnalyzeBody, request: Request, wait: Annotated[float | None, Query(
            ge=0, allow_inf_nan=False, description="seconds to wait for the report (clamped to "
                                                   "RUNNER_API_MAX_WAIT_S): 200 and the report if the job "
                                                   "finishes in time, else 202 and the job")] = None) -> Response:
        """Queue an analysis of a local video (under the configured roots) or a TikTok URL; with `wait`,
        answer with its report when it finishes within that many seconds (the old system's call)."""
        job = await run_in_threadpool(_queue, body)
        if not wait or not api.max_wait_s:
            return JSONResponse(_view(job).model_dump(mode="json"), status_code=202,
                                headers={"Location": f"/jobs/{job.id}"})
        waited = min(wait, float(api.max_wait_s))
        job = await wait_for_job(store, job.id, waited, request.is_disconnected) or job
        return await answer(job, _view(job).model_dump(mode="json"), waited)

    def _queue(body: AnalyzeBody) -> Job:
        if body.video_path is not None:
            from runner.media.admit import Limits

            resolve_video_path(body.video_path, api.video_roots, Limits.from_settings(settings))
        else:
            check_url(body.tiktok_url or "", api.url_allowlist)
        validate_selection(body, registry, settings)
        request = body.model_dump(exclude_none=True)
        if request.get("analyzers"):
            request["analyzers"] = list(dict.fromkeys(request["analyzers"]))
        job = store.create(request)
        pool.wake()
        return job

    @app.get("/jobs", response_model=JobPage, dependencies=auth, responses=errors, tags=["jobs"])
    def list_jobs(limit: Annotated[int, Query(ge=1, le=200)] = 50,
                  offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
                  state: Literal[STATES] | None = None) -> JobPage:  # type: ignore[valid-type]
        """Jobs, newest first."""
        items, total = store.list(limit, offset, state)
        return JobPage(items=[_view(j) for j in items], total=total, limit=limit, offset=offset)

    def _get(job_id: str) -> Job:
        job = store.get(job_id)
        if job is None:
            raise StarletteHTTPException(404, f"no job {job_id}")
        return job

    @app.get("/jobs/{job_id}", response_model=JobView, dependencies=auth, responses=errors, tags=["jobs"])
    def get_job(job_id: JobId) -> JobView:
        """State, per-analyzer progress and errors of one job."""
        return _view(_get(job_id))

    def _report_text(job_id: str) -> tuple[Job, str]:
        job = _get(job_id)
        if not job.report_path or job.state not in FINISHED:
            raise Refused("no_report", f"job {job_id} is {job.state} and has no report yet", status=409,
                          fix=f"poll GET /jobs/{job_id} until its state is completed")
        try:
            return job, open(job.report_path, encoding="utf-8").read()
        except OSError:
            raise Refused("report_missing", f"the report of job {job_id} is gone from the data directory",
                          status=409, fix=f"POST /jobs/{job_id}/retry") from None

    @app.get("/jobs/{job_id}/report", dependencies=auth, responses=errors, tags=["jobs"],
             response_model=dict[str, Any])
    def get_report(job_id: JobId) -> JSONResponse:
        """The job's report.json (also for cancelled or interrupted jobs: it holds what finished)."""
        _, text = _report_text(job_id)
        try:
            return JSONResponse(json.loads(text))
        except ValueError:
            raise Refused("report_missing", f"the report of job {job_id} is unreadable",
                          status=409, fix=f"POST /jobs/{job_id}/retry") from None

    @app.get("/jobs/{job_id}/report.html", dependencies=auth, responses=errors, tags=["jobs"],
             response_class=HTMLResponse)
    def get_report_html(job_id: JobId) -> HTMLResponse:
        """The report as one self-contained HTML page (timelines, keyframes); made once, then kept."""
        from runner.report.html import write_html
        from shared_schema.report import Report

        job, text = _report_text(job_id)
        page = pathlib.Path(job.report_path).with_suffix(".html")
        if not page.is_file() or page.stat().st_mtime < pathlib.Path(job.report_path).stat().st_mtime:
            if role == "api":  # the worker writes the page when the job finishes; this process renders nothing
                raise Refused("no_report_page", f"the report page of job {job_id} was not made",
                              status=409, fix=f"GET /jobs/{job_id}/report has the data; POST /jobs/{job_id}/retry "
                                              "makes the page again")
            try:
                write_html(Report.model_validate_json(text), page)
            except ValueError:
                raise Refused("report_missing", f"the report of job {job_id} is unreadable",
                              status=409, fix=f"POST /jobs/{job_id}/retry") from None
        # the page needs nothing from the network: say so to the browser too
        return HTMLResponse(page.read_text(encoding="utf-8"), headers={
            "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; "
                                       "style-src 'unsafe-inline'; img-src data:; font-src data:"})

    @app.delete("/jobs/{job_id}", status_code=202, response_model=JobView, dependencies=auth, responses=errors,
                tags=["jobs"])
    def cancel(job_id: JobId) -> JobView:
        """Cancel a queued job, or stop a running one (its containers are stopped)."""
        before = _get(job_id)
        if before.state not in (QUEUED, RUNNING):
            raise Refused("already_finished", f"job {job_id} is already {before.state}", status=409)
        job = store.request_cancel(job_id) or before
        if job.state == RUNNING:
            pool.cancel(job_id)
        return _view(store.get(job_id) or job)

    @app.post("/jobs/{job_id}/retry", status_code=202, response_model=JobView, dependencies=auth,
              responses=errors, tags=["jobs"])
    def retry(job_id: JobId) -> JobView:
        """Queue a failed, cancelled or interrupted job again (same id)."""
        before = _get(job_id)
        if before.state not in RETRYABLE:
            raise Refused("not_retryable", f"job {job_id} is {before.state}; only "
                                           f"{', '.join(sorted(RETRYABLE))} jobs can be retried", status=409)
        job = store.retry(job_id) or before
        pool.wake()
        return _view(job)

    return app
