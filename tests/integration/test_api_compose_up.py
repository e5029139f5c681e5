"""The compose deployment as ops start it (docs/api.md, "Start it"), against the real daemon (issue 28).

``docker-compose -f compose/docker-compose.yml up -d --build`` (Debian's docker-compose 1.29, the
legacy builder), with the one-time setup the docs give: a token, the docker group, a home the
containers' user (uid 10001) can write, and, behind a TLS-inspecting proxy as here, the system CA
bundle at ``images/ca/ca.crt``. Then: both services become healthy (the worker by its heartbeat, not
by HTTP it does not serve); a job posted the old system's way (no ``?wait=``; the server's default
wait) comes back as a report run by the worker in its own container; a frozen worker is seen as
stuck by the same check; and ``down`` leaves no container behind, the analyzers' included.
"""
from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from runner.core.config import REPO_ROOT, Settings
from tests import media
from tests.docker_sandboxes import connect_or_need, need
from tests.integration.test_download import free_port

pytestmark = [pytest.mark.docker, pytest.mark.slow]
COMPOSE = REPO_ROOT / "compose" / "docker-compose.yml"
CA = REPO_ROOT / "images" / "ca" / "ca.crt"
SYSTEM_CA = Path("/etc/ssl/certs/ca-certificates.crt")
ANALYZER = "temporal_flow"  # the cheapest real analyzer image (the cpu base, no extra packages)


def _compose(project: str, env: dict, *args: str, timeout: float = 1200) -> subprocess.CompletedProcess:
    return subprocess.run(["docker-compose", "-p", project, "-f", str(COMPOSE), *args], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=timeout)


def _health(container: str) -> str:
    return subprocess.run(["docker", "inspect", "-f", "{{.State.Health.Status}}", container],
                          capture_output=True, text=True).stdout.strip()


def _exec(container: str, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", "exec", container, *argv], capture_output=True, text=True, timeout=120)


def _signal_worker(container: str, sig: str) -> None:
    """SIGSTOP/SIGCONT the worker process inside its container (the exec runs as its uid)."""
    code = ("import os, signal\n"
            "for p in os.listdir('/proc'):\n"
            "    if p.isdigit() and int(p) != os.getpid():\n"
            "        try: cmd = open(f'/proc/{p}/cmdline', 'rb').read().split(b'\\0')\n"
            "        except OSError: continue\n"
            "        if b'runner.commands.main' in cmd and b'worker' in cmd:\n"
            f"            os.kill(int(p), signal.{sig}); print(p)\n")
    proc = _exec(container, "python", "-c", code)
    assert proc.returncode == 0 and proc.stdout.strip(), proc.stderr


@pytest.fixture
def home():
    """A RUNNER_HOME the containers' user can reach (pytest's tmp folders are 0700 to everyone else)."""
    path = Path(tempfile.mkdtemp(prefix="ttr-compose-", dir="/tmp"))
    path.chmod(0o755)
    for sub in ("api/reports", "videos", "models"):   # docs/api.md, "Start it": install -d ... api/reports
        (path / sub).mkdir(parents=True)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_compose_up_runs_a_job_and_down_leaves_nothing(home):
    if shutil.which("docker-compose") is None:
        need("docker-compose is not installed (apt-get install docker-compose)")
    client = connect_or_need()
    from runner.core.registry import registry_for

    settings = Settings.from_env()
    image = f"{settings.image_prefix}/{ANALYZER}:{registry_for(settings)[ANALYZER].manifest.version}"
    for needed in (image, "localhost/tiktok-runner/media:1", "localhost/tiktok-runner/base-cpu:1"):
        try:
            client.images.get(needed)
        except Exception:
            need(f"{needed} is not built (make ci-images)")
    clip = media.testsrc(home / "videos" / "clip.mp4", seconds=2, size="180x320", rate=15)
    subprocess.run(["chown", "-R", "10001:10001", str(home)], check=True)
    made_ca = not CA.exists() and SYSTEM_CA.is_file()
    if made_ca:  # docs/api.md: behind a TLS-inspecting proxy the build needs the CA bundle here
        shutil.copyfile(SYSTEM_CA, CA)
    project = f"ttr28{secrets.token_hex(3)}"
    port = free_port()
    token = secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNNER_")}
    env.update({"RUNNER_API_TOKEN": token, "RUNNER_HOME": str(home), "RUNNER_API_PORT": str(port),
                "DOCKER_GID": str(os.stat("/var/run/docker.sock").st_gid), "RUNNER_MODELS_DIR": str(home / "models"),
                "RUNNER_API_DEFAULT_WAIT_S": "300"})
    try:
        t0 = time.monotonic()
        up = _compose(project, env, "up", "-d", "--build")
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        built_s = time.monotonic() - t0
        ids = {svc: _compose(project, env, "ps", "-q", svc).stdout.strip() for svc in ("api", "worker")}
        assert all(ids.values()), ids
        deadline = time.monotonic() + 180
        while {svc: _health(c) for svc, c in ids.items()} != {"api": "healthy", "worker": "healthy"}:
            states = {svc: _health(c) for svc, c in ids.items()}
            assert "unhealthy" not in states.values() and time.monotonic() < deadline, (
                states, _compose(project, env, "logs", "--tail", "40").stdout[-4000:])
            time.sleep(2)
        healthy_s = time.monotonic() - t0

        # the old system's call: no ?wait=, the report in the answer (RUNNER_API_DEFAULT_WAIT_S)
        r = httpx.post(f"http://127.0.0.1:{port}/analyze", headers={"Authorization": f"Bearer {token}"},
                       json={"video_path": str(clip), "analyzers": [ANALYZER]}, timeout=330)
        assert r.status_code == 200, r.text[:2000]
        report = r.json()
        assert report["run"]["backend"] == "docker" and report["run"]["input"]["path"] == str(clip)
        assert report["analyzers"][ANALYZER]["status"] == "ok", report["analyzers"][ANALYZER]
        worker_host = report["run"]["host"]  # the worker container's hostname: its analyzers' runner-host label

        # a frozen worker is stuck for its healthcheck; thawed, healthy again
        check = ["python", "-m", "runner.api.heartbeat", "--max-age", "8"]
        assert _exec(ids["worker"], *check).returncode == 0
        _signal_worker(ids["worker"], "SIGSTOP")
        time.sleep(10)
        stuck = _exec(ids["worker"], *check)
        _signal_worker(ids["worker"], "SIGCONT")
        assert stuck.returncode == 1 and "stuck" in stuck.stdout, stuck.stdout + stuck.stderr
        deadline = time.monotonic() + 30
        while _exec(ids["worker"], *check).returncode != 0:
            assert time.monotonic() < deadline, "the worker did not beat again after SIGCONT"
            time.sleep(1)

        down = _compose(project, env, "down", timeout=300)
        assert down.returncode == 0, down.stderr[-3000:]
        left = client.containers.list(all=True, filters={"label": f"com.docker.compose.project={project}"})
        assert left == [], left
        analyzers_left = client.containers.list(all=True, filters={"label": f"org.tiktok-runner.runner-host={worker_host}"})
        assert analyzers_left == [], analyzers_left
        print(f"\ncompose: up --build and both healthy in {healthy_s:.0f}s (build {built_s:.0f}s)")
    finally:
        _compose(project, env, "down", "--remove-orphans", timeout=300)
        if made_ca:
            CA.unlink(missing_ok=True)
