"""A runner killed mid-run leaves containers behind; the next run removes them (and only them)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from runner.core.config import REPO_ROOT
from shared_schema.envelope import Status
from tests.integration.test_docker_sandbox import (  # noqa: F401  (fixtures)
    PROJECT_FILTER, TOYS, docker_client, docker_settings, drun, toy_images, toy_registry)


def _containers_of(client, pid: int) -> list:
    return [c for c in client.containers.list(all=True, filters=PROJECT_FILTER, ignore_removed=True)
            if c.labels.get("org.tiktok-runner.runner-pid") == str(pid)]


def _start_runner(tmp_path, video) -> subprocess.Popen:
    env = {**os.environ, "RUNNER_ANALYZERS_DIR": str(TOYS), "RUNNER_TEST_ANALYZERS": "1",
           "RUNNER_WORK_ROOT": str(tmp_path / "killed-runs")}
    return subprocess.Popen([sys.executable, "-m", "runner.commands.main", "analyze", str(video), "--backend", "docker",
                             "--only", "toy_hang", "--set", "toy_hang.timeout_s=300", "--quiet"],
                            cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.docker
@pytest.mark.slow
def test_sigkilled_runner_leaves_nothing_after_the_next_run(tmp_path, sample_video, docker_client, drun):
    proc = _start_runner(tmp_path, sample_video)
    try:
        deadline = time.monotonic() + 60
        # the media sandbox's probe/extraction containers come and go first: wait for the analyzer's
        while not [c for c in _containers_of(docker_client, proc.pid)
                   if c.status == "running" and c.labels.get("org.tiktok-runner.analyzer") == "toy_hang"]:
            assert proc.poll() is None, "the runner exited before its container started"
            assert time.monotonic() < deadline, "no running container of the runner after 60 s"
            time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        # SIGKILL gives the runner no chance to clean up: its container is still there
        orphans = _containers_of(docker_client, proc.pid)
        assert orphans and all(c.labels["org.tiktok-runner.analyzer"] == "toy_hang" for c in orphans)

        outcome = drun(sample_video, ["toy_good"])
        assert outcome.report.analyzers["toy_good"].status is Status.ok
        assert _containers_of(docker_client, proc.pid) == []
        assert any("removed 1 container" in n for n in outcome.report.run.notices)
    finally:
        if proc.poll() is None:
            proc.kill()
        for c in _containers_of(docker_client, proc.pid):
            c.remove(force=True)


@pytest.mark.docker
def test_cleanup_spares_a_live_runners_containers(docker_client, docker_settings, toy_registry):
    """A container labelled with a live runner's pid (here: this test's parent) survives cleanup."""
    from runner.backends.docker import LABEL, PROJECT, PROJECT_LABEL, DockerBackend, _start_ticks

    live = os.getppid()
    c = docker_client.containers.create(
        "localhost/tiktok-runner/toy_good:1.0.0", command=["sleep", "30"], network_mode="none",
        labels={PROJECT_LABEL: PROJECT, f"{LABEL}.run": "other-live-run", f"{LABEL}.runner-pid": str(live),
                f"{LABEL}.runner-start": _start_ticks(live), f"{LABEL}.runner-host": os.uname().nodename})
    try:
        backend = DockerBackend.from_settings(docker_settings, toy_registry)
        backend.cleanup_stale()
        c.reload()  # raises NotFound if cleanup removed it
        # the same pid with another start time is a reused pid: that runner is dead
        c2 = docker_client.containers.create(
            "localhost/tiktok-runner/toy_good:1.0.0", command=["sleep", "30"], network_mode="none",
            labels={**c.labels, f"{LABEL}.runner-start": "1"})
        assert backend.cleanup_stale() == 1
        left = docker_client.containers.list(all=True, filters=PROJECT_FILTER, ignore_removed=True)
        assert c2.id not in [x.id for x in left]
    finally:
        c.remove(force=True)


@pytest.mark.docker
def test_interrupt_stops_and_removes_this_runs_containers(docker_settings, toy_registry, sample_video,
                                                          docker_client):
    """Ctrl-C (Executor.interrupt): the running container is killed and removed, the entry says so."""
    import threading

    from runner.run.pipeline import AnalyzeRequest, analyze
    from shared_schema.envelope import SkipReason

    seen = []

    def interrupt_once_running(executor):
        def watch():
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                mine = [c for c in _containers_of(docker_client, os.getpid()) if c.status == "running"]
                if mine:
                    seen.extend(mine)
                    executor.interrupt()
                    return
                time.sleep(0.2)
        threading.Thread(target=watch, daemon=True).start()

    t0 = time.monotonic()
    outcome = analyze(AnalyzeRequest(source=str(sample_video), only=["toy_hang"], backend="docker",
                                     params={"toy_hang": {"timeout_s": 120}}),
                      docker_settings, registry=toy_registry, executor_hook=interrupt_once_running)
    assert seen, "the toy never ran"
    env = outcome.report.analyzers["toy_hang"]
    assert env.status is Status.skipped and env.skip_reason is SkipReason.interrupted
    assert time.monotonic() - t0 < 60
    assert _containers_of(docker_client, os.getpid()) == []
