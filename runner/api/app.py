"""The HTTP API: FastAPI app factory. ``runner serve`` runs it under uvicorn.

Jobs are durable (SQLite, :mod:`runner.api.jobs`) and run by a bounded worker pool
(:mod:`runner.api.worker`). Every error is JSON ``{"error": {"code", "message", "fix"}}``;
no stack trace ever leaves the server.
"""
from __future__ import annotations

import hmac
import logging
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from runner import __version__
from runner.api.errors import install_error_handlers
from runner.api.jobs import Job, JobStore
from runner.api.middleware import BodyLimit, LoopbackHostOnly
from runner.api.routes_jobs import add_job_routes
from runner.api.schemas import AnalyzeBody, AnalyzerView, ErrorBody, Health, JobView, job_view
from runner.api.checks import api_bounds, check_request, validate_selection  # noqa: F401 - re-exported
from runner.core.api_config import ApiSettings
from runner.api.wait import answer, wait_for_job
from runner.api.worker import WorkerPool
from runner.core.config import Settings
from runner.core.registry import Registry, registry_for

__all__ = ["api_bounds", "create_app", "validate_selection"]  # the checks: runner.api.checks (the worker's too)

log = logging.getLogger("runner.api")


ROLES = ("all", "api", "worker")



def _lifespan(pool: WorkerPool, registry: Registry, api: ApiSettings):
    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        recovered = pool.start()
        log.info("API ready: %d worker(s), %d analyzer(s), data in %s%s", pool.size, len(registry), api.data_dir,
                 f"; {len(recovered)} interrupted job(s) from the last run" if recovered else "")
        try:
            yield
        finally:
            import asyncio

            await asyncio.get_running_loop().run_in_executor(None, pool.stop)
    return lifespan


def add_service_routes(app: FastAPI, registry: Registry, auth: list, errors: dict) -> None:
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


def add_submit_route(app: FastAPI, settings: Settings, api: ApiSettings, registry: Registry, store: JobStore,
                     pool: WorkerPool, auth: list, errors: dict) -> None:
    @app.post("/analyze", status_code=202, response_model=JobView, dependencies=auth, tags=["jobs"],
              responses={**errors, 200: {"description": "with `wait`: the job finished in time; its report.json",
                                         "content": {"application/json": {"schema": {"type": "object"}}}},
                         403: {"model": ErrorBody}, 413: {"model": ErrorBody}})
    async def submit(body: AnalyzeBody, request: Request, wait: Annotated[float | None, Query(
            ge=0, allow_inf_nan=False, description="seconds to wait for the report (clamped to "
                                                   "RUNNER_API_MAX_WAIT_S): 200 and the report if the job "
                                                   "finishes in time, else 202 and the job. Without it: the "
                                                   "server's RUNNER_API_DEFAULT_WAIT_S (default 0); "
                                                   "`wait=0` never waits")] = None) -> Response:
        """Queue an analysis of a local video (under the configured roots) or a TikTok URL; with `wait`,
        answer with its report when it finishes within that many seconds (the old system's call)."""
        job = await run_in_threadpool(_queue, body)
        if wait is None:  # an old client: it reads the report from this response when the server says to wait
            wait = api.default_wait_s
        if not wait or not api.max_wait_s:
            return JSONResponse(job_view(job).model_dump(mode="json"), status_code=202,
                                headers={"Location": f"/jobs/{job.id}"})
        waited = min(wait, float(api.max_wait_s))
        job = await wait_for_job(store, job.id, waited, request.is_disconnected) or job
        return await answer(job, job_view(job).model_dump(mode="json"), waited)

    def _queue(body: AnalyzeBody) -> Job:
        check_request(body, settings, api, registry)
        request = body.model_dump(exclude_none=True)
        if request.get("analyzers"):
            request["analyzers"] = list(dict.fromkeys(request["analyzers"]))
        job = store.create(request)
        pool.wake()
        return job


# -- the app -----------------------------------------------------------------------------------
def create_app(settings: Settings, api: ApiSettings, *, registry: Registry | None = None,
               start_workers: bool = True, role: str = "all") -> FastAPI:
    """``role="api"``: the HTTP API only (authenticates, validates, queues; runs and renders nothing,
    holds no Docker socket); a ``runner worker`` process on the same data dir runs the jobs."""
    start_workers = start_workers and role != "api"
    registry = registry if registry is not None else registry_for(settings)
    store = JobStore(api.data_dir / "jobs.sqlite3")
    pool = WorkerPool(store, settings, api, registry)

    lifespan = _lifespan(pool, registry, api) if start_workers else None
    bearer = HTTPBearer(auto_error=False, description="RUNNER_API_TOKEN")

    def authorized(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if api.token is None:
            return
        if creds is None or not hmac.compare_digest(creds.credentials.encode(), api.token.encode()):
            raise StarletteHTTPException(401, "missing or wrong bearer token")

    # FastAPI's /docs and /redoc pages load unpinned JavaScript from a CDN (no SRI): off unless asked
    app = FastAPI(title="TikTok sandbox runner API", version=__version__, lifespan=lifespan,
                  docs_url="/docs" if api.docs else None, redoc_url="/redoc" if api.docs else None,
                  description="Queue analyses of short videos and read their reports. Send "
                              "`Authorization: Bearer <RUNNER_API_TOKEN>` on every call but /health.")
    app.state.store, app.state.pool, app.state.registry = store, pool, registry
    app.add_middleware(BodyLimit, limit=api.max_body)
    if api.token is None:
        app.add_middleware(LoopbackHostOnly)  # added last: runs first, before the body is read
    auth = [Depends(authorized)]
    errors = {401: {"model": ErrorBody}, 404: {"model": ErrorBody}, 409: {"model": ErrorBody},
              422: {"model": ErrorBody}}

    add_service_routes(app, registry, auth, errors)
    add_submit_route(app, settings, api, registry, store, pool, auth, errors)
    add_job_routes(app, store, pool, auth, errors)
    install_error_handlers(app)
    return app
