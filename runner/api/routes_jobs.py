"""The HTTP API's routes over existing jobs: list, state, report (JSON and page), cancel, retry."""
from __future__ import annotations

import json
import pathlib
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Query
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from runner.api.jobs import FINISHED, QUEUED, RETRYABLE, RUNNING, STATES, Job, JobStore
from runner.api.schemas import JobId, JobPage, JobView, job_view as _view
from runner.api.security import Refused
from runner.api.worker import WorkerPool


def _get(store: JobStore, job_id: str) -> Job:
    job = store.get(job_id)
    if job is None:
        raise StarletteHTTPException(404, f"no job {job_id}")
    return job


def _report_text(store: JobStore, job_id: str) -> tuple[Job, str]:
    job = _get(store, job_id)
    if not job.report_path or job.state not in FINISHED:
        raise Refused("no_report", f"job {job_id} is {job.state} and has no report yet", status=409,
                      fix=f"poll GET /jobs/{job_id} until its state is completed")
    try:
        return job, open(job.report_path, encoding="utf-8").read()
    except OSError:
        raise Refused("report_missing", f"the report of job {job_id} is gone from the data directory",
                      status=409, fix=f"POST /jobs/{job_id}/retry") from None


def add_job_routes(app: FastAPI, store: JobStore, pool: WorkerPool, auth: list, errors: dict) -> None:
    """The job routes; no role renders anything: the report and its page are the pipeline's to write."""
    @app.get("/jobs", response_model=JobPage, dependencies=auth, responses=errors, tags=["jobs"])
    def list_jobs(limit: Annotated[int, Query(ge=1, le=200)] = 50,
                  offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
                  state: Literal[STATES] | None = None) -> JobPage:  # type: ignore[valid-type]
        """Jobs, newest first."""
        items, total = store.list(limit, offset, state)
        return JobPage(items=[_view(j) for j in items], total=total, limit=limit, offset=offset)

    @app.get("/jobs/{job_id}", response_model=JobView, dependencies=auth, responses=errors, tags=["jobs"])
    def get_job(job_id: JobId) -> JobView:
        """State, per-analyzer progress and errors of one job."""
        return _view(_get(store, job_id))
    _add_report_routes(app, store, auth, errors)
    _add_control_routes(app, store, pool, auth, errors)


def _add_report_routes(app: FastAPI, store: JobStore, auth: list, errors: dict) -> None:
    @app.get("/jobs/{job_id}/report", dependencies=auth, responses=errors, tags=["jobs"],
             response_model=dict[str, Any])
    def get_report(job_id: JobId) -> JSONResponse:
        """The job's report.json (also for cancelled or interrupted jobs: it holds what finished)."""
        _, text = _report_text(store, job_id)
        try:
            return JSONResponse(json.loads(text))
        except ValueError:
            raise Refused("report_missing", f"the report of job {job_id} is unreadable",
                          status=409, fix=f"POST /jobs/{job_id}/retry") from None

    @app.get("/jobs/{job_id}/report.html", dependencies=auth, responses=errors, tags=["jobs"],
             response_class=HTMLResponse)
    def get_report_html(job_id: JobId) -> HTMLResponse:
        """The report as one self-contained HTML page (timelines, keyframes), as the run wrote it."""
        job, _ = _report_text(store, job_id)
        page = pathlib.Path(job.report_path).with_suffix(".html")
        if not page.is_file():  # the pipeline writes the page with the report; no route renders one
            raise Refused("no_report_page", f"the report page of job {job_id} was not made",
                          status=409, fix=f"GET /jobs/{job_id}/report has the data; POST /jobs/{job_id}/retry "
                                          "makes the page again")
        # the page needs nothing from the network and runs only its own two scripts (by sha256): say
        # so to the browser too, with what a <meta> cannot say (no framing)
        from runner.report.page import content_security_policy

        return HTMLResponse(page.read_text(encoding="utf-8"),
                            headers={"Content-Security-Policy": content_security_policy()})


def _add_control_routes(app: FastAPI, store: JobStore, pool: WorkerPool, auth: list, errors: dict) -> None:
    @app.delete("/jobs/{job_id}", status_code=202, response_model=JobView, dependencies=auth, responses=errors,
                tags=["jobs"])
    def cancel(job_id: JobId) -> JobView:
        """Cancel a queued job, or stop a running one (its containers are stopped)."""
        before = _get(store, job_id)
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
        before = _get(store, job_id)
        if before.state not in RETRYABLE:
            raise Refused("not_retryable", f"job {job_id} is {before.state}; only "
                                           f"{', '.join(sorted(RETRYABLE))} jobs can be retried", status=409)
        job = store.retry(job_id) or before
        pool.wake()
        return _view(job)
