"""runner.api.heartbeat: the worker's row in the job store, and the check the compose healthcheck runs."""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time

from runner.api.heartbeat import Heartbeat, check
from runner.api.jobs import JobStore


def _pool(slots=2, alive=2, running=(), stopping=False):
    return lambda: {"slots": slots, "alive": alive, "running": list(running), "stopping": stopping}


def test_a_beating_worker_is_healthy_and_says_what_it_runs(tmp_path):
    db = JobStore(tmp_path / "jobs.sqlite3").path  # the beat lives in the job store beside the jobs
    beat = Heartbeat(db, _pool(running=["3f9c0e1a2b4d6e8f"]), every_s=0.05).start()
    try:
        v = check(db)
        assert v.healthy, v.message
        assert f"pid {os.getpid()}" in v.message and "3f9c0e1a2b4d6e8f" in v.message
        first = sqlite3.connect(db).execute("SELECT beat_at FROM workers").fetchone()[0]
        time.sleep(0.3)
        assert sqlite3.connect(db).execute("SELECT beat_at FROM workers").fetchone()[0] > first  # it keeps beating
    finally:
        beat.stop()
    v = check(db)
    assert not v.healthy and "stopped" in v.message


def test_a_stale_beat_is_a_stuck_worker(tmp_path):
    db = tmp_path / "jobs.sqlite3"
    beat = Heartbeat(db, _pool(), every_s=3600).start()  # one beat, then silence (a frozen process)
    assert check(db, max_age_s=30).healthy
    v = check(db, max_age_s=30, now=time.time() + 31)
    assert not v.healthy and "stuck" in v.message and "31 s old" in v.message
    beat._stop.set()


def test_a_dead_slot_thread_or_a_stopping_pool_is_unhealthy(tmp_path):
    db = tmp_path / "jobs.sqlite3"
    Heartbeat(db, _pool(slots=2, alive=1), every_s=3600).start()._stop.set()
    v = check(db)
    assert not v.healthy and "only 1 of 2 worker thread(s) alive" in v.message
    Heartbeat(db, _pool(stopping=True), every_s=3600).start()._stop.set()
    assert "stopping" in check(db).message and not check(db).healthy


def test_a_killed_worker_is_gone_at_once_not_after_the_max_age(tmp_path):
    db = tmp_path / "jobs.sqlite3"
    code = (f"import sys; sys.path.insert(0, {str(os.getcwd())!r});"
            "from pathlib import Path; from runner.api.heartbeat import Heartbeat;"
            f"Heartbeat(Path({str(db)!r}), lambda: {{'slots': 1, 'alive': 1}}, every_s=3600).start()")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)  # beats once, then exits
    row = sqlite3.connect(db).execute("SELECT pid, state FROM workers").fetchone()
    assert json.loads(row[1])["slots"] == 1
    v = check(db)
    assert not v.healthy and f"pid {row[0]}" in v.message and "gone" in v.message


def test_no_store_or_no_worker_yet(tmp_path):
    v = check(tmp_path / "missing.sqlite3")
    assert not v.healthy and "no job store" in v.message
    db = JobStore(tmp_path / "jobs.sqlite3").path  # the API made the store; no worker ever beat
    v = check(db)
    assert not v.healthy and f"from host {socket.gethostname()}" in v.message
    Heartbeat(db, _pool(), every_s=3600).start()._stop.set()
    assert not check(db, host="another-host").healthy  # a row of another host says nothing about this one


def test_runner_worker_health_exits_by_the_verdict(tmp_path, monkeypatch):
    """``runner worker --health``: the same check for a human (exit 0 healthy, 1 not, and why)."""
    from click.testing import CliRunner

    from runner.commands.main import cli

    monkeypatch.setenv("RUNNER_API_DATA_DIR", str(tmp_path))
    r = CliRunner().invoke(cli, ["worker", "--health"])
    assert r.exit_code == 1 and "UNHEALTHY: no job store" in r.output, r.output
    beat = Heartbeat(JobStore(tmp_path / "jobs.sqlite3").path, _pool(), every_s=3600).start()
    r = CliRunner().invoke(cli, ["worker", "--health", "--max-age", "5"])
    assert r.exit_code == 0 and r.output.startswith("healthy: worker pid"), r.output
    beat.stop()
    assert CliRunner().invoke(cli, ["worker", "--health"]).exit_code == 1


def test_a_worker_that_cannot_write_reports_refuses_to_start_and_says_how_to_fix_it(tmp_path):
    """Docker makes a missing bind-mount folder as root: the worker says so at start, not in each job."""
    import pytest

    from runner.core.api_config import ApiSettings
    from runner.api.worker import WorkerPool
    from runner.core.config import Settings
    from runner.core.errors import UsageError

    data = tmp_path / "api"
    data.mkdir()
    (data / "reports").write_text("")  # not a folder it can write (chmod would not stop root)
    pool = WorkerPool(JobStore(data / "jobs.sqlite3"), Settings.from_env(), ApiSettings(data_dir=data), registry={})
    with pytest.raises(UsageError) as err:
        pool.start()
    assert f"cannot write reports in {data / 'reports'}" in str(err.value)
    assert "install -d" in err.value.fix and not pool._threads and not (data / "server.lock").exists()
