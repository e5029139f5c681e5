"""The API and the worker as ops run them, under load and faults (issue 28), on the docker backend.

Two real processes, ``runner serve --role api`` and ``runner worker``, share a real SQLite job store
(audited by triggers: every insert, state change and finish is logged in the database itself);
analyzers are the toys, in their images, on 1-2 s made clips, so 200 jobs take minutes. The
machinery is in ``tests/api_load.py``; ``make bench BENCH_ARGS=api`` runs the same load longer.

- 200 submissions from 8 concurrent clients, with hostile requests between them and jobs that turn
  hostile after they were queued: every request gets its answer, every job ends exactly once in the
  state its kind must reach, every report is its own job's and none is lost or extra, nothing is
  left running, and the API's and the worker's RSS at job 200 is within 10% of job 20.
- The worker alone is SIGKILLed mid-job (its container survives it), and the API is restarted while
  clients poll: the killed job ends ``interrupted`` with the reason, the next worker removes the
  orphaned container and the job's media (input copy, frames, audio; its logs stay) before it takes
  a job, every other job ends once, clients only see the outage.
- The workdir's disk (a 64 MiB tmpfs) fills up while a job writes: that job fails ``disk_full`` with
  a clear error, the space comes back, the job store and the other jobs are intact.
"""
from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from tests import media
from tests.api_load import Client, Deployment, check_load, ensure_images, planned, run_load, tmpfs
from tests.docker_sandboxes import connect_or_need, need
from tests.integration.test_api import wait_state

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def load_images():
    """A daemon, the toys' images and the media sandbox's (built on the cpu base when missing)."""
    from runner.core.config import Settings
    from runner.images.build import base_tag

    client = connect_or_need()
    try:
        client.images.get(base_tag(Settings.from_env(), "cpu"))
    except Exception:
        need("the cpu base image is not built: make ci-images (or runner images build --bases-only)")
    ensure_images(client)
    return client


def test_200_jobs_from_8_clients_each_end_exactly_once(tmp_path, load_images, record_property):
    run = run_load(tmp_path, clients=8, jobs=200)
    try:
        figs = check_load(run, load_images)
        record_property("figures", figs)
        print(f"\nload: {figs}")
        assert figs["states"] == {"completed": 8 * 22, "failed": 8 * 2, "cancelled": 8}, figs["states"]
        assert figs["refused"] == 8 * 14
        # memory: what the processes hold at job 200 is what they held at job 20 (no per-job leak)
        (api20, worker20), (api200, worker200) = figs["rss_kib"][20], figs["rss_kib"][200]
        assert abs(api200 - api20) <= 0.10 * api20, figs["rss_kib"]
        assert abs(worker200 - worker20) <= 0.10 * worker20, figs["rss_kib"]
    finally:
        run.dep.stop()


def _running_container(dep: Deployment, client, analyzer: str, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while True:
        found = [c for c in dep.containers(client)
                 if c.status == "running" and c.labels.get("org.tiktok-runner.analyzer") == analyzer]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no running {analyzer} container: {dep.log()}"
        time.sleep(0.2)


def _media_made(dep: Deployment, job_id: str, timeout: float = 120) -> Path:
    """The job's workdir, as its row records it, once toy_good has finished there (so its input
    copy, frames and audio are on disk)."""
    deadline = time.monotonic() + timeout
    while True:
        with sqlite3.connect(dep.db, timeout=30) as c:
            workdir, progress = c.execute("SELECT workdir, progress FROM jobs WHERE id = ?", (job_id,)).fetchone()
        done = json.loads(progress).get("analyzers", {}).get("toy_good", {}).get("state") not in (None, "running")
        if workdir and done:
            workdir = Path(workdir)
            assert workdir.parent == dep.root / "runs"
            assert (workdir / "input").is_dir() and list((workdir / "frames").rglob("*.jpg"))
            assert list((workdir / "audio").glob("*.wav")) and (workdir / "logs" / "toy_good.txt").is_file()
            return workdir
        assert time.monotonic() < deadline, f"job {job_id} made no media: {workdir} {progress} {dep.log()}"
        time.sleep(0.2)


def test_the_worker_killed_mid_job_and_the_api_restarted_while_clients_poll(tmp_path, load_images):
    dep = Deployment(tmp_path, env={"RUNNER_API_WORKERS": "1"}).start()
    try:
        clip = media.testsrc(dep.api.videos / "clip.mp4", seconds=1, size="180x320", rate=15)
        hung = planned("cancel", clip, "")  # toy_hang for 300 s: it is mid-job when the worker dies
        hung.state, hung.codes = "interrupted", ("interrupted",)
        hung.body["analyzers"] = ["toy_good", "toy_hang"]  # toy_good has frames and audio extracted first
        rest = [planned("fresh", clip, f"after the kill {i}") for i in range(6)]
        with dep.api.client() as http:
            for p in (hung, *rest):
                p.job_id = http.post("/analyze", json=p.body, params={"wait": 0}).json()["id"]
        orphan = _running_container(dep, load_images, "toy_hang")
        workdir = _media_made(dep, hung.job_id)
        clients = [Client(dep, [p], [], give_up_s=300) for p in (hung, *rest)]
        for c in clients:
            c.start()

        dep.kill_worker(signal.SIGKILL)  # the worker alone: the API keeps answering
        orphan.reload()
        assert orphan.status == "running"  # SIGKILL gave the worker no chance to stop it
        rc, out = dep.health()
        assert rc == 1 and "gone" in out, out  # the healthcheck sees the dead worker at once
        with dep.api.client() as http:
            assert http.get(f"/jobs/{hung.job_id}").json()["state"] == "running"  # until a worker recovers it

        dep.restart_api(signal.SIGKILL, down_s=2)  # while the clients poll
        dep.start_worker()
        # the new worker removes the orphan before it takes a job ("removed 1 container(s) left by a
        # worker that stopped mid-job" in its log), unless another runner on this host did it first
        deadline = time.monotonic() + 20
        while orphan.id in {c.id for c in load_images.containers.list(all=True, ignore_removed=True)}:
            assert time.monotonic() < deadline, f"the orphaned container is still there: {dep.log()}"
            time.sleep(0.5)
        for c in clients:
            c.join(300)
            assert c.error is None, repr(c.error)
        assert sum(c.transport_errors for c in clients) > 0  # the clients did see the API go away

        final = hung.final
        assert final["state"] == "interrupted" and final["error"]["code"] == "interrupted"
        assert "stopped before it finished" in final["error"]["message"] and "retry" in final["error"]["fix"]
        # the new worker emptied the killed run's workdir of its media; what explains the run stays
        assert not [d for d in ("input", "frames", "audio", "tmp") if (workdir / d).exists()], sorted(workdir.rglob("*"))
        assert (workdir / "logs" / "toy_good.txt").is_file() and (workdir / "jobs" / "toy_hang.json").is_file()
        audit = dep.audit()
        for p in (hung, *rest):
            ends = [new for _, new in audit[p.job_id] if new in ("completed", "failed", "cancelled", "interrupted")]
            assert ends == [p.state], (p.kind, audit[p.job_id])
            assert p.seen[-1] == p.state and p.final["runs"] == 1
        with dep.api.client() as http:
            for p in rest:
                report = http.get(f"/jobs/{p.job_id}/report").json()
                assert report["analyzers"]["toy_good"]["result"]["message"] == p.message
            # the interrupted job runs again when asked, and can be stopped again
            assert http.post(f"/jobs/{hung.job_id}/retry").json()["state"] == "queued"
            _running_container(dep, load_images, "toy_hang")
            assert http.delete(f"/jobs/{hung.job_id}").status_code == 202
            assert wait_state(http, hung.job_id, {"cancelled"}, timeout=60)["runs"] == 2
        assert dep.health()[0] == 0
        deadline = time.monotonic() + 30
        while dep.containers(load_images) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert dep.containers(load_images) == []
    finally:
        dep.stop()
        for c in dep.containers(load_images):
            c.remove(force=True)


@pytest.fixture
def small_disk(tmp_path):
    """A 64 MiB tmpfs for the workdirs."""
    with tmpfs(tmp_path / "runs", "64m") as path:
        yield path


def test_a_full_workdir_disk_fails_only_the_job_that_filled_it(tmp_path, small_disk, load_images):
    dep = Deployment(tmp_path, env={"RUNNER_API_WORKERS": "1", "RUNNER_WORK_ROOT": str(small_disk)}).start()
    try:
        clip = media.testsrc(dep.api.videos / "clip.mp4", seconds=1, size="180x320", rate=15)
        with dep.api.client() as http:
            def submit(body):
                return http.post("/analyze", json={"video_path": str(clip), **body}, params={"wait": 0}).json()["id"]

            before_id = submit({"analyzers": ["toy_good"]})
            assert wait_state(http, before_id, {"completed", "failed"}, 120)["state"] == "completed"
            free_before = shutil.disk_usage(small_disk).free
            filler = submit({"analyzers": ["toy_diskfill"], "options": {"toy_diskfill.fill_mb": 256}})
            after_id = submit({"analyzers": ["toy_good"], "options": {"toy_good.greeting": "after the flood"}})
            job = wait_state(http, filler, {"completed", "failed"}, 180)
            assert job["state"] == "failed", job
            err = job["error"]
            assert err["code"] == "disk_full", err
            assert "no space left on the disk of" in err["message"] and str(small_disk) in err["message"]
            assert "out/toy_diskfill" in err["message"] and "RUNNER_WORK_ROOT" in err["fix"]
            assert "Traceback" not in err["message"]
            assert job["progress"]["analyzers"]["toy_diskfill"]["state"] != "running"
            # the space came back: what the run wrote is gone (its envelope and log stay, a few KiB)
            assert shutil.disk_usage(small_disk).free >= free_before - 2**20
            assert not list(small_disk.glob("*/out/toy_diskfill/fill.bin"))
            # the job queued behind it runs, and the earlier job's report is intact
            after = wait_state(http, after_id, {"completed", "failed"}, 120)
            assert after["state"] == "completed", after
            assert http.get(f"/jobs/{after_id}/report").json()["analyzers"]["toy_good"]["result"]["message"] == \
                "after the flood"
            assert http.get(f"/jobs/{before_id}/report").json()["analyzers"]["toy_good"]["status"] == "ok"
            assert http.get("/jobs").json()["total"] == 3
        with sqlite3.connect(dep.db) as c:
            assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert dep.containers(load_images) == []
        assert dep.health()[0] == 0
    finally:
        dep.stop()
