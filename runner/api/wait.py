"""``POST /analyze?wait=SECONDS``: answer with the finished report when the job ends within the wait.

The call the old system's clients make (it answered ``POST /analyze`` with the report). The job
is queued as usual; the request then polls the job store (never an in-process event: with
``--role api`` a separate ``runner worker`` process runs the job and only the SQLite store is
shared) without blocking the event loop, and stops polling when the client goes away (the job
runs on; ``GET /jobs/{id}`` has it).

Answers, all with ``Location: /jobs/{id}``, ``X-Job-State`` and ``X-Runner-Wait`` (the seconds
actually waited for, after clamping to ``RUNNER_API_MAX_WAIT_S``):

- ``completed`` in time: **200** and the report.json, as ``GET /jobs/{id}/report``;
- still queued or running at the end of the wait: **202** and the job, as without ``wait``;
- ``failed`` in time (not a video, a download error, an admission cap): **422**, or **500** for
  ``internal``, with ``{"error": {code, message, fix, job}}``: the job's own error and its view;
- ``cancelled`` (a DELETE) in time: **409**; ``interrupted`` (the server stopped): **503**; both
  with the same error body (their partial report stays at ``job.report_url``).

Errors stay ``{"error": ...}`` bodies with a status of 400 or more, as everywhere in the API, so a
script written for the old system (``raise_for_status()``, then the report) fails loudly on a
failed video instead of reading a job as if it were a report.
"""
from __future__ import annotations

import asyncio
import json
from typing import Any, Awaitable, Callable

from fastapi.responses import JSONResponse, Response

from runner.api.jobs import CANCELLED, COMPLETED, FINISHED, INTERRUPTED, Job, JobStore

__all__ = ["wait_for_job", "answer"]

POLL_S = 0.25          # the first seconds: a fast job answers promptly
POLL_SLOW_S = 1.0      # after FAST_FOR_S: the worker itself polls the store every second
FAST_FOR_S = 5.0
FAILED_STATUS = {CANCELLED: 409, INTERRUPTED: 503}


async def wait_for_job(store: JobStore, job_id: str, seconds: float,
                       disconnected: Callable[[], Awaitable[bool]] | None = None) -> Job | None:
    """The job once finished, or as it is after ``seconds`` (or when the client went away)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while True:
        job = await asyncio.to_thread(store.get, job_id)
        elapsed = loop.time() - start
        if job is None or job.state in FINISHED or elapsed >= seconds:
            return job
        if disconnected is not None and await disconnected():
            return job
        await asyncio.sleep(min(POLL_S if elapsed < FAST_FOR_S else POLL_SLOW_S, seconds - elapsed))


def _read_report(path: str) -> str | None:
    try:
        text = open(path, encoding="utf-8").read()
        json.loads(text)
        return text
    except (OSError, ValueError):
        return None


async def answer(job: Job, view: dict[str, Any], waited: float) -> Response:
    """The response for ``job`` after a wait of ``waited`` seconds (``view``: its JobView as JSON)."""
    headers = {"Location": f"/jobs/{job.id}", "X-Job-State": job.state, "X-Runner-Wait": f"{waited:g}"}
    if job.state not in FINISHED:
        return JSONResponse(view, status_code=202, headers=headers)
    if job.state == COMPLETED and job.report_path:
        text = await asyncio.to_thread(_read_report, job.report_path)
        if text is not None:
            return Response(text, status_code=200, media_type="application/json", headers=headers)
        error = {"code": "report_missing", "message": f"job {job.id} completed but its report is unreadable",
                 "fix": f"POST /jobs/{job.id}/retry"}
        return JSONResponse({"error": {**error, "job": view}}, status_code=409, headers=headers)
    error = dict(job.error or {"code": job.state, "message": f"the job ended {job.state}"})
    error.setdefault("fix", None)
    status = FAILED_STATUS.get(job.state, 500 if error.get("code") == "internal" else 422)
    return JSONResponse({"error": {**error, "job": view}}, status_code=status, headers=headers)
