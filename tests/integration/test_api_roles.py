"""Deployment rules of the API (issue 14), against real uvicorn servers:

- tokenless loopback mode answers only requests whose ``Host`` is a loopback name (DNS rebinding);
- ``runner serve`` refuses the local backend (not a sandbox) unless explicitly allowed;
- ``--role api`` queues and runs nothing; a separate ``runner worker`` process on the same job store
  runs the job, writes its report page, and stops it when the API process flags a cancel.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx

from runner.core.config import REPO_ROOT
from tests.integration.test_api import ApiServer, procs_mentioning, wait_running, wait_state
from tests.integration.test_download import free_port


def _raw_get(port: int, path: str, host: str | None) -> tuple[int, bytes]:
    """A GET with exactly this Host header (or none), over a plain socket."""
    import socket

    head = f"GET {path} HTTP/1.1\r\n" + (f"Host: {host}\r\n" if host is not None else "") + "Connection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head.encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[1]


def test_tokenless_mode_refuses_a_foreign_host(tmp_path):
    srv = ApiServer(tmp_path, token=None).start()
    try:
        port = srv.port
        for host in ("evil.example", f"evil.example:{port}", f"rebind.attacker.test:{port}", "127.0.0.1.nip.io",
                     f"localhost.evil.example:{port}", f"127.0.0.1:{port}@evil", "0.0.0.0"):
            status, body = _raw_get(port, "/jobs", host)
            assert status == 421, (host, status, body)
            err = httpx.Response(200, content=body).json()["error"]
            assert err["code"] == "host_not_allowed" and "RUNNER_API_TOKEN" in err["fix"], host
        assert _raw_get(port, "/jobs", None)[0] == 400  # HTTP/1.1 without a Host: uvicorn refuses it already
        # nothing was queued by a POST under a foreign name either
        video = srv.video()
        with httpx.Client(base_url=srv.base, headers={"Host": "evil.example"}, timeout=30) as evil:
            r = evil.post("/analyze", json={"video_path": str(video), "analyzers": ["toy_good"]})
            assert r.status_code == 421 and r.json()["error"]["code"] == "host_not_allowed"
        for host in ("localhost", f"localhost:{port}", "127.0.0.1", f"127.0.0.1:{port}", f"[::1]:{port}", "[::1]"):
            status, body = _raw_get(port, "/jobs", host)
            assert status == 200, (host, status, body)
        assert httpx.get(f"{srv.base}/jobs").json()["total"] == 0
    finally:
        srv.cleanup()


def test_with_a_token_any_host_is_answered(tmp_path):
    srv = ApiServer(tmp_path).start()  # token on: a reverse proxy may forward any name
    try:
        assert _raw_get(srv.port, "/health", "api.example.com")[0] == 200
        assert _raw_get(srv.port, "/jobs", "api.example.com")[0] == 401  # the token still decides
    finally:
        srv.cleanup()


def _serve(tmp_path, env_extra: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNNER_API")}
    env.update({"RUNNER_API_DATA_DIR": str(tmp_path / "data"), **env_extra})
    return subprocess.run([sys.executable, "-m", "runner.commands.main", "serve", "--port", str(free_port()), *args], env=env,
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)


def test_serve_refuses_the_local_backend(tmp_path):
    proc = _serve(tmp_path, {"RUNNER_BACKEND": "local"})
    assert proc.returncode == 2, proc.stderr
    assert "not a sandbox" in proc.stderr.lower() and "--allow-unsandboxed" in proc.stderr
    assert "RUNNER_API_ALLOW_LOCAL=1" in proc.stderr and "Traceback" not in proc.stderr
    # auto without a daemon would fall back to local: refused, naming the daemon it could not reach
    proc = _serve(tmp_path, {"RUNNER_BACKEND": "auto", "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"})
    assert proc.returncode == 2, proc.stderr
    assert f"no Docker daemon at unix://{tmp_path}/no-docker.sock (no such socket" in proc.stderr
    assert "DockerException" not in proc.stderr and "Traceback" not in proc.stderr
    # the worker alone refuses it too
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNNER_API")}
    env.update({"RUNNER_API_DATA_DIR": str(tmp_path / "data"), "RUNNER_BACKEND": "local"})
    proc = subprocess.run([sys.executable, "-m", "runner.commands.main", "worker"], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "not a sandbox" in proc.stderr.lower(), proc.stderr


class Worker:
    """``runner worker`` on an ApiServer's data dir and environment."""

    def __init__(self, srv: ApiServer):
        self.srv = srv
        self.log = srv.root / "worker.log"
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "runner.commands.main", "worker"], env=srv.env, cwd=REPO_ROOT,
                                         stdout=log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def test_api_role_queues_and_a_separate_worker_runs_the_job(tmp_path):
    srv = ApiServer(tmp_path, args=("--role", "api")).start()
    worker = None
    try:
        video = srv.video(seconds=2)
        with srv.client() as api:
            job_id = api.post("/analyze", json={"video_path": str(video), "analyzers": ["toy_good"]}).json()["id"]
            time.sleep(2.5)
            assert api.get(f"/jobs/{job_id}").json()["state"] == "queued"  # the API process runs nothing
            assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
            worker = Worker(srv)
            job = wait_state(api, job_id, {"completed", "failed"}, timeout=90)
            assert job["state"] == "completed", (job, worker.log.read_text()[-2000:])
            assert api.get(f"/jobs/{job_id}/report").json()["analyzers"]["toy_good"]["status"] == "ok"
            # the worker wrote the page when the job finished; the API process only reads it
            page_file = tmp_path / "data" / "reports" / f"{job_id}.html"
            assert page_file.is_file()
            before = page_file.stat().st_mtime_ns
            r = api.get(f"/jobs/{job_id}/report.html")
            assert r.status_code == 200 and "<html" in r.text
            assert page_file.stat().st_mtime_ns == before

            # a page that is missing is not rendered by the API process
            page_file.unlink()
            r = api.get(f"/jobs/{job_id}/report.html")
            assert r.status_code == 409 and r.json()["error"]["code"] == "no_report_page"

            # DELETE in the API process stops the job the worker process runs
            slow = api.post("/analyze", json={"video_path": str(video), "analyzers": ["toy_hang"],
                                              "options": {"toy_hang.timeout_s": 120}}).json()["id"]
            wait_running(api, slow, "toy_hang")
            assert api.delete(f"/jobs/{slow}").status_code == 202
            cancelled = wait_state(api, slow, {"cancelled", "completed", "failed"}, timeout=40)
            assert cancelled["state"] == "cancelled", cancelled
            assert procs_mentioning(str(tmp_path / "runs")) == []
        assert "api-worker" not in srv.log.read_text()
    finally:
        if worker is not None:
            worker.stop()
        srv.cleanup()


def test_the_interactive_docs_are_off_unless_asked_for(tmp_path):
    """issue 23: FastAPI's /docs and /redoc pages load unpinned JavaScript from a CDN (no SRI); a
    server offers them only with RUNNER_API_DOCS=1. The spec itself is plain JSON, always served."""
    srv = ApiServer(tmp_path).start()
    try:
        for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
            status, body = _raw_get(srv.port, path, "127.0.0.1")
            assert status == 404 and b"cdn" not in body.lower(), (path, status)
        status, body = _raw_get(srv.port, "/openapi.json", "127.0.0.1")
        assert status == 200 and b'"/analyze"' in body
    finally:
        srv.cleanup()
    srv = ApiServer(tmp_path / "with-docs", extra_env={"RUNNER_API_DOCS": "1"}).start()
    try:
        status, body = _raw_get(srv.port, "/docs", "127.0.0.1")
        assert status == 200 and b"swagger-ui" in body   # what the setting knowingly turns on
    finally:
        srv.cleanup()


def test_allow_unsandboxed_warns_that_analyzers_can_read_the_servers_secrets():
    """issue 23: on the local backend an analyzer is a plain process of the server's user; it read
    RUNNER_API_TOKEN from the parent's /proc/<pid>/environ. Allowing it says so."""
    from runner.core.config import Settings
    from runner.placement import server_settings

    for backend in ("local", "auto"):
        said: list[str] = []
        assert server_settings(Settings.from_env().with_(backend=backend), True, said.append).backend == backend
        assert len(said) == 1
        err = said[0]
        assert "WARNING" in err and "/proc/<pid>/environ" in err and "RUNNER_API_TOKEN" in err, err
        assert "RUNNER_COOKIES_FILE" in err and "RUNNER_PROXIES" in err, err


def test_a_local_analyzer_can_read_the_servers_environment(tmp_path):
    """What the warning is about, shown: a process the server starts (as the local backend starts an
    analyzer) reads the server's token from /proc/<ppid>/environ."""
    token = "secret-" + os.urandom(8).hex()
    child = ("import os; print(open(f'/proc/{os.getppid()}/environ','rb').read().split(b'\\0'))")
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}], env={{}})"
    out = subprocess.run([sys.executable, "-c", parent], env={**os.environ, "RUNNER_API_TOKEN": token},
                         capture_output=True, text=True, timeout=60).stdout
    assert token in out  # an empty environment for the child does not hide the parent's
