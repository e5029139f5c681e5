"""The answers of ``POST /analyze?wait=`` for each way a job can end (runner/api/wait.py), on a real store."""
from __future__ import annotations

import asyncio
import json

import pytest

from runner.api.jobs import CANCELLED, COMPLETED, FAILED, INTERRUPTED, JobStore
from runner.api.wait import answer, wait_for_job


@pytest.fixture
def store(tmp_path):
    return JobStore(tmp_path / "jobs.sqlite3")


def _answer(store, job_id, waited=1.0):
    job = asyncio.run(wait_for_job(store, job_id, waited))
    return job, asyncio.run(answer(job, {"id": job.id, "state": job.state}, waited))


def test_unfinished_at_the_end_of_the_wait_is_202(store):
    job = store.create({"video_path": "/v.mp4"})
    got, r = _answer(store, job.id, 0.3)
    assert got.state == "queued" and r.status_code == 202
    assert r.headers["location"] == f"/jobs/{job.id}" and r.headers["x-runner-wait"] == "0.3"


def test_completed_is_200_with_the_report_text(store, tmp_path):
    job = store.create({"video_path": "/v.mp4"})
    store.claim_next()
    report = tmp_path / "r.json"
    report.write_text(json.dumps({"analyzers": {"a": {"status": "ok"}}}))
    store.finish(job.id, COMPLETED, report_path=str(report))
    _, r = _answer(store, job.id)
    assert r.status_code == 200 and json.loads(r.body) == {"analyzers": {"a": {"status": "ok"}}}
    report.write_text("{not json")
    _, r = _answer(store, job.id)
    assert r.status_code == 409 and json.loads(r.body)["error"]["code"] == "report_missing"


@pytest.mark.parametrize("state,code,status", [(FAILED, "input_error", 422), (FAILED, "download_network", 422),
                                               (FAILED, "internal", 500), (CANCELLED, "cancelled", 409),
                                               (INTERRUPTED, "interrupted", 503)])
def test_a_job_ended_otherwise_answers_its_error_and_view(store, state, code, status):
    job = store.create({"video_path": "/v.mp4"})
    store.claim_next()
    store.finish(job.id, state, error={"code": code, "message": "why"})
    _, r = _answer(store, job.id)
    body = json.loads(r.body)
    assert r.status_code == status and set(body) == {"error"}
    assert body["error"]["code"] == code and body["error"]["job"] == {"id": job.id, "state": state}


def test_a_finished_job_answers_at_once(store):
    job = store.create({"video_path": "/v.mp4"})
    store.claim_next()
    store.finish(job.id, FAILED, error={"code": "input_error", "message": "x"})
    t0 = asyncio.run(_timed(store, job.id))
    assert t0 < 1.0


async def _timed(store, job_id):
    loop = asyncio.get_running_loop()
    start = loop.time()
    await wait_for_job(store, job_id, 30)
    return loop.time() - start
