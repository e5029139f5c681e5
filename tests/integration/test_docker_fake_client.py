"""DockerBackend against a stand-in client: how container states become outcomes (no daemon needed)."""
from __future__ import annotations

import threading
import time

import pytest
import requests

from runner.backends.base import LaunchSpec
from runner.backends.docker import DockerBackend
from runner.registry import load_registry
from tests.integration.test_docker_sandbox import TOYS

docker = pytest.importorskip("docker")


class FakeContainer:
    def __init__(self, client, kw, exit_code=0, oom=False, runs_s=0.0):
        self.client, self.kw, self.id = client, kw, f"{len(client.made):064d}"
        self.labels = kw["labels"]
        self.exit_code, self.oom, self.ends = exit_code, oom, time.monotonic() + runs_s
        self.killed = self.removed = False
        self.attrs = {}

    def wait(self, timeout=None):
        if self.killed or time.monotonic() >= self.ends:
            return {"StatusCode": self.exit_code}
        time.sleep(min(timeout or 0, max(0.0, self.ends - time.monotonic())))
        if time.monotonic() < self.ends:
            raise requests.exceptions.ConnectionError("read timed out")  # what the SDK raises
        return {"StatusCode": self.exit_code}

    def kill(self):
        self.killed, self.exit_code = True, 137

    def reload(self):
        self.attrs = {"State": {"ExitCode": self.exit_code, "OOMKilled": self.oom and not self.killed}}

    def logs(self, stdout=True, stderr=True):
        return b"analyzer output\n"

    def remove(self, force=False):
        self.removed = True


class FakeClient:
    def __init__(self, **outcome):
        self.outcome, self.made, self.run_failures = outcome, [], 0
        self.containers = self
        self.images = self

    # containers.*
    def run(self, **kw):
        if self.run_failures:
            self.run_failures -= 1
            raise docker.errors.APIError("500 Server Error", response=type("R", (), {"status_code": 500, "url": "fake", "reason": "boom"})())
        c = FakeContainer(self, kw, **self.outcome)
        self.made.append(c)
        return c

    def get(self, name):
        raise docker.errors.NotFound("no such container")

    def list(self, **kw):
        return [c for c in self.made if not c.removed]


@pytest.fixture
def spec(tmp_path):
    entry = load_registry([TOYS], include_test_only=True)["toy_good"]
    wd = tmp_path / "wd"
    (wd / "out" / "toy_good").mkdir(parents=True)
    return LaunchSpec(run_id="r1", entry=entry, workdir=wd, job_path=wd / "jobs" / "toy_good.json",
                      out_dir=wd / "out" / "toy_good", models_dir=None, memory_bytes=2**28, cpus=1.0,
                      timeout_s=0.6, pids=64, device="cpu", attempt=1)


def _launch(client, spec, cancel=None):
    backend = DockerBackend(client, "p")
    return backend.launch(spec, cancel or threading.Event()), backend


@pytest.mark.parametrize("outcome,expect", [
    ({"exit_code": 0}, dict(exit_code=0, oom_killed=False, signal=None, timed_out=False)),
    ({"exit_code": 137, "oom": True}, dict(exit_code=137, oom_killed=True, signal=9)),
    ({"exit_code": 134}, dict(exit_code=134, signal=6, oom_killed=False)),
    ({"exit_code": 1}, dict(exit_code=1, signal=None)),
    ({"exit_code": 0, "runs_s": 30}, dict(timed_out=True, oom_killed=False, signal=None)),
], ids=["ok", "oom", "abort", "exception", "hang"])
def test_state_becomes_outcome_and_container_is_removed(spec, outcome, expect):
    client = FakeClient(**outcome)
    raw, _ = _launch(client, spec)
    for k, v in expect.items():
        assert getattr(raw, k) == v, k
    (c,) = client.made
    assert c.removed and c.killed == raw.timed_out
    assert "analyzer output" in (spec.out_dir / "log.txt").read_text()
    if raw.timed_out:
        assert raw.duration_s < 5


def test_cancel_kills_and_reports_cancelled(spec):
    client = FakeClient(exit_code=0, runs_s=30)
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    raw, _ = _launch(client, spec.__class__(**{**spec.__dict__, "timeout_s": 30}), cancel)
    assert raw.cancelled and not raw.timed_out and client.made[0].killed


def test_transient_api_error_is_retried(spec):
    client = FakeClient(exit_code=0)
    client.run_failures = 2
    raw, _ = _launch(client, spec)
    assert raw.exit_code == 0 and len(client.made) == 1


def test_daemon_error_at_start_fails_only_this_analyzer(spec):
    client = FakeClient(exit_code=0)
    client.run_failures = 99
    raw, _ = _launch(client, spec)
    assert raw.exit_code is None and "docker error" in raw.detail
    assert "could not start the container" in (spec.out_dir / "log.txt").read_text()
