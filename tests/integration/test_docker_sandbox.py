"""Fault matrix in real containers: each failure costs only its own entry.

Every case runs beside ``toy_good``, which must come back ok with its results
intact. Needs a Docker daemon and the cpu base image (``make ci-images``); the
toy images are built here when missing or stale (a few seconds each on the base).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from runner.core.config import Settings
from runner.run.pipeline import AnalyzeRequest, analyze
from runner.core.registry import load_registry
from shared_schema.envelope import Status

TOYS = Path(__file__).resolve().parents[1] / "toy_analyzers"
TOY_IMAGES = ["toy_good", "toy_memhog", "toy_abort", "toy_hang", "toy_invalid", "toy_forkbomb",
              "toy_escape", "toy_oom_retry"]
PROJECT_FILTER = {"label": "org.tiktok-runner.project=tiktok-sandbox-runner"}


def _no_daemon(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"Docker daemon required in CI: {reason} (.ci/run starts dockerd)")
    pytest.skip(f"no Docker daemon: {reason}")


@pytest.fixture(scope="session")
def docker_client():
    from runner.backends.docker import connect
    from runner.core.errors import BackendUnavailable

    try:
        return connect(timeout=10)
    except BackendUnavailable as exc:
        _no_daemon(exc.reason)


@pytest.fixture(scope="session")
def toy_registry():
    # toys only: a half-written real analyzer elsewhere must not break the sandbox tests
    return load_registry([TOYS], include_test_only=True)


@pytest.fixture(scope="session")
def toy_images(docker_client, toy_registry):
    """Build the toys' images when missing or stale; needs the cpu base (make ci-images)."""
    from runner.images.build import BuildOptions, base_tag, build_images, image_status

    base = Settings.from_env()
    try:
        docker_client.images.get(base_tag(base, "cpu"))
    except Exception:
        msg = f"{base_tag(base, 'cpu')} is not built: run `make ci-images` (or runner images build --bases-only)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    status = image_status(base, {n: toy_registry[n] for n in TOY_IMAGES})
    todo = [n for n, s in status.items() if s != "built"]
    if todo:
        build_images(base, toy_registry, todo, BuildOptions(), echo=lambda s: None, client=docker_client)
    from runner.images.runner_images import MEDIA, build  # probe and extraction run in it on the docker backend

    build(docker_client, MEDIA, base, BuildOptions(), echo=lambda s: None)  # no-op when up to date
    return TOY_IMAGES


@pytest.fixture
def docker_settings(tmp_path, toy_images) -> Settings:
    return Settings.from_env().with_(analyzers_dirs=(TOYS,), work_root=tmp_path / "runs", include_test_only=True,
                                     models_dir=tmp_path / "models", backend="docker")


@pytest.fixture
def drun(docker_settings, toy_registry):
    """``drun(video, ["name"], name={...}) -> RunOutcome`` on the docker backend."""
    (docker_settings.models_dir).mkdir(exist_ok=True)

    def _run(video, only, **params):
        return analyze(AnalyzeRequest(source=str(video), only=only, backend="docker", params=params),
                       docker_settings, registry=toy_registry)
    return _run


def run_containers(client, run_id: str) -> list:
    return client.containers.list(all=True, filters={"label": f"org.tiktok-runner.run={run_id}"}, ignore_removed=True)


def assert_good_intact(outcome) -> None:
    env = outcome.report.analyzers["toy_good"]
    assert env.status is Status.ok, env.error
    r = env.result
    assert r["message"] == "hello"
    assert r["frames_seen"] == 8 and r["first_t"] == 0.0 and r["last_t"] == pytest.approx(3.5)
    assert r["audio_seconds"] == pytest.approx(4.0, abs=0.1)


def _oom(env):
    assert env.status is Status.oom and env.exit_code == 137


def _crashed_abort(env):
    assert env.status is Status.crashed and env.exit_code == 134
    assert "SIGABRT" in env.error.message


def _timeout(env):
    assert env.status is Status.timeout
    assert env.duration_s < 2 + 10  # its 2 s limit plus the kill, not the toy's endless sleep


def _invalid(env):
    assert env.status is Status.invalid_output
    assert "frames_seen" in env.error.message


def _forkbomb(env):
    assert env.status is Status.ok, env.error
    # pids = 32 counts every task of the container (init, python, its threads): fork stops short of it
    assert int(env.result["params"]["children"]) < 32
    assert env.result["params"]["refused"] == "EAGAIN"


def _escape(env):
    assert env.status is Status.ok, env.error
    p = env.result["params"]
    for probe in ("net_tcp", "net_dns", "write_root", "write_app", "write_input", "write_input_media",
                  "write_models", "setuid_root", "chown"):
        assert p[probe].startswith("blocked"), f"{probe}: {p[probe]}"
    for probe in ("write_root", "write_app", "write_input", "write_models"):
        assert "Read-only file system" in p[probe], f"{probe}: {p[probe]}"
    assert "unreachable" in p["net_tcp"] and "gaierror" in p["net_dns"]
    assert p["write_tmp"] == "ALLOWED" and p["write_out"] == "ALLOWED"
    assert p["uid"] == p["euid"] == "65534"


CASES = {"toy_memhog": _oom, "toy_abort": _crashed_abort, "toy_hang": _timeout, "toy_invalid": _invalid,
         "toy_forkbomb": _forkbomb, "toy_escape": _escape}


@pytest.mark.docker
@pytest.mark.parametrize("toy", list(CASES), ids=lambda t: t.removeprefix("toy_"))
def test_fault_costs_only_its_own_entry(drun, sample_video, docker_client, toy):
    outcome = drun(sample_video, [toy, "toy_good"])
    assert outcome.report.run.backend == "docker"
    CASES[toy](outcome.report.analyzers[toy])
    assert_good_intact(outcome)
    # every container of the run is gone, the killed and the crashed ones included
    assert run_containers(docker_client, outcome.workdir.name) == []
    log = (outcome.workdir / "logs" / f"{toy}.txt").read_text()
    assert "--- attempt 1:" in log


@pytest.mark.docker
def test_nothing_escapes_to_the_input(drun, sample_video):
    outcome = drun(sample_video, ["toy_escape"])
    assert outcome.report.analyzers["toy_escape"].status is Status.ok
    assert not (outcome.workdir / "escape-probe").exists()
    assert not (outcome.workdir / "out" / "toy_escape" / "probe").exists()


@pytest.mark.docker
def test_oom_retry_with_override_succeeds_degraded(drun, sample_video):
    outcome = drun(sample_video, ["toy_oom_retry", "toy_good"])
    env = outcome.report.analyzers["toy_oom_retry"]
    assert env.status is Status.ok, env.error
    assert [a.status for a in env.attempts] == [Status.oom, Status.ok]
    assert env.attempts[1].overrides == {"allocate_mb": 32}
    assert env.degraded and any("overrides" in r for r in env.degraded_reasons)
    assert env.result["params"]["allocate_mb"] == "32"
    assert_good_intact(outcome)


@pytest.mark.docker
def test_missing_image_is_skipped_with_the_build_command(docker_settings, toy_registry, sample_video):
    from runner.placement import place

    settings = docker_settings.with_(image_prefix="localhost/tiktok-runner-absent")
    # the media sandbox is built (it decodes the input first); only the analyzer's image is absent
    outcome = analyze(AnalyzeRequest(source=str(sample_video), only=["toy_good"], backend="docker",
                                     media_exec=place(docker_settings, "docker").media_exec()),
                      settings, registry=toy_registry)
    env = outcome.report.analyzers["toy_good"]
    assert env.status is Status.skipped and env.skip_reason.value == "image_missing"
    assert env.error.fix.startswith("runner images build toy_good")


def test_container_config_is_locked_down(tmp_path, toy_registry):
    """The exact sandbox the daemon is asked for (no daemon needed: a stand-in client)."""
    from runner.backends.base import LaunchSpec
    from runner.backends.docker import DockerBackend
    from runner.backends.permissions import container_user

    wd = tmp_path / "wd"
    spec = LaunchSpec(run_id="r1", entry=toy_registry["toy_good"], workdir=wd, job_path=wd / "jobs" / "toy_good.json",
                      out_dir=wd / "out" / "toy_good", models_dir=tmp_path / "models", memory_bytes=512 * 2**20,
                      cpus=1.5, timeout_s=60, pids=64, device="cpu", attempt=1)
    kw = DockerBackend(client=None, image_prefix="p").container_config(spec)
    assert kw["image"] == "p/toy_good:1.0.0"
    assert kw["network_mode"] == "none" and kw["read_only"] is True and kw["init"] is True
    assert kw["user"] == container_user() and kw["cap_drop"] == ["ALL"]
    assert kw["security_opt"] == ["no-new-privileges"]
    assert kw["mem_limit"] == kw["memswap_limit"] == 512 * 2**20
    assert kw["nano_cpus"] == 1_500_000_000 and kw["pids_limit"] == 64
    assert kw["volumes"][str(wd)] == {"bind": "/input", "mode": "ro"}
    assert kw["volumes"][str(wd / "out" / "toy_good")] == {"bind": "/out", "mode": "rw"}
    assert kw["volumes"][str(tmp_path / "models")] == {"bind": "/models", "mode": "ro"}
    assert kw["command"][-6:] == ["--job", "/input/jobs/toy_good.json", "--out", "/out", "--models", "/models"]
    assert kw["environment"]["PYTHONPATH"] == "/app" and kw["environment"]["OMP_NUM_THREADS"] == "2"
    assert "device_requests" not in kw
    assert kw["labels"]["org.tiktok-runner.run"] == "r1"
    assert kw["labels"]["org.tiktok-runner.runner-pid"] == str(os.getpid())
    gpu = DockerBackend(client=None, image_prefix="p").container_config(
        LaunchSpec(**{**spec.__dict__, "device": "cuda:1"}))
    assert gpu["device_requests"][0].device_ids == ["1"]


def test_docker_results_are_cached_by_image_id(drun, sample_video, docker_settings, toy_registry):
    first = drun(sample_video, ["toy_good"])
    assert_good_intact(first)
    assert first.report.analyzers["toy_good"].cache is None and (first.workdir / "jobs" / "toy_good.json").exists()
    second = drun(sample_video, ["toy_good"])
    env = second.report.analyzers["toy_good"]
    assert env.cache is not None and env.cache.run_id == first.report.run.run_id
    assert not (second.workdir / "jobs").exists()  # nothing was launched
    assert_good_intact(second)
    # the local backend runs other code: an entry made in the image is not its result
    local = analyze(AnalyzeRequest(source=str(sample_video), only=["toy_good"], backend="local"),
                    docker_settings.with_(backend="local"), registry=toy_registry)
    assert local.report.analyzers["toy_good"].cache is None
