"""`runner serve` for real: a uvicorn subprocess on a free loopback port, real jobs on real video.

Toy analyzers keep jobs fast (``RUNNER_ANALYZERS_DIR`` = the toys); one test adds a real
classical analyzer. Helpers (``ApiServer``) are shared with ``test_api_schema.py``.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from runner.core.config import REPO_ROOT
from tests import media
from tests.conftest import require_env
from tests.integration.test_download import LoopbackServer, free_port

TOKEN = "test-token-0123456789"
TOYS = REPO_ROOT / "tests" / "toy_analyzers"


def procs_mentioning(text: str) -> list[int]:
    """Pids whose command line contains ``text`` (to find analyzer processes a job started)."""
    pids = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit() and int(p.name) != os.getpid():
            try:
                if text in p.joinpath("cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    pids.append(int(p.name))
            except OSError:
                pass
    return pids


class ApiServer:
    """``runner serve`` in a subprocess; ``start()``/``stop()`` can be called again on the same data dir."""

    def __init__(self, root: Path, *, token: str | None = TOKEN, analyzers_dirs: list[Path] = (TOYS,),
                 extra_env: dict[str, str] | None = None, args: tuple[str, ...] = ()):
        self.args = list(args)  # e.g. ("--role", "api")
        self.root = root
        self.videos = root / "videos"
        self.videos.mkdir(parents=True, exist_ok=True)
        self.token = token
        self.port = free_port()
        # the local backend is not a sandbox: a server refuses it unless allowed (tests run toys on it)
        self.env = {**os.environ, "RUNNER_TEST_ANALYZERS": "1", "RUNNER_BACKEND": "local", "RUNNER_API_ALLOW_LOCAL": "1",
                    "RUNNER_ANALYZERS_DIR": os.pathsep.join(map(str, analyzers_dirs)),
                    "RUNNER_API_DATA_DIR": str(root / "data"), "RUNNER_API_ROOTS": str(self.videos),
                    "RUNNER_WORK_ROOT": str(root / "runs"), "RUNNER_DOWNLOAD_CACHE": str(root / "cache"),
                    "RUNNER_CACHE_DIR": str(root / "results"),
                    **(extra_env or {})}
        self.env.pop("RUNNER_API_TOKEN", None)
        if token:
            self.env["RUNNER_API_TOKEN"] = token
        self.proc: subprocess.Popen | None = None
        self.log = root / "server.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, token: str | None = "default") -> httpx.Client:
        token = self.token if token == "default" else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=30)

    def start(self) -> "ApiServer":
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "runner.commands.main", "serve", "--port", str(self.port),
                                          *self.args],
                                         env=self.env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not answer: {self.log.read_text()[-2000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def cleanup(self) -> None:
        self.stop()
        # a SIGKILLed server leaves its analyzer processes behind: end exactly those
        for pid in procs_mentioning(str(self.root / "runs")):
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def video(self, name: str = "clip.mp4", seconds: float = 2) -> Path:
        return media.testsrc(self.videos / name, seconds=seconds)


def wait_state(client: httpx.Client, job_id: str, states: set[str], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/jobs/{job_id}").json()
        if job["state"] in states:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['state']}: {job}")
        time.sleep(0.2)


def wait_running(client: httpx.Client, job_id: str, analyzer: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/jobs/{job_id}").json()
        if job["progress"].get("analyzers", {}).get(analyzer, {}).get("state") == "running":
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.2)


@pytest.fixture
def server(tmp_path):
    srv = ApiServer(tmp_path).start()
    yield srv
    srv.cleanup()


@pytest.fixture
def api(server):
    with server.client() as c:
        yield c


# -- auth ------------------------------------------------------------------------------------------
def test_requests_need_the_bearer_token(server):
    with server.client(token=None) as anon, server.client(token="wrong") as wrong, server.client() as ok:
        assert anon.get("/health").json()["status"] == "ok"          # liveness stays open
        for client in (anon, wrong):
            for method, path in (("GET", "/jobs"), ("GET", "/analyzers"), ("POST", "/analyze"),
                                 ("GET", "/jobs/0123456789abcdef"), ("DELETE", "/jobs/0123456789abcdef")):
                r = client.request(method, path, json={"video_path": "/x"} if method == "POST" else None)
                assert r.status_code == 401, (method, path, r.text)
                assert r.json()["error"]["code"] == "unauthorized"
                assert r.headers["www-authenticate"] == "Bearer"
        assert ok.get("/jobs").status_code == 200
        names = {a["name"] for a in ok.get("/analyzers").json()}
        assert {"toy_good", "toy_hang"} <= names
        assert ok.get("/openapi.json").json()["paths"]["/analyze"]["post"]


def test_serve_refuses_a_public_address_without_a_token(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "RUNNER_API_TOKEN"}
    env["RUNNER_API_DATA_DIR"] = str(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "runner.commands.main", "serve", "--host", "0.0.0.0", "--port",
                           str(free_port())], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "RUNNER_API_TOKEN" in proc.stderr


# -- a full job --------------------------------------------------------------------------------------
def test_a_job_runs_through_to_its_report(server, api):
    video = server.video(seconds=3)
    r = api.post("/analyze", json={"video_path": str(video), "analyzers": ["toy_good"],
                                   "options": {"toy_good.greeting": "hi from the API"}})
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    assert r.headers["location"] == f"/jobs/{job_id}"
    job = wait_state(api, job_id, {"completed", "failed"})
    assert job["state"] == "completed", job
    assert job["progress"]["analyzers"]["toy_good"]["state"] == "ok"
    assert job["progress"]["total"] == 1 and job["progress"]["done"] == 1
    assert job["summary"]["all_ok"] is True
    report = api.get(job["report_url"]).json()
    toy = report["analyzers"]["toy_good"]
    assert toy["status"] == "ok"
    assert toy["result"]["message"] == "hi from the API"
    assert toy["result"]["frames_seen"] == 6                     # 3 s at 2 fps
    assert report["run"]["input"]["path"] == str(video)
    page = api.get("/jobs", params={"limit": 1}).json()
    assert page["total"] == 1 and page["items"][0]["id"] == job_id
    assert api.get("/jobs", params={"state": "queued"}).json()["total"] == 0
    # a finished job can be neither cancelled nor retried
    assert api.delete(f"/jobs/{job_id}").status_code == 409
    assert api.post(f"/jobs/{job_id}/retry").status_code == 409


def test_a_tiktok_url_job_downloads_through_the_allowlist(tmp_path):
    clip = media.testsrc(tmp_path / "served.mp4", seconds=2).read_bytes()
    with LoopbackServer({"/@u/video/1.mp4": clip}) as origin:
        srv = ApiServer(tmp_path / "srv", extra_env={"RUNNER_URL_ALLOWLIST": "127.0.0.1",
                                                      "RUNNER_ALLOW_PRIVATE_URLS": "1"}).start()
        try:
            with srv.client() as api:
                url = origin.url("/@u/video/1.mp4")
                r = api.post("/analyze", json={"tiktok_url": url, "analyzers": ["toy_good"]})
                assert r.status_code == 202, r.text
                job = wait_state(api, r.json()["id"], {"completed", "failed"})
                assert job["state"] == "completed", job
                assert any("download" in n for n in job["progress"]["notices"])
                report = api.get(job["report_url"]).json()
                assert report["run"]["input"]["url"] == url
                assert report["analyzers"]["toy_good"]["result"]["frames_seen"] == 4
        finally:
            srv.cleanup()


@pytest.mark.slow
def test_a_real_classical_analyzer_through_the_api(tmp_path, settings):
    require_env(settings, "cpu")
    srv = ApiServer(tmp_path, analyzers_dirs=[REPO_ROOT / "analyzers", TOYS]).start()
    try:
        with srv.client() as api:
            if "color_analysis" not in {a["name"] for a in api.get("/analyzers").json()}:
                pytest.skip("color_analysis is not in this checkout")
            video = srv.videos / "red_blue.mp4"
            media.solid_cuts(video, ["red", "blue"], seconds_each=1.5)
            r = api.post("/analyze", json={"video_path": str(video), "analyzers": ["color_analysis", "cut_analysis"]})
            assert r.status_code == 202, r.text
            job = wait_state(api, r.json()["id"], {"completed", "failed"}, timeout=180)
            assert job["state"] == "completed", job
            report = api.get(job["report_url"]).json()
            env = report["analyzers"]["color_analysis"]
            assert env["status"] == "ok", env
            assert env["result"]  # the analyzer's own tests check its content; here: it came back whole
            wd = Path(report["run"]["workdir"])  # a server keeps results and logs, not the frames
            assert (wd / "logs" / "color_analysis.txt").is_file() and not (wd / "frames").exists()

            # the same report as a page: self-contained, and the server's CSP forbids any fetch
            page = api.get(f"/jobs/{job['id']}/report.html")
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert "default-src 'none'" in page.headers["content-security-policy"]
            assert "color_analysis" in page.text and "Cuts and scenes" in page.text
            assert api.get(f"/jobs/{job['id']}/report.html", headers={"Authorization": ""}).status_code == 401
        _page_obeys_its_csp(srv, f"{srv.base}/jobs/{job['id']}/report.html")
    finally:
        srv.cleanup()


def _page_obeys_its_csp(srv, url: str) -> None:
    """Chromium loads the served page under its CSP with no violation, error or request but the page."""
    from tests.browser import Browser, find_chromium

    if find_chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium missing in CI: .ci/run installs it")
        return
    with Browser() as browser:
        page = browser.load(url, ready="document.querySelector('#timeline .main-svg') !== null",
                            headers={"Authorization": f"Bearer {srv.token}"})
    assert page.errors == [] and page.requests == [url]


# -- durability, cancel, retry -------------------------------------------------------------------------
def hang_then_queue(api, video) -> tuple[str, str]:
    """A job that hangs (running) and one queued behind it (one worker on this machine)."""
    slow = api.post("/analyze", json={"video_path": str(video), "analyzers": ["toy_hang"],
                                      "options": {"toy_hang.timeout_s": 120}}).json()["id"]
    queued = api.post("/analyze", json={"video_path": str(video), "analyzers": ["toy_good"]}).json()["id"]
    wait_running(api, slow, "toy_hang")
    return slow, queued


@pytest.mark.slow
def test_restart_mid_queue_loses_no_job(tmp_path):
    """Graceful restart: the running job ends interrupted (retryable), the queued one runs afterwards."""
    srv = ApiServer(tmp_path).start()
    try:
        video = srv.video()
        with srv.client() as api:
            slow, queued = hang_then_queue(api, video)
            assert api.get(f"/jobs/{queued}").json()["state"] == "queued"  # one worker on this machine
        srv.stop(signal.SIGTERM)
        assert procs_mentioning(str(tmp_path / "runs")) == []          # shutdown stopped the analyzer
        srv.start()
        with srv.client() as api:
            done = wait_state(api, queued, {"completed", "failed"})
            assert done["state"] == "completed", done
            hung = api.get(f"/jobs/{slow}").json()
            assert hung["state"] == "interrupted"
            assert "retry" in hung["error"]["fix"]
            # the interrupted job's partial report says what happened to its analyzer
            report = api.get(f"/jobs/{slow}/report").json()
            assert report["run"]["interrupted"] is True
            env = report["analyzers"]["toy_hang"]
            assert env["status"] == "skipped" and env["skip_reason"] == "interrupted", env
            # retry it, then cancel it while it runs: its process is stopped
            assert api.post(f"/jobs/{slow}/retry").json()["state"] == "queued"
            wait_running(api, slow, "toy_hang")
            assert procs_mentioning(str(tmp_path / "runs"))
            r = api.delete(f"/jobs/{slow}")
            assert r.status_code == 202
            cancelled = wait_state(api, slow, {"cancelled", "completed", "failed"}, timeout=30)
            assert cancelled["state"] == "cancelled" and cancelled["runs"] == 2
            assert procs_mentioning(str(tmp_path / "runs")) == []
            report = api.get(f"/jobs/{slow}/report").json()
            assert report["analyzers"]["toy_hang"]["skip_reason"] == "interrupted"
            assert "interrupted: cancelled through the API" in report["run"]["notices"]
    finally:
        srv.cleanup()


@pytest.mark.slow
def test_a_crashed_server_marks_its_running_job_interrupted(tmp_path):
    srv = ApiServer(tmp_path).start()
    try:
        video = srv.video()
        with srv.client() as api:
            slow, queued = hang_then_queue(api, video)
        srv.stop(signal.SIGKILL)
        srv.cleanup()  # the orphaned analyzer process (a real crash would leave it too)
        srv.start()
        with srv.client() as api:
            assert api.get(f"/jobs/{slow}").json()["state"] == "interrupted"
            assert wait_state(api, queued, {"completed", "failed"})["state"] == "completed"
    finally:
        srv.cleanup()


def test_cancelling_a_queued_job(server, api):
    video = server.video()
    slow = api.post("/analyze", json={"video_path": str(video), "analyzers": ["toy_hang"],
                                      "options": {"toy_hang.timeout_s": 60}}).json()["id"]
    queued = api.post("/analyze", json={"video_path": str(video), "analyzers": ["toy_good"]}).json()["id"]
    r = api.delete(f"/jobs/{queued}")
    assert r.status_code == 202 and r.json()["state"] == "cancelled"
    assert api.get(f"/jobs/{queued}/report").status_code == 409
    api.delete(f"/jobs/{slow}")
    assert wait_state(api, slow, {"cancelled", "completed", "failed"}, timeout=30)["state"] == "cancelled"
    assert api.get(f"/jobs/{queued}").json()["runs"] == 0   # it never ran
    assert api.delete("/jobs/0123456789abcdef").status_code == 404


# -- what a request may name -------------------------------------------------------------------------
def test_paths_outside_the_roots_are_refused(server, api, tmp_path):
    outside = media.testsrc(tmp_path / "outside.mp4", seconds=1)
    (server.videos / "escape.mp4").symlink_to(outside)
    (server.videos / "dir_escape").symlink_to(tmp_path)
    inside = server.video()
    (server.videos / "ok_link.mp4").symlink_to(inside)
    cases = {
        str(server.videos / ".." / "outside.mp4"): (400, "path_traversal"),
        str(outside): (403, "path_outside_roots"),
        "/etc/passwd": (403, "path_outside_roots"),
        str(server.videos / "escape.mp4"): (403, "path_outside_roots"),
        str(server.videos / "dir_escape" / "outside.mp4"): (403, "path_outside_roots"),
        "videos/clip.mp4": (400, "bad_path"),
        str(server.videos / "missing.mp4"): (404, "not_found"),
        str(server.videos) + "/clip.mp4\x00.txt": (400, "bad_path"),
    }
    for path, (status, code) in cases.items():
        r = api.post("/analyze", json={"video_path": path, "analyzers": ["toy_good"]})
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), (path, r.text)
        assert "Traceback" not in r.text
    assert api.get("/jobs").json()["total"] == 0                      # nothing was queued
    # no symlink is followed under the roots, even one that stays inside them (issue 14: a link
    # checked at submit can be re-pointed before the worker opens it)
    r = api.post("/analyze", json={"video_path": str(server.videos / "ok_link.mp4"), "analyzers": ["toy_good"]})
    assert (r.status_code, r.json()["error"]["code"]) == (403, "path_outside_roots"), r.text
    assert api.post("/analyze", json={"video_path": str(inside), "analyzers": ["toy_good"]}).status_code == 202


def test_urls_off_the_allowlist_are_refused_before_any_request(server, api):
    with LoopbackServer({"/clip.mp4": b"x"}) as origin:
        for url, code in ((origin.url("/clip.mp4"), "host_not_allowed"),
                          ("https://evil.example/@u/video/1", "host_not_allowed"),
                          ("https://www.tiktok.com.evil.example/v/1", "host_not_allowed"),
                          ("ftp://www.tiktok.com/video/1", "bad_url"),
                          ("file:///etc/passwd", "bad_url"),
                          ("https://user:pw@www.tiktok.com/@u/video/1", "bad_url"),
                          ("https://www.tiktok.com:99999/@u/video/1", "bad_url")):
            r = api.post("/analyze", json={"tiktok_url": url})
            assert r.json()["error"]["code"] == code, (url, r.text)
            assert r.status_code in (400, 403)
        assert origin.requests == []
    assert api.get("/jobs").json()["total"] == 0
    ok = api.post("/analyze", json={"tiktok_url": "https://www.tiktok.com/@u/video/7301234567890123456",
                                    "analyzers": ["toy_good"]})
    assert ok.status_code == 202  # accepted; the download itself happens in the job
    api.delete(f"/jobs/{ok.json()['id']}")


def test_only_registry_analyzers_and_declared_options(server, api):
    video = str(server.video())
    bad = {
        "unknown analyzer": ({"analyzers": ["rm_rf"]}, "unknown_analyzer"),
        "unknown option analyzer": ({"options": {"nope.x": 1}}, "bad_option"),
        "no dot": ({"options": {"toy_good": 1}}, "bad_option"),
        "undeclared param": ({"options": {"toy_good.__class__": "x"}}, "bad_option"),
        "wrong type": ({"options": {"toy_good.greeting": 5}}, "bad_option"),
        "huge timeout": ({"options": {"toy_good.timeout_s": 1e9}}, "bad_option"),
        "bad memory": ({"options": {"toy_good.memory": "lots"}}, "bad_option"),
        "both sources": ({"tiktok_url": "https://www.tiktok.com/@u/video/1"}, "invalid_request"),
        "extra field": ({"command": "id"}, "invalid_request"),
    }
    for what, (extra, code) in bad.items():
        r = api.post("/analyze", json={"video_path": video, **extra})
        assert r.status_code == 422, (what, r.text)
        assert r.json()["error"]["code"] == code, (what, r.text)
    assert api.post("/analyze", content=b"{not json", headers={"content-type": "application/json"}
                    ).json()["error"]["code"] == "invalid_request"
    assert api.get("/jobs", params={"limit": 0}).status_code == 422
    assert api.get("/jobs/../../etc").status_code == 404
    assert api.get("/jobs/not-a-job-id").status_code == 422
    assert api.get("/jobs").json()["total"] == 0


def test_request_bodies_are_size_limited(server, api):
    big = {"video_path": "/x", "options": {f"toy_good.k{i}": "y" * 900 for i in range(100)}}
    r = api.post("/analyze", json=big)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "body_too_large"

    def chunks():  # no Content-Length: the limit still holds
        for _ in range(100):
            yield b"x" * 1024

    r = api.post("/analyze", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


# -- the store under concurrency ---------------------------------------------------------------------
def test_concurrent_workers_never_claim_the_same_job(tmp_path):
    """Real SQLite, real threads: every queued job is claimed exactly once."""
    import threading

    from runner.api.jobs import JobStore

    store = JobStore(tmp_path / "jobs.sqlite3")
    ids = {store.create({"video_path": f"/v/{i}.mp4"}).id for i in range(60)}
    claimed: list[str] = []
    lock = threading.Lock()

    def worker():
        while (job := store.claim_next()) is not None:
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(claimed) == sorted(ids)
    assert store.counts()["running"] == 60 and store.counts()["queued"] == 0
    assert store.recover() and store.counts()["interrupted"] == 60
