"""``--backend auto`` falling back to local says so ONCE, readably, with the fix; the local backend
is reported as what it is: limits, not a sandbox (issue 14)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from runner.core.config import REPO_ROOT, Settings
from runner.placement import place
from runner.core.registry import load_registry
from tests import media
from tests.conftest import TOYS


def _choose(settings: Settings, requested: str, names=("toy_good",)):
    registry = load_registry((TOYS,), include_test_only=True)
    notices: list[str] = []
    backend = place(settings, requested, notices.append).backend(registry, list(names))
    return backend, notices


def test_auto_without_a_daemon_warns_once_naming_it(monkeypatch, tmp_path):
    sock = tmp_path / "docker.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{sock}")
    backend, notices = _choose(Settings(), "auto")
    assert backend.name == "local"
    assert len(notices) == 1, notices
    text = notices[0]
    assert f"no Docker daemon at unix://{sock} (no such socket" in text
    assert "NOT a sandbox" in text and "Fix:" in text and "dockerd" in text and "--backend docker" in text
    assert "DockerException" not in text and "Error while fetching" not in text

    # a socket nobody listens on: connection refused
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(sock))
    s.close()
    _, notices = _choose(Settings(), "auto")
    assert len(notices) == 1 and f"no Docker daemon at unix://{sock} (connection refused)" in notices[0]


def test_auto_with_a_missing_image_names_it(tmp_path):
    from runner.backends.docker import connect
    from runner.core.errors import BackendUnavailable

    try:
        connect(timeout=5)
    except BackendUnavailable as exc:
        pytest.skip(f"no Docker daemon: {exc.reason}")
    settings = Settings().with_(image_prefix="localhost/tiktok-runner-absent")
    backend, notices = _choose(settings, "auto")
    assert backend.name == "local" and len(notices) == 1, notices
    assert "no image localhost/tiktok-runner-absent/toy_good:1.0.0" in notices[0]
    assert "runner images build toy_good" in notices[0] and "NOT a sandbox" in notices[0]


def test_local_backend_says_it_is_not_a_sandbox(tmp_path):
    _, notices = _choose(Settings(), "local")
    assert len(notices) == 1 and "NOT a sandbox" in notices[0]
    video = media.testsrc(tmp_path / "clip.mp4", seconds=1)
    env = {**os.environ, "RUNNER_TEST_ANALYZERS": "1", "RUNNER_ANALYZERS_DIR": str(TOYS),
           "RUNNER_WORK_ROOT": str(tmp_path / "runs")}
    proc = subprocess.run([sys.executable, "-m", "runner.commands.main", "analyze", str(video), "--only", "toy_good",
                           "--backend", "local", "--out", str(tmp_path / "report.json")],
                          env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "backend local (NOT a sandbox" in proc.stderr
    from shared_schema.report import Report

    report = Report.model_validate_json((tmp_path / "report.json").read_text())
    assert report.run.backend == "local"
    assert any("NOT a sandbox" in n for n in report.run.notices)
