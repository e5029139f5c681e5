"""DockerBackend against a stand-in client: how container states become outcomes (no daemon needed)."""
from __future__ import annotations

import threading
import time

import pytest
import requests

from runner.backends.base import LaunchSpec
from runner.backends.docker import DockerBackend
from runner.core.registry import load_registry
from tests.integration.test_docker_sandbox import TOYS

docker = pytest.importorskip("docker")


class FakeContainer:
    def __init__(self, client, kw, exit_code=0, oom=False, runs_s=0.0):
        self.client, self.kw, self.id = client, kw, f"{len(client.made):064d}"
        self.labels = kw["labels"]
        self.exit_code, self.oom, self.runs_s = exit_code, oom, runs_s
        self.ends = float("inf")  # created, not started
        self.killed = self.removed = self.started = False
        self.attrs = {}
        self.output = client.output

    def start(self):
        self.started, self.ends = True, time.monotonic() + self.runs_s

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

    def logs(self, stdout=True, stderr=True, stream=False, follow=True):
        assert stream and not follow, "logs are streamed, never read whole"
        return iter(self.output)

    def remove(self, force=False):
        self.removed = True


class FakeClient:
    def __init__(self, **outcome):
        self.outcome, self.made, self.run_failures = outcome, [], 0
        self.output = [b"analyzer output\n"]
        self.containers = self
        self.images = self

    # containers.*
    def run(self, **kw):
        raise AssertionError("containers.run pulls a missing image: the backend must create + start")

    def create(self, **kw):
        assert "detach" not in kw
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
    assert "analyzer output" in spec.log_file.read_text()
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
    assert "could not start the container" in spec.log_file.read_text()


def test_log_flood_is_cut_at_the_cap_into_the_runners_own_log(spec):
    client = FakeClient(exit_code=0)
    client.output = (b"x" * 65536 for _ in range(10_000))  # 640 MiB if it were read whole
    capped = spec.__class__(**{**spec.__dict__, "log_cap": 100_000})
    raw, _ = _launch(client, capped)
    assert raw.exit_code == 0
    text = capped.log_file.read_text()
    assert capped.log_file == capped.workdir / "logs" / "toy_good.txt"
    assert "log truncated at 100000 bytes" in text and len(text) < 100_000 + 1000
    assert not (spec.out_dir / "log.txt").exists()


def test_container_config_bounds_the_daemons_log_and_never_runs(spec):
    kw = DockerBackend(FakeClient(), "p").container_config(spec)
    assert kw["log_config"]["type"] == "json-file" and kw["log_config"]["config"]["max-file"] == "1"
    assert "detach" not in kw


def test_missing_image_is_an_error_not_a_pull(spec):
    client = FakeClient(exit_code=0)

    def create(**kw):
        raise docker.errors.ImageNotFound("no such image")
    client.create = create
    raw, _ = _launch(client, spec)
    assert raw.exit_code is None and "docker error" in raw.detail
