"""A job row the API process wrote is counted before the worker parses it (issue 23's leftover).

A compromised API process can write any bytes into the job store. Before this, the worker's
``claim_next`` ran ``json.loads`` on the whole request column: a row of 100,000 ``[`` crashed it
with RecursionError, and a row of many megabytes was built into objects whatever its size.
"""
from __future__ import annotations

import json
import sqlite3

import pytest

from runner.api.jobs import FAILED, MAX_REQUEST_BYTES, JobStore


def _plant(db, job_id: str, request: str) -> None:
    with sqlite3.connect(db) as c:
        c.execute("INSERT INTO jobs (id, state, request, created_at) VALUES (?, 'queued', ?, 't')", (job_id, request))


@pytest.mark.parametrize("request_text, why", [
    ("[" * 100_000, "nested deeper than 16"),
    (json.dumps({"a": [[]] * 20_000}), "more than 10000 JSON values"),
    ('{"pad": "' + "x" * (MAX_REQUEST_BYTES + 1) + '"}', "over the cap"),
    ('"just a string"', "not a JSON object"),
])
def test_a_planted_row_fails_without_being_parsed_and_the_queue_goes_on(tmp_path, request_text, why):
    store = JobStore(tmp_path / "jobs.sqlite3")
    _plant(tmp_path / "jobs.sqlite3", "planted", request_text)
    good = store.create({"video_path": "/videos/a.mp4"})
    claimed = store.claim_next()
    assert claimed is not None and claimed.id == good.id      # the worker goes on to the next job
    bad = store.get("planted")                                # and every reader can still list it
    assert bad.state == FAILED and bad.error["code"] == "bad_request" and why in bad.error["message"]
    assert bad.request == {}
    assert [j.id for j in store.list()[0]] == [good.id, "planted"]
