"""Where a run's work happens is decided once (issue 29): a run on the docker backend opens one
Docker client for the analyzers, the media sandbox and the downloader, and ``--backend auto``
without a daemon says so in one notice."""
from __future__ import annotations

import pytest

from runner.core.config import Settings
from runner.core.registry import load_registry
from runner.run.pipeline import AnalyzeRequest, analyze
from shared_schema.envelope import Status
from tests.conftest import TOYS
from tests.integration.test_docker_sandbox import (  # noqa: F401  (fixtures)
    docker_client, docker_settings, toy_images, toy_registry)


@pytest.fixture
def clients_opened(monkeypatch) -> list:
    """Every ``docker.DockerClient`` made from here on (``docker.from_env`` makes one too)."""
    import docker

    made: list = []
    real = docker.DockerClient.__init__

    def counting(self, *args, **kwargs):
        made.append(self)
        real(self, *args, **kwargs)

    monkeypatch.setattr(docker.DockerClient, "__init__", counting)
    return made


@pytest.mark.docker
def test_a_docker_run_opens_one_client(docker_settings, toy_registry, sample_video, clients_opened):
    docker_settings.models_dir.mkdir(exist_ok=True)
    outcome = analyze(AnalyzeRequest(source=str(sample_video), only=["toy_good"], backend="docker"),
                      docker_settings, registry=toy_registry)
    assert outcome.report.run.backend == "docker" and outcome.report.run.media_exec == "docker"
    assert outcome.report.analyzers["toy_good"].status is Status.ok
    assert len(clients_opened) == 1, f"{len(clients_opened)} Docker clients in one run"


def test_auto_without_a_daemon_says_so_once(monkeypatch, tmp_path, settings, sample_video, clients_opened):
    """Media, analyzers (and a download) all fall back to the host: one notice for the run, not one each."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-docker.sock'}")
    settings = settings.with_(backend="auto")
    registry = load_registry((TOYS,), include_test_only=True)
    outcome = analyze(AnalyzeRequest(source=str(sample_video), only=["toy_good"]), settings, registry=registry)
    run = outcome.report.run
    assert run.backend == "local" and run.media_exec == "host"
    fell_back = [n for n in run.notices if "fell back" in n]
    assert len(fell_back) == 1, run.notices
    assert "analyzers, ffprobe/ffmpeg and URL downloads" in fell_back[0] and "NOT a sandbox" in fell_back[0]
    assert "no such socket" in fell_back[0] and "Fix:" in fell_back[0]
    assert outcome.report.analyzers["toy_good"].status is Status.ok


def test_local_opens_no_client(settings, sample_video, clients_opened):
    registry = load_registry((TOYS,), include_test_only=True)
    outcome = analyze(AnalyzeRequest(source=str(sample_video), only=["toy_good"], backend="local"), settings,
                      registry=registry)
    assert outcome.report.run.backend == "local" and clients_opened == []


def test_one_client_serves_media_downloads_and_analyzers(monkeypatch):
    """The placement asks for the client once, however many of the three it places."""
    import runner.placement as placement

    opened: list = []

    class _Client:
        class images:  # noqa: N801 - the SDK's shape
            @staticmethod
            def get(tag):
                import docker.errors

                raise docker.errors.ImageNotFound(f"no such image: {tag}")

        def close(self):
            opened.append("closed")

    monkeypatch.setattr(placement, "_connect", lambda timeout=10: opened.append("opened") or _Client())
    notes: list[str] = []
    where = placement.place(Settings(), "auto", notes.append)
    where.media_exec(), where.fetcher(), where.backend(load_registry((TOYS,), include_test_only=True), ["toy_good"])
    where.close()
    assert opened == ["opened", "closed"]
    assert [n.split(":")[0] for n in notes] == ["WARNING"] * 3  # three images missing: each says what it moves


# -- the worker's clean-up of a killed worker's containers (runner/api/orphans.py) ---------------------
def test_orphans_take_the_placements_client_and_close_it(monkeypatch):
    """remove_orphans opens no client of its own: it asks the placement, once, and closes what it got."""
    import runner.placement as placement
    from runner.api.orphans import remove_orphans

    calls: list = []

    class _Client:
        class containers:  # noqa: N801 - the SDK's shape
            @staticmethod
            def list(**kw):
                calls.append("listed")
                return []

        def close(self):
            calls.append("closed")

    monkeypatch.setattr(placement, "_connect", lambda timeout=10: calls.append("opened") or _Client())
    assert remove_orphans(Settings(backend="docker")) == 0
    assert calls == ["opened", "listed", "closed"]
    calls.clear()
    assert remove_orphans(Settings(backend="local")) == 0 and calls == []


def test_orphans_without_a_daemon_warn_and_start(monkeypatch, tmp_path, caplog):
    from runner.api.orphans import remove_orphans

    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-docker.sock'}")
    assert remove_orphans(Settings(backend="docker")) == 0
    assert "could not look for containers left by a stopped worker" in caplog.text


@pytest.mark.docker
def test_orphans_of_a_dead_runner_are_removed_with_one_client(docker_client, clients_opened, monkeypatch):
    """A container labelled with a dead runner of this host (a live pid with another start time: a
    reused pid) is removed; a live runner's survives; one Docker client, closed."""
    import os

    import docker

    from runner.api.orphans import remove_orphans
    from runner.backends.docker import LABEL, PROJECT, PROJECT_LABEL, _start_ticks
    from runner.images.build import base_tag

    closed: list = []
    real_close = docker.DockerClient.close
    monkeypatch.setattr(docker.DockerClient, "close", lambda self: closed.append(self) or real_close(self))
    settings = Settings.from_env().with_(backend="docker")
    live = os.getppid()
    labels = {PROJECT_LABEL: PROJECT, f"{LABEL}.run": "test-orphans", f"{LABEL}.runner-pid": str(live),
              f"{LABEL}.runner-start": _start_ticks(live), f"{LABEL}.runner-host": os.uname().nodename}
    made = [docker_client.containers.create(base_tag(settings, "cpu"), command=["true"], network_mode="none",
                                            labels={**labels, f"{LABEL}.runner-start": start})
            for start in (labels[f"{LABEL}.runner-start"], "1")]
    clients_opened.clear()  # count from here: the fixture's own client is not the worker's
    try:
        assert remove_orphans(settings) >= 1
        left = {c.id for c in docker_client.containers.list(all=True, filters={"label": f"{LABEL}.run=test-orphans"})}
        assert left == {made[0].id}
        assert len(clients_opened) == 1 and closed == clients_opened
    finally:
        for c in made:
            try:
                c.remove(force=True)
            except docker.errors.NotFound:
                pass
