"""The API as ops run it, under load and faults. Shared by ``tests/integration/test_api_load.py`` and
``tests/bench_api.py`` (the longer soak: ``make bench BENCH_ARGS=api``).

- :class:`Deployment`: ``runner serve --role api`` and ``runner worker`` as two processes on one
  SQLite job store, on the docker backend, running the toy analyzers; either can be killed and
  started again on the same store (and the API on the same port).
- The store is audited by SQLite triggers (installed by the test, not the code under test) that log
  every insert, state change and finish into an ``audit`` table: "every job ends exactly once" is
  read from the database, not inferred from polls.
- :class:`Client`: a thread that submits a planned mix of jobs with hostile requests between them,
  then polls its jobs to their end, retrying through an API restart; :func:`plan` makes the mix,
  each job with the state and report it must end with; :data:`HOSTILE` the refusals.
- :class:`RssLog`: the API's and the worker's resident memory against the number of finished jobs.
"""
from __future__ import annotations

import hashlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from runner.core.config import REPO_ROOT
from tests import media
from tests.integration.test_api import ApiServer

FINISHED = ("completed", "failed", "cancelled", "interrupted")
AUDIT = """
CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT, old TEXT, new TEXT,
                                  finished_at TEXT, runs INTEGER);
CREATE TRIGGER IF NOT EXISTS audit_insert AFTER INSERT ON jobs
BEGIN INSERT INTO audit (id, old, new, finished_at, runs) VALUES (NEW.id, NULL, NEW.state, NULL, NEW.runs); END;
CREATE TRIGGER IF NOT EXISTS audit_update AFTER UPDATE ON jobs
WHEN NEW.state IS NOT OLD.state OR NEW.finished_at IS NOT OLD.finished_at
BEGIN INSERT INTO audit (id, old, new, finished_at, runs) VALUES (NEW.id, OLD.state, NEW.state, NEW.finished_at,
                                                                  NEW.runs); END;
"""


TOYS_USED = ("toy_good", "toy_abort", "toy_invalid", "toy_hang", "toy_diskfill")


def ensure_images(client) -> None:
    """The images of the toys used here and the media sandbox's, built (on the cpu base) when missing."""
    from runner.images.build import BuildOptions, build_images, image_status
    from runner.images.runner_images import MEDIA, build
    from runner.core.registry import load_registry
    from runner.core.config import Settings

    settings = Settings.from_env()
    registry = load_registry([REPO_ROOT / "tests" / "toy_analyzers"], include_test_only=True)
    status = image_status(settings, {n: registry[n] for n in TOYS_USED})
    todo = [n for n, s in status.items() if s != "built"]
    if todo:
        build_images(settings, registry, todo, BuildOptions(), echo=lambda s: None, client=client)
    build(client, MEDIA, settings, BuildOptions(), echo=lambda s: None)  # no-op when up to date


@contextmanager
def tmpfs(path: Path, size: str = "64m"):
    """A small filesystem mounted at ``path`` (needs root, as CI has): skipped here, failed in CI, without."""
    from tests.docker_sandboxes import need

    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        need(f"cannot mount a {size} tmpfs for the disk-full test: {proc.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))


def cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Deployment:
    """The two roles on one job store (docker backend, toy analyzers); ``env`` adds settings."""

    def __init__(self, root: Path, env: dict[str, str] | None = None, token: str = "load-token-0123456789"):
        self.api = ApiServer(root, args=("--role", "api"), token=token,
                             extra_env={"RUNNER_BACKEND": "docker", "RUNNER_API_ALLOW_LOCAL": "", **(env or {})})
        self.root = root
        self.db = root / "data" / "jobs.sqlite3"
        self.worker: subprocess.Popen | None = None
        self.worker_pids: list[int] = []

    def start(self, worker: bool = True) -> "Deployment":
        self.api.start()
        with sqlite3.connect(self.db) as c:
            c.executescript(AUDIT)
        if worker:
            self.start_worker()
        return self

    def start_worker(self, timeout: float = 60) -> None:
        with open(self.root / "worker.log", "ab") as log:
            self.worker = subprocess.Popen([sys.executable, "-m", "runner.commands.main", "worker"], env=self.api.env,
                                           cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
        self.worker_pids.append(self.worker.pid)
        deadline = time.monotonic() + timeout
        while self.health()[0] != 0:  # its first heartbeat: it has taken the store and started its slots
            assert self.worker.poll() is None, self.log()
            assert time.monotonic() < deadline, f"worker did not start: {self.log()}"
            time.sleep(0.2)

    def kill_worker(self, sig: int = signal.SIGKILL) -> None:
        self.worker.send_signal(sig)
        self.worker.wait(60)

    def restart_api(self, sig: int = signal.SIGKILL, down_s: float = 1.0) -> None:
        self.api.stop(sig)
        time.sleep(down_s)
        self.api.start()  # the same port and data dir

    def health(self, max_age_s: float = 30) -> tuple[int, str]:
        """The worker service's healthcheck, as compose runs it."""
        p = subprocess.run([sys.executable, "-m", "runner.api.heartbeat", "--max-age", str(max_age_s)],
                           env=self.api.env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout + p.stderr

    def log(self) -> str:
        path = self.root / "worker.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def containers(self, client) -> list:
        """Containers any of this deployment's workers started (their pid label), running or not."""
        from runner.backends.docker import LABEL, PROJECT, PROJECT_LABEL

        pids = {str(p) for p in self.worker_pids}
        host = socket.gethostname()
        return [c for c in client.containers.list(all=True, filters={"label": f"{PROJECT_LABEL}={PROJECT}"},
                                                  ignore_removed=True)
                if c.labels.get(f"{LABEL}.runner-pid") in pids and c.labels.get(f"{LABEL}.runner-host") == host]

    def audit(self) -> dict[str, list[tuple[str | None, str]]]:
        """job id -> [(old state, new state), ...] in order."""
        with sqlite3.connect(self.db) as c:
            rows = c.execute("SELECT id, old, new FROM audit ORDER BY seq").fetchall()
        out: dict[str, list] = {}
        for job_id, old, new in rows:
            out.setdefault(job_id, []).append((old, new))
        return out

    def finished(self) -> int:
        with sqlite3.connect(self.db, timeout=30) as c:
            return c.execute(f"SELECT COUNT(*) FROM jobs WHERE state IN {FINISHED}").fetchone()[0]

    def stop(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            self.kill_worker(signal.SIGTERM)
        self.api.cleanup()


# -- the mix ----------------------------------------------------------------------------------
@dataclass
class Planned:
    """One submission and what it must end as."""
    kind: str
    body: dict
    state: str                                   # the job's final state
    statuses: dict[str, str] = field(default_factory=dict)   # analyzer -> status in its report
    message: str | None = None                   # toy_good's result.message
    codes: tuple[str, ...] = ()                  # a failed job's error.code, one of these
    job_id: str | None = None
    seen: list[str] = field(default_factory=list)  # states polled, in order
    final: dict | None = None
    answered_report: dict | None = None          # an old client's 200: the report in the answer


PATTERN = ("good", "fresh", "good", "abort", "good", "invalid", "good", "old", "good", "fresh", "cancel", "good",
           "timeout", "good", "bogus", "old", "good", "fresh", "good", "abort", "good", "invalid", "old", "good")


def planned(kind: str, clip: Path, tag: str) -> Planned:
    v = str(clip)
    if kind == "good":  # the same clip and params again and again: mostly result-cache hits
        return Planned(kind, {"video_path": v, "analyzers": ["toy_good"]}, "completed", {"toy_good": "ok"}, "hello")
    if kind in ("fresh", "old"):  # a message no other job has: its report can be told from every other
        return Planned(kind, {"video_path": v, "analyzers": ["toy_good"], "options": {"toy_good.greeting": tag}},
                       "completed", {"toy_good": "ok"}, tag)
    if kind == "abort":
        return Planned(kind, {"video_path": v, "analyzers": ["toy_abort"]}, "completed", {"toy_abort": "crashed"})
    if kind == "invalid":
        return Planned(kind, {"video_path": v, "analyzers": ["toy_invalid"]}, "completed",
                       {"toy_invalid": "invalid_output"})
    if kind == "timeout":
        return Planned(kind, {"video_path": v, "analyzers": ["toy_hang"], "options": {"toy_hang.timeout_s": 1}},
                       "completed", {"toy_hang": "timeout"})
    if kind == "cancel":  # it cannot finish on its own before the DELETE
        return Planned(kind, {"video_path": v, "analyzers": ["toy_hang"], "options": {"toy_hang.timeout_s": 300}},
                       "cancelled")
    if kind == "bogus":  # an mp4 'ftyp' box, then garbage: passes the submit-time sniff, fails its probe
        return Planned(kind, {"video_path": v, "analyzers": ["toy_good"]}, "failed",
                       codes=("input_error", "not_a_video", "extraction_error"))
    if kind == "swapped":  # a clip at submit, a symlink out of the roots when the worker opens it
        return Planned(kind, {"video_path": v, "analyzers": ["toy_good"]}, "failed", codes=("path_outside_roots",))
    raise ValueError(kind)


def make_clip(videos: Path, n: int) -> Path:
    """A 1 s clip whose bytes differ from every other client's (its own sha256, its own cache entries)."""
    return media.testsrc(videos / f"client{n}.mp4", seconds=1 + n / 10, size="180x320", rate=15)


def make_bogus(videos: Path, n: int) -> Path:
    path = videos / f"bogus{n}.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00garbage" * 4000)
    return path


def plan(videos: Path, client: int, jobs: int) -> list[Planned]:
    """Client ``n`` starts its walk through :data:`PATTERN` at ``3 n``: clients behave differently at
    the same moment, and the first ~24 jobs already hold one of every kind."""
    clip, bogus = make_clip(videos, client), make_bogus(videos, client)
    out = []
    for i in range(jobs):
        kind = PATTERN[(3 * client + i) % len(PATTERN)]
        out.append(planned(kind, bogus if kind == "bogus" else clip, f"client {client} job {i}"))
    return out


# -- hostile requests: each refused, none may create a job ----------------------------------------
def hostile(videos: Path, outside: Path, n: int) -> list[tuple[str, dict, int, str]]:
    """(what, httpx request kwargs, status, error code) for client ``n``."""
    (videos / f"escape{n}.mp4").symlink_to(outside)
    (videos / f"playlist{n}.mp4").write_text("#EXTM3U\n#EXT-X-TARGETDURATION:10\nfile:///etc/passwd\n")
    (videos / f"text{n}.mp4").write_text("not a video at all\n" * 100)
    os.mkfifo(videos / f"fifo{n}.mp4")
    clip = str(videos / f"client{n}.mp4")

    def post(body, **kw):
        return {"method": "POST", "url": "/analyze", "json": body, **kw}

    return [
        ("no token", post({"video_path": clip}, headers={"Authorization": ""}), 401, "unauthorized"),
        ("wrong token", post({"video_path": clip}, headers={"Authorization": "Bearer nope"}), 401, "unauthorized"),
        ("traversal", post({"video_path": f"{videos}/../outside.mp4"}), 400, "path_traversal"),
        ("symlink out", post({"video_path": str(videos / f"escape{n}.mp4")}), 403, "path_outside_roots"),
        ("system file", post({"video_path": "/etc/passwd"}), 403, "path_outside_roots"),
        ("playlist", post({"video_path": str(videos / f"playlist{n}.mp4")}), 400, "playlist_refused"),
        ("not a video", post({"video_path": str(videos / f"text{n}.mp4")}), 400, "not_a_video"),
        ("fifo", post({"video_path": str(videos / f"fifo{n}.mp4")}), 400, "not_regular_file"),
        ("huge body", post({"video_path": clip, "options": {f"toy_good.k{i}": "y" * 900 for i in range(100)}}),
         413, "body_too_large"),
        ("unknown analyzer", post({"video_path": clip, "analyzers": ["rm_rf"]}), 422, "unknown_analyzer"),
        ("undeclared option", post({"video_path": clip, "options": {"toy_good.__class__": "x"}}), 422, "bad_option"),
        ("extra field", post({"video_path": clip, "command": "id"}), 422, "invalid_request"),
        ("url off the allowlist", post({"tiktok_url": "https://evil.example/@u/video/1"}), 403, "host_not_allowed"),
        ("file url", post({"tiktok_url": "file:///etc/passwd"}), 400, "bad_url"),
    ]


# -- clients ------------------------------------------------------------------------------------
class Client(threading.Thread):
    """Submits ``jobs`` (a hostile request after every few), then polls them all to their end."""

    def __init__(self, dep: Deployment, jobs: list[Planned], refusals: list[tuple[str, dict, int, str]],
                 give_up_s: float = 900):
        super().__init__(daemon=True)
        self.dep, self.jobs, self.refusals = dep, jobs, list(refusals)
        self.give_up_s = give_up_s
        self.refused: list[tuple[str, int, str, int, str]] = []   # (what, status, code, expected status, code)
        self.transport_errors = 0
        self.submitted = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.dep.api.client() as http:
                http.timeout = httpx.Timeout(120)
                every = max(1, len(self.jobs) // max(1, len(self.refusals)))
                for i, p in enumerate(self.jobs):
                    if self.refusals and i % every == 0:
                        self._hostile(http, self.refusals.pop())
                    self._submit(http, p)
                while self.refusals:
                    self._hostile(http, self.refusals.pop())
                self.submitted.set()
                self._poll(http)
        except BaseException as exc:  # reported by the test, with the rest
            self.error = exc
            self.submitted.set()

    def _hostile(self, http: httpx.Client, case) -> None:
        what, kw, status, code = case
        r = http.request(**kw)
        got = r.json().get("error", {}).get("code") if r.headers.get("content-type", "").startswith(
            "application/json") else r.text[:80]
        self.refused.append((what, r.status_code, got, status, code))

    def _submit(self, http: httpx.Client, p: Planned) -> None:
        if p.job_id is not None:  # submitted earlier (before the worker started)
            return
        params = {} if p.kind == "old" else {"wait": 0}  # an old client asks nothing: the server's default wait
        r = http.post("/analyze", json=p.body, params=params)
        assert r.status_code in (200, 202), (p.kind, r.status_code, r.text)
        p.job_id = r.headers["location"].rsplit("/", 1)[1]
        if r.status_code == 200:
            p.answered_report = r.json()
        if p.kind == "cancel":
            d = http.delete(f"/jobs/{p.job_id}")
            assert d.status_code == 202, (d.status_code, d.text)

    def _get(self, http: httpx.Client, path: str) -> httpx.Response:
        """GET through an API restart: connection errors are retried until ``give_up_s``."""
        deadline = time.monotonic() + self.give_up_s
        while True:
            try:
                return http.get(path)
            except httpx.TransportError:
                self.transport_errors += 1
                assert time.monotonic() < deadline, f"the API did not come back for {path}"
                time.sleep(0.25)

    def _poll(self, http: httpx.Client, window: int = 3, every_s: float = 1.0) -> None:
        """As a client waits for its jobs: the oldest ``window`` unfinished ones, every ``every_s``
        (jobs run in order; polling all of them at once would be a load test of GET alone)."""
        todo = list(self.jobs)
        deadline = time.monotonic() + self.give_up_s
        while todo:
            assert time.monotonic() < deadline, [p.job_id for p in todo]
            for p in todo[:window]:
                job = self._get(http, f"/jobs/{p.job_id}").json()
                if not p.seen or p.seen[-1] != job["state"]:
                    p.seen.append(job["state"])
                if job["state"] in FINISHED:
                    p.final = job
            todo = [p for p in todo if p.final is None]
            time.sleep(every_s)
        for p in self.jobs:  # once more: a finished job stays as it ended
            again = self._get(http, f"/jobs/{p.job_id}").json()
            if again["state"] != p.final["state"]:
                p.seen.append(again["state"])


class RssLog(threading.Thread):
    """(finished jobs, API RSS KiB, worker RSS KiB) every ``every_s``; ``at(n)``: the first row at n jobs."""

    def __init__(self, dep: Deployment, every_s: float = 0.5):
        super().__init__(daemon=True)
        self.dep, self.every_s = dep, every_s
        self.rows: list[tuple[float, int, int, int]] = []
        self.halt = threading.Event()

    def sample(self) -> None:
        try:
            self.rows.append((time.monotonic(), self.dep.finished(), rss_kib(self.dep.api.proc.pid),
                              rss_kib(self.dep.worker.pid)))
        except (OSError, StopIteration, sqlite3.Error, AttributeError):
            pass  # a process between restarts, or the store busy: the next sample

    def run(self) -> None:
        while not self.halt.wait(self.every_s):
            self.sample()

    def at(self, jobs: int) -> tuple[float, int, int, int]:
        return next(r for r in self.rows if r[1] >= jobs)


# -- a whole run, and what must hold after it ------------------------------------------------------
@dataclass
class LoadRun:
    dep: Deployment
    clients: list[Client]
    rss: RssLog
    seconds: float
    jobs: list[Planned]


def run_load(root: Path, clients: int = 8, jobs: int = 200, env: dict[str, str] | None = None) -> LoadRun:
    """``jobs`` submissions from ``clients`` threads (plus hostile requests) against a fresh deployment.

    One job per client is queued before the worker starts, and its file then swapped for a symlink out
    of the roots: the worker must refuse it (``path_outside_roots``) when it opens it."""
    dep = Deployment(root, env={"RUNNER_API_WORKERS": "2", "RUNNER_API_DEFAULT_WAIT_S": "20", **(env or {})})
    dep.start(worker=False)
    videos = dep.api.videos
    outside = media.testsrc(root / "outside.mp4", seconds=1, size="180x320", rate=15)
    per = [jobs // clients + (1 if i < jobs % clients else 0) for i in range(clients)]
    plans = [plan(videos, i, per[i] - 1) for i in range(clients)]
    with dep.api.client() as http:
        for i in range(clients):
            clip = media.testsrc(videos / f"swap{i}.mp4", seconds=1, size="180x320", rate=15)
            p = planned("swapped", clip, "")
            p.job_id = http.post("/analyze", json=p.body, params={"wait": 0}).json()["id"]
            clip.unlink()
            clip.symlink_to(outside)
            plans[i].insert(0, p)
    dep.start_worker()
    rss = RssLog(dep)
    rss.start()
    # jobs run one after another (2 slots): the last client polls for as long as the whole queue takes
    threads = [Client(dep, plans[i], hostile(videos, outside, i), give_up_s=600 + 6 * jobs) for i in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(3600)
    seconds = time.monotonic() - t0
    rss.halt.set()
    rss.sample()
    return LoadRun(dep, threads, rss, seconds, [p for pl in plans for p in pl])


def check_report(http: httpx.Client, p: Planned, clip_sha: dict[str, str]) -> dict | None:
    """The job's report says what its kind must; None for a job without one."""
    r = http.get(f"/jobs/{p.job_id}/report")
    if p.state == "failed" or (p.state == "cancelled" and r.status_code == 409):
        assert r.status_code == 409, (p.kind, r.status_code)
        return None
    assert r.status_code == 200, (p.kind, p.job_id, r.text[:300])
    report = r.json()
    assert report["run"]["input"]["path"] == p.body["video_path"], (p.job_id, report["run"]["input"])
    assert report["run"]["input"]["sha256"] == clip_sha[p.body["video_path"]]
    assert report["run"]["backend"] == "docker"
    for name, status in p.statuses.items():
        assert report["analyzers"][name]["status"] == status, (p.kind, name, report["analyzers"][name])
    if p.message is not None:
        assert report["analyzers"]["toy_good"]["result"]["message"] == p.message, p.job_id
    if p.state == "completed":
        assert report["run"]["run_id"] == p.final["summary"]["run_id"]
    if p.answered_report is not None:  # an old client's 200 carried exactly this job's report
        assert p.answered_report == report
    if p.kind == "cancel":
        assert report["analyzers"]["toy_hang"]["skip_reason"] == "interrupted"
    return report


def check_load(run: LoadRun, docker_client) -> dict:
    """Assert everything the load suite promises; return the figures for the note."""
    dep = run.dep
    for c in run.clients:
        assert c.error is None, repr(c.error)
        wrong = [r for r in c.refused if r[1:3] != r[3:5]]
        assert not wrong, wrong
    audit = dep.audit()
    assert len(audit) == len(run.jobs) == len({p.job_id for p in run.jobs})  # hostile requests made no job
    clip_sha = {p.body["video_path"]: sha256(Path(p.body["video_path"])) for p in run.jobs
                if Path(p.body["video_path"]).is_file() and not Path(p.body["video_path"]).is_symlink()}
    run_ids, with_report = [], set()
    with dep.api.client() as http:
        for p in run.jobs:
            assert p.final is not None and p.final["state"] == p.state, (p.kind, p.job_id, p.final)
            assert all(s in ("queued", "running") for s in p.seen[:-1]) and p.seen[-1] == p.state, (p.kind, p.seen)
            steps = audit[p.job_id]
            ends = [new for old, new in steps if new in FINISHED]
            assert steps[0] == (None, "queued") and ends == [p.state], (p.kind, p.job_id, steps)  # exactly once
            assert p.final["runs"] == sum(1 for _, new in steps if new == "running") <= 1, (p.job_id, steps)
            if p.codes:
                assert p.final["error"]["code"] in p.codes, (p.kind, p.final["error"])
            report = check_report(http, p, clip_sha)
            if report is not None:
                run_ids.append(report["run"]["run_id"])
                with_report.add(p.job_id)
    assert len(run_ids) == len(set(run_ids)), "two jobs share a run"
    reports = sorted(f.name for f in (dep.root / "data" / "reports").iterdir())
    assert reports == sorted(f"{i}.{ext}" for i in with_report for ext in ("json", "html")), "a report lost or extra"
    workdirs = [d for d in (dep.root / "runs").iterdir()]
    assert sorted(d.name for d in workdirs) == sorted(run_ids), "a run without its job, or a job run twice"
    assert not [d for d in workdirs if (d / "frames").exists() or (d / "input").exists()]  # media removed
    assert dep.containers(docker_client) == [], "containers left behind"
    assert dep.health()[0] == 0, dep.health()[1]
    return figures(run)


def figures(run: LoadRun) -> dict:
    states: dict[str, int] = {}
    for p in run.jobs:
        states[p.state] = states.get(p.state, 0) + 1
    n = len(run.jobs)
    marks = sorted({min(20, n), n // 4, n // 2, 3 * n // 4, n} - {0})  # 20 is the reference (issue 28)
    rss = {m: run.rss.at(m)[2:] for m in marks}
    return {"jobs": n, "clients": len(run.clients), "seconds": round(run.seconds, 1),
            "jobs_per_min": round(60 * n / run.seconds, 1), "states": states,
            "refused": sum(len(c.refused) for c in run.clients),
            "old_client_200": sum(1 for p in run.jobs if p.answered_report is not None),
            "transport_errors": sum(c.transport_errors for c in run.clients),
            "rss_kib": rss, "rss_max_kib": (max(r[2] for r in run.rss.rows), max(r[3] for r in run.rss.rows)),
            "cpu_s": {"api": round(cpu_s(run.dep.api.proc.pid), 1), "worker": round(cpu_s(run.dep.worker.pid), 1)}}
