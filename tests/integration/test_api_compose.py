"""compose/docker-compose.yml as docker-compose 1.29 reads it (``config`` needs no daemon)."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml

from runner.config import REPO_ROOT

COMPOSE = REPO_ROOT / "compose" / "docker-compose.yml"
pytestmark = pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")


def _config(env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("RUNNER_")}
    return subprocess.run(["docker-compose", "-f", str(COMPOSE), "config"], env={**base, **env},
                          capture_output=True, text=True, timeout=60)


def test_compose_needs_a_token():
    proc = _config({})
    assert proc.returncode != 0
    assert "RUNNER_API_TOKEN" in proc.stderr


def test_compose_service_shape(tmp_path):
    home = str(tmp_path / "home")
    proc = _config({"RUNNER_API_TOKEN": "t0ken", "RUNNER_HOME": home, "RUNNER_MODELS_DIR": "/srv/models"})
    assert proc.returncode == 0, proc.stderr
    api = yaml.safe_load(proc.stdout)["services"]["api"]
    env = api["environment"]
    assert env["RUNNER_API_TOKEN"] == "t0ken" and env["RUNNER_BACKEND"] == "docker"
    volumes = {v if isinstance(v, str) else f"{v['source']}:{v['target']}" for v in api["volumes"]}
    joined = " ".join(volumes)
    assert "/var/run/docker.sock:/var/run/docker.sock" in joined
    # the daemon resolves analyzer bind mounts on the host: run folders keep their host path
    assert f"{home}:{home}" in joined and "/srv/models:/srv/models" in joined
    for key in ("RUNNER_WORK_ROOT", "RUNNER_API_DATA_DIR", "RUNNER_API_ROOTS", "RUNNER_DOWNLOAD_CACHE", "RUNNER_CACHE_DIR"):
        assert env[key].startswith(home + "/"), key
    assert "/health" in " ".join(api["healthcheck"]["test"])
    assert api["logging"]["options"]["max-size"] and api["logging"]["options"]["max-file"]
    assert api["read_only"] is True and api["cap_drop"] == ["ALL"]
    assert any(p.get("host_ip", "127.0.0.1") == "127.0.0.1" if isinstance(p, dict) else p.startswith("127.0.0.1:")
               for p in api["ports"])
    assert api["build"]["dockerfile"] == "images/Dockerfile.api"
    assert (REPO_ROOT / "images" / "Dockerfile.api").is_file()
