"""compose/docker-compose.yml as docker-compose 1.29 reads it (``config`` needs no daemon)."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml

from runner.core.config import REPO_ROOT

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
    services = yaml.safe_load(proc.stdout)["services"]
    assert set(services) == {"api", "worker"}

    def volumes(svc) -> list[str]:
        return [v if isinstance(v, str) else f"{v['source']}:{v['target']}" for v in svc.get("volumes", [])]

    # issue 14: the process that parses requests holds no Docker socket; only the worker does
    for name, svc in services.items():
        has_socket = any("docker.sock" in v for v in volumes(svc))
        assert has_socket == (name == "worker"), name
        assert svc["read_only"] is True and svc["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in svc["security_opt"], name
        assert svc["image"].startswith("localhost/"), name  # a local name: never pulled
        assert svc["logging"]["options"]["max-size"] and svc["logging"]["options"]["max-file"]

    api = services["api"]
    assert api["command"][api["command"].index("serve") + 1:api["command"].index("serve") + 3] == ["--role", "api"]
    assert "group_add" not in api and "ports" not in services["worker"]
    env = api["environment"]
    assert env["RUNNER_API_TOKEN"] == "t0ken"
    # it sees the job store (rw), the reports (ro: issue 23, it can plant no link where the worker
    # writes them) and the drop folder (ro), nothing else of RUNNER_HOME
    assert sorted(volumes(api)) == sorted([f"{home}/api:{home}/api:rw", f"{home}/api/reports:{home}/api/reports:ro",
                                           f"{home}/videos:{home}/videos:ro"])
    assert env["RUNNER_API_DATA_DIR"] == f"{home}/api" and env["RUNNER_API_ROOTS"] == f"{home}/videos"
    assert "/health" in " ".join(api["healthcheck"]["test"])
    assert any(p.get("host_ip", "127.0.0.1") == "127.0.0.1" if isinstance(p, dict) else p.startswith("127.0.0.1:")
               for p in api["ports"])
    assert api["build"]["dockerfile"] == "images/Dockerfile.api"
    assert (REPO_ROOT / "images" / "Dockerfile.api").is_file()

    worker = services["worker"]
    assert worker["command"][-1] == "worker" and worker["image"] == api["image"]
    wenv = worker["environment"]
    assert wenv["RUNNER_BACKEND"] == "docker" and "RUNNER_API_TOKEN" not in wenv
    joined = " ".join(volumes(worker))
    assert "/var/run/docker.sock:/var/run/docker.sock" in joined
    # the daemon resolves analyzer bind mounts on the host: run folders keep their host path
    assert f"{home}:{home}" in joined and "/srv/models:/srv/models" in joined
    for key in ("RUNNER_WORK_ROOT", "RUNNER_API_DATA_DIR", "RUNNER_API_ROOTS", "RUNNER_DOWNLOAD_CACHE",
                "RUNNER_CACHE_DIR"):
        assert wenv[key].startswith(home + "/"), key
    assert wenv["RUNNER_API_DATA_DIR"] == env["RUNNER_API_DATA_DIR"]  # one job store


@pytest.mark.docker
def test_the_api_service_cannot_plant_anything_where_the_worker_writes_reports(tmp_path):
    """The api service's mounts, as compose resolves them, on the real daemon (issue 23): it writes
    the job store, but a symlink (or any file) in reports/ is refused, so the worker (which writes
    reports with fresh O_EXCL temp names anyway) has nothing planted there to write through."""
    from runner.core.config import Settings
    from runner.images.build import base_tag
    from tests.docker_sandboxes import connect_or_need, need

    home = tmp_path / "home"
    for d in ("api/reports", "videos"):
        (home / d).mkdir(parents=True)
    (home / "api" / "reports" / "job.json").write_text("{}")
    proc = _config({"RUNNER_API_TOKEN": "t0ken", "RUNNER_HOME": str(home)})
    assert proc.returncode == 0, proc.stderr
    api = yaml.safe_load(proc.stdout)["services"]["api"]
    client = connect_or_need()
    image = base_tag(Settings.from_env(), "cpu")
    try:
        client.images.get(image)
    except Exception:
        need(f"{image} is not built: runner images build --bases-only")
    binds = [v if isinstance(v, str) else f"{v['source']}:{v['target']}:{'ro' if v.get('read_only') else 'rw'}"
             for v in api["volumes"]]
    script = (f"cd {home}/api && touch jobs.sqlite3 && echo store-ok; "
              f"ln -s /etc/passwd reports/.job.json.1.tmp 2>/dev/null || echo link-refused; "
              f"echo x > reports/job.json 2>/dev/null || echo write-refused; cat reports/job.json; echo")
    # (the trailing echo: the container log drops a last line that has no newline)
    out = client.containers.run(image, ["sh", "-c", script], volumes=binds, network_mode="none",
                                user=f"{os.getuid()}:{os.getgid()}", remove=True).decode()
    assert out.split() == ["store-ok", "link-refused", "write-refused", "{}"], out
    assert sorted(p.name for p in (home / "api" / "reports").iterdir()) == ["job.json"]



def test_the_worker_is_checked_by_its_heartbeat_not_by_http(tmp_path):
    """The worker serves no HTTP: it must not inherit the image's /health check (issue 28)."""
    proc = _config({"RUNNER_API_TOKEN": "t0ken", "RUNNER_HOME": str(tmp_path), "RUNNER_API_DEFAULT_WAIT_S": "600"})
    assert proc.returncode == 0, proc.stderr
    services = yaml.safe_load(proc.stdout)["services"]
    check = services["worker"]["healthcheck"]
    assert check["test"][:4] == ["CMD", "python", "-m", "runner.api.heartbeat"], check
    assert "/health" not in " ".join(check["test"]) and not check.get("disable")
    assert "--max-age" in check["test"]
    assert services["api"]["environment"]["RUNNER_API_DEFAULT_WAIT_S"] == "600"  # old clients: docs/api.md
