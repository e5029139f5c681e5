"""A pool of worker threads that take queued jobs from the store and run them through the pipeline.

The runner's CPU, memory and GPU budget is split between the workers, so N jobs at once never ask
for more than one run alone may use. Cancelling a running job interrupts its executor, which stops
its containers (or local processes); the report records what finished.
"""
from __future__ import annotations

import fcntl
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from runner.api.heartbeat import Heartbeat
from runner.api.jobs import CANCELLED, COMPLETED, FAILED, INTERRUPTED, Job, JobStore
from runner.api.checks import recheck_job
from runner.api.orphans import remove_media, remove_orphans
from runner.api.security import Refused, refusal
from runner.core.api_config import ApiSettings
from runner.core.config import Settings
from runner.core.errors import AdmissionError, DownloadError, RunnerError, UsageError
from runner.core.registry import Registry

log = logging.getLogger("runner.api")
MAX_NOTICES = 50
STOP_GRACE_S = 5.0


class _Stopped(Exception):
    """Raised from a progress callback to abandon a job before its executor exists."""


@dataclass
class _Active:
    reason: str | None = None          # "cancelled" (DELETE) or "interrupted" (server stopping)
    executor: Any = None
    settled: bool = False              # the pipeline has asked for the reason: its report is being written
    lock: threading.Lock = field(default_factory=threading.Lock)

    def stop(self, reason: str) -> None:
        with self.lock:
            if self.settled:  # the analyzers are done and the report says how the run ended: it completes
                return
            self.reason = self.reason or reason
            ex = self.executor
        if ex is not None:
            _interrupt(ex)

    def settle(self) -> str | None:
        """The pipeline's cancel reason (asked once, before it writes the report): the words for the
        report's notice, or None; the job's final state follows the same answer."""
        with self.lock:
            self.settled = True
            reason = self.reason
        if reason is None:
            return None
        return "cancelled through the API" if reason == CANCELLED else "the API server stopped"

    def attach(self, executor) -> None:
        with self.lock:
            self.executor = executor
            reason = self.reason
        if reason:
            _interrupt(executor)


def _interrupt(executor) -> None:
    # The cancel flag first: each backend's launch loop sees it, stops its own container or process
    # and records the analyzer as interrupted. Executor.interrupt() kills at once, and a process it
    # kills can be seen as crashed before the flag is read, so it comes later, as the backstop.
    executor.cancel.set()
    timer = threading.Timer(STOP_GRACE_S, executor.interrupt)
    timer.daemon = True
    timer.start()


class JobProgress:
    """The pipeline's progress interface, written through to the job's row."""

    def __init__(self, store: JobStore, job_id: str, active: _Active):
        self._store = store
        self._id = job_id
        self._active = active
        self._lock = threading.Lock()
        self._total = 0
        self.phases: dict[str, dict] = {}
        self.analyzers: dict[str, dict] = {}
        self.notices: list[str] = []

    @property
    def total(self) -> int:
        return self._total

    @total.setter
    def total(self, value: int) -> None:
        self._total = value
        self._save()

    def snapshot(self) -> dict[str, Any]:
        done = sum(1 for a in self.analyzers.values() if a["state"] != "running")
        return {"total": self._total, "done": done, "phases": self.phases, "analyzers": self.analyzers,
                "notices": self.notices[-MAX_NOTICES:]}

    def _save(self) -> None:
        with self._lock:
            self._store.set_progress(self._id, self.snapshot())

    def phase(self, name: str, seconds: float, detail: str = "") -> None:
        self.phases[name] = {"seconds": round(seconds, 3), "detail": detail}
        self._save()

    def notice(self, text: str) -> None:
        self.notices.append(text[:500])
        self._save()
        if self._active.reason and self._active.executor is None:
            raise _Stopped(self._active.reason)

    def started(self, name: str, attempt: int) -> None:
        self.analyzers[name] = {"state": "running", "attempt": attempt}
        self._save()

    def finished(self, name: str, env) -> None:
        self.analyzers[name] = {
            "state": env.status.value, "attempts": max(1, len(env.attempts)) if env.attempts else 0,
            "duration_s": env.duration_s, "degraded": env.degraded,
            "skip_reason": env.skip_reason.value if env.skip_reason else None,
            "error": env.error.message.splitlines()[0][:300] if env.error and env.error.message else None}
        self._save()


class WorkerPool:
    def __init__(self, store: JobStore, settings: Settings, api: ApiSettings, registry: Registry):
        self.store = store
        self.settings = settings
        self.api = api
        self.registry = registry
        self.size = api.worker_count(settings.cpu_budget)
        self._threads: list[threading.Thread] = []
        self._active: dict[str, _Active] = {}
        self._active_lock = threading.Lock()
        self._wake = threading.Condition()
        self._stopping = False
        self._kicked = False
        self._lock_fd: int | None = None

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> list[str]:
        """Take the data directory, mark jobs a dead server left running as interrupted, start workers."""
        reports = self.api.data_dir / "reports"
        try:  # a folder Docker made for a bind mount is root's: say so now, not in every job's error
            reports.mkdir(parents=True, exist_ok=True)
            tempfile.TemporaryFile(dir=reports).close()
        except OSError as exc:
            raise UsageError(f"the worker (uid {os.getuid()}) cannot write reports in {reports}: {exc.strerror}",
                             fix=f"create it owned by this user first, e.g. sudo install -d -o {os.getuid()} "
                                 f"-g {os.getgid()} {reports} (docs/api.md, \"Start it\")") from None
        lock_path = self.api.data_dir / "server.lock"
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UsageError(f"another server is using {self.api.data_dir}",
                             fix="stop it, or give this one its own RUNNER_API_DATA_DIR") from None
        self._lock_fd = fd
        if not self.api.roots:  # the default drop folder: make it, so a first video_path can work
            for root in self.api.video_roots:
                root.mkdir(parents=True, exist_ok=True)
        removed = remove_orphans(self.settings)  # containers of a worker that was killed mid-job
        recovered = self.store.recover()
        for job_id in recovered:
            log.warning("job %s was running when the server stopped: marked interrupted", job_id)
            self._remove_media(job_id)
        if removed:
            log.warning("removed %d container(s) left by a worker that stopped mid-job", removed)
        for slot in range(self.size):
            t = threading.Thread(target=self._loop, args=(self._slot_settings(slot),), name=f"api-worker-{slot}",
                                 daemon=True)
            t.start()
            self._threads.append(t)
        # DELETE may come from another process (`runner serve --role api`): it only flags the row
        self._halt = threading.Event()
        threading.Thread(target=self._watch_cancels, name="api-cancel-watch", daemon=True).start()
        self._heartbeat = Heartbeat(self.store.path, self.status).start()  # liveness (runner worker --health)
        return recovered

    def _remove_media(self, job_id: str) -> None:
        """The media a killed worker left in the job's workdir (orphans.remove_media); never stops a start."""
        try:
            job = self.store.get(job_id)
            remove_media(self.settings.work_root, job_id, job.workdir if job else None)
        except Exception:
            log.exception("job %s: could not remove the media its worker left", job_id)

    def status(self) -> dict:
        """What the heartbeat records: slots, live slot threads, the jobs running, whether it is stopping."""
        with self._active_lock:
            running = sorted(self._active)
        return {"slots": self.size, "alive": sum(t.is_alive() for t in self._threads), "running": running,
                "stopping": self._stopping}

    def _watch_cancels(self, every_s: float = 0.5) -> None:
        """Stop a running job whose row says cancel_requested (set by an API process without this pool)."""
        while not self._halt.wait(every_s):
            with self._active_lock:
                active = [(job_id, a) for job_id, a in self._active.items() if not a.reason]
            for job_id, a in active:
                try:
                    job = self.store.get(job_id)
                except Exception:  # a locked database: look again next round
                    continue
                if job is not None and job.cancel_requested:
                    a.stop(CANCELLED)

    def stop(self, grace_s: float = 30.0) -> None:
        """Stop taking jobs; interrupt running ones (they end ``interrupted`` and can be retried)."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if getattr(self, "_halt", None) is not None:
            self._halt.set()
        with self._active_lock:
            active = list(self._active.values())
        for a in active:
            a.stop(INTERRUPTED)
        deadline = time.monotonic() + grace_s
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self.store.recover()  # anything still running past the grace period
        if getattr(self, "_heartbeat", None) is not None:
            self._heartbeat.stop()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def wake(self) -> None:
        with self._wake:
            self._kicked = True  # a worker between its empty claim and its wait must not sleep through this
            self._wake.notify()

    def cancel(self, job_id: str) -> bool:
        """Stop a running job; False if this pool is not running it."""
        with self._active_lock:
            a = self._active.get(job_id)
        if a is None:
            return False
        a.stop(CANCELLED)
        return True

    def _slot_settings(self, slot: int) -> Settings:
        n = self.size
        s = self.settings
        return s.with_(cpu_budget=s.cpu_budget / n, memory_budget=s.memory_budget // n, gpus=s.gpus[slot::n])

    # -- the loop ----------------------------------------------------------
    def _loop(self, settings: Settings) -> None:
        while True:
            with self._wake:
                if self._stopping:
                    return
                self._kicked = False
            try:
                job = self.store.claim_next()
            except Exception:  # a locked or broken database must not kill the worker
                log.exception("could not read the job queue")
                job = None
            if job is None:
                with self._wake:
                    if not self._stopping and not self._kicked:
                        self._wake.wait(1.0)
                continue
            try:
                self._run(job, settings)
            except Exception:  # the store itself failed mid-job: record it if possible, keep the worker
                log.exception("job %s: worker error", job.id)
                try:
                    self.store.finish(job.id, FAILED, error={"code": "internal",
                                                             "message": "internal error in the worker",
                                                             "fix": "see the server log"})
                except Exception:
                    log.exception("job %s: could not record the failure", job.id)

    def _run(self, job: Job, settings: Settings) -> None:
        from runner.run.pipeline import AnalyzeRequest, analyze

        active = _Active()
        with self._active_lock:
            self._active[job.id] = active
        if self.store.get(job.id).cancel_requested:  # DELETE raced the claim
            active.stop(CANCELLED)
        progress = JobProgress(self.store, job.id, active)
        report_path = self.api.data_dir / "reports" / f"{job.id}.json"
        report_path.parent.mkdir(parents=True, exist_ok=True)
        req = job.request
        log.info("job %s started (run %d)", job.id, job.runs)
        try:
            if active.reason:
                raise _Stopped(active.reason)
            # what the API process wrote is a request: every submit-time check again (runner.api.checks),
            # and a path is admitted again when it runs, walking from a root without following any
            # symlink: a file replaced by a symlink (or a FIFO) since it was queued is refused
            body, params = recheck_job(req, self.settings, self.api, self.registry)
            source = body.video_path or body.tiktok_url
            roots = tuple(self.api.video_roots) if body.video_path else None
            outcome = analyze(AnalyzeRequest(source=source, roots=roots, only=body.analyzers or None,
                                             params=params, out=report_path,
                                             use_cache=not body.no_cache, keep_media=False,
                                             # the pipeline writes the report and its page once, the page
                                             # while the input copy and frames still exist (keyframes)
                                             html=True, cancel_reason=active.settle,
                                             on_workdir=lambda wd: self.store.set_workdir(job.id, str(wd))),
                              settings, progress=progress, registry=self.registry, executor_hook=active.attach)
        except _Stopped as stop:
            self._finish_stopped(job.id, str(stop))
        except Refused as exc:  # a stored request the API would have refused: the same code
            self.store.finish(job.id, FAILED, error={"code": exc.code, "message": exc.message, "fix": exc.fix})
        except AdmissionError as exc:
            ref = refusal(exc)
            self.store.finish(job.id, FAILED, error={"code": ref.code, "message": exc.message, "fix": ref.fix})
        except DownloadError as exc:
            self.store.finish(job.id, FAILED, error={"code": f"download_{exc.kind}", "message": exc.message,
                                                     "fix": exc.fix})
        except RunnerError as exc:
            self.store.finish(job.id, FAILED, error={"code": _code(exc), "message": exc.message, "fix": exc.fix})
        except Exception as exc:
            log.exception("job %s failed", job.id)
            self.store.finish(job.id, FAILED, error={
                "code": "internal", "message": f"internal error ({type(exc).__name__}: {str(exc)[:300]})",
                "fix": "see the server log"})
        else:
            r = outcome.report
            summary = {"all_ok": r.all_ok, "counts": {s.value: n for s, n in r.counts.items() if n},
                       "total_s": r.run.timings.total_s, "run_id": r.run.run_id}
            if active.reason:  # settled before the report was written: the report says so too
                self._finish_stopped(job.id, active.reason, summary=summary, report_path=str(outcome.report_path))
            else:
                self.store.finish(job.id, COMPLETED, summary=summary, report_path=str(outcome.report_path))
        finally:
            with self._active_lock:
                self._active.pop(job.id, None)
            log.info("job %s finished: %s", job.id, self.store.get(job.id).state)

    def _finish_stopped(self, job_id: str, reason: str, **kw) -> None:
        if reason == CANCELLED:
            err = {"code": "cancelled", "message": "cancelled while running; the report holds what finished"}
        else:
            err = {"code": "interrupted", "message": "the server stopped while this job ran",
                   "fix": f"POST /jobs/{job_id}/retry to run it again"}
        self.store.finish(job_id, CANCELLED if reason == CANCELLED else INTERRUPTED, error=err, **kw)


def _code(exc: RunnerError) -> str:
    name = type(exc).__name__
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
