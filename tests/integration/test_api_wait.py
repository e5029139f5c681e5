"""``POST /analyze?wait=SECONDS`` against real servers: the old system's call (the report in the answer).

Reuses ``ApiServer`` from ``test_api.py`` and ``Worker`` from ``test_api_roles.py``: the wait polls
the SQLite job store, so it also works when a separate ``runner worker`` process runs the job.
"""
from __future__ import annotations

import time

import pytest

from tests.integration.test_api import ApiServer, procs_mentioning, wait_state
from tests.integration.test_api_roles import Worker


@pytest.fixture
def capped(tmp_path, request):
    cap = getattr(request, "param", 60)
    srv = ApiServer(tmp_path, extra_env={"RUNNER_API_MAX_WAIT_S": str(cap)}).start()
    yield srv
    srv.cleanup()


def test_wait_answers_with_the_report_of_a_fast_job(capped):
    video = capped.video(seconds=2)
    with capped.client() as api:
        r = api.post("/analyze", params={"wait": 3600},
                     json={"video_path": str(video), "analyzers": ["toy_good"],
                           "options": {"toy_good.greeting": "waited for"}})
        assert r.status_code == 200, r.text
        report = r.json()
        assert report["analyzers"]["toy_good"]["status"] == "ok"
        assert report["analyzers"]["toy_good"]["result"]["message"] == "waited for"
        assert report["run"]["input"]["path"] == str(video)
        job_id = r.headers["location"].rsplit("/", 1)[1]
        assert r.headers["x-job-state"] == "completed"
        assert r.headers["x-runner-wait"] == "60"         # 3600 s asked, clamped to RUNNER_API_MAX_WAIT_S
        # the same report as the job's own
        assert api.get(f"/jobs/{job_id}/report").json() == report
        # without wait: 202 and the job, as before
        r = api.post("/analyze", json={"video_path": str(video), "analyzers": ["toy_good"]})
        assert r.status_code == 202 and r.json()["state"] == "queued"
        # wait=0 is no wait; a negative or non-finite wait is an invalid request
        assert api.post("/analyze", params={"wait": 0}, json={"video_path": str(video)}).status_code == 202
        for bad in ("-1", "nan", "inf", "soon"):
            r = api.post("/analyze", params={"wait": bad}, json={"video_path": str(video)})
            assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request", (bad, r.text)


@pytest.mark.parametrize("capped", [3], indirect=True)
def test_a_slow_job_answers_202_at_the_cap(capped):
    video = capped.video(seconds=2)
    with capped.client() as api:
        t0 = time.monotonic()
        r = api.post("/analyze", params={"wait": 600},
                     json={"video_path": str(video), "analyzers": ["toy_hang"], "options": {"toy_hang.timeout_s": 120}})
        took = time.monotonic() - t0
        assert r.status_code == 202, r.text
        job = r.json()
        assert job["state"] in ("queued", "running") and r.headers["location"] == f"/jobs/{job['id']}"
        assert r.headers["x-runner-wait"] == "3" and r.headers["x-job-state"] == job["state"]
        assert 3 <= took < 30                      # the cap, not the 600 s asked for (loose: 2 shared cores)
        assert api.delete(f"/jobs/{job['id']}").status_code == 202
        assert wait_state(api, job["id"], {"cancelled", "completed", "failed"})["state"] == "cancelled"
    assert procs_mentioning(str(capped.root / "runs")) == []


def test_a_job_that_fails_within_the_wait_answers_its_error(capped):
    # passes the submit-time sniff (an mp4 'ftyp' box) but is no video: the job fails when probed
    bogus = capped.videos / "bogus.mp4"
    bogus.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00garbage" * 4000)
    with capped.client() as api:
        r = api.post("/analyze", params={"wait": 30}, json={"video_path": str(bogus), "analyzers": ["toy_good"]})
        assert r.status_code == 422, r.text
        body = r.json()
        assert set(body) == {"error"}                        # the API's error shape, as every 4xx
        assert body["error"]["code"] and body["error"]["message"]
        assert body["error"]["job"]["state"] == "failed"
        assert body["error"]["job"]["error"]["code"] == body["error"]["code"]
        assert r.headers["x-job-state"] == "failed"


def test_wait_works_when_a_separate_worker_runs_the_job(tmp_path):
    srv = ApiServer(tmp_path, args=("--role", "api")).start()
    worker = Worker(srv)
    try:
        video = srv.video(seconds=2)
        with srv.client() as api:
            r = api.post("/analyze", params={"wait": 90}, json={"video_path": str(video), "analyzers": ["toy_good"]})
            assert r.status_code == 200, (r.text, worker.log.read_text()[-2000:])
            assert r.json()["analyzers"]["toy_good"]["status"] == "ok"
            assert r.headers["x-runner-wait"] == "90"
    finally:
        worker.stop()
        srv.cleanup()


def test_an_old_client_gets_the_report_without_asking_to_wait(tmp_path):
    """RUNNER_API_DEFAULT_WAIT_S: a client of the old system POSTs /analyze as it always did (no
    ``?wait=``) and reads the report from the response; ``wait=0`` still answers at once."""
    srv = ApiServer(tmp_path, extra_env={"RUNNER_API_DEFAULT_WAIT_S": "900", "RUNNER_API_MAX_WAIT_S": "60"}).start()
    try:
        video = srv.video(seconds=2)
        bogus = srv.videos / "bogus.mp4"
        bogus.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00garbage" * 4000)
        with srv.client() as api:
            r = api.post("/analyze", json={"video_path": str(video), "analyzers": ["toy_good"],
                                           "options": {"toy_good.greeting": "old client"}})
            assert r.status_code == 200, r.text
            report = r.json()  # what the old system's client reads
            assert report["analyzers"]["toy_good"]["result"]["message"] == "old client"
            assert report["run"]["input"]["path"] == str(video)
            assert r.headers["x-runner-wait"] == "60"   # the default is clamped to the cap like any wait
            job_id = r.headers["location"].rsplit("/", 1)[1]
            assert api.get(f"/jobs/{job_id}/report").json() == report
            # a new client opts out with wait=0: 202 and the job, at once
            r = api.post("/analyze", params={"wait": 0}, json={"video_path": str(video), "analyzers": ["toy_good"]})
            assert r.status_code == 202 and r.json()["state"] in ("queued", "running")
            # a video that fails: the old client's raise_for_status() stops on it
            r = api.post("/analyze", json={"video_path": str(bogus), "analyzers": ["toy_good"]})
            assert r.status_code == 422 and r.json()["error"]["job"]["state"] == "failed", r.text
            assert api.get("/openapi.json").json()["paths"]["/analyze"]["post"]["parameters"][0]["name"] == "wait"
    finally:
        srv.cleanup()
