"""Worker liveness: the job-running process beats into the job store; a check reads the beat.

``runner worker`` (and ``runner serve --role all``) keeps one row of the ``workers`` table in
``jobs.sqlite3`` up to date, every :data:`BEAT_S` seconds: its host, pid and the pid's start time,
the time of the beat, and its pool (slots, how many slot threads are alive, the jobs they run).
``runner worker --health`` (the worker service's healthcheck in compose; ``python -m
runner.api.heartbeat`` is the same check without the CLI's imports) answers healthy only when the
row of this host says:

- the last beat is younger than ``max_age_s`` (a frozen process, a dead beat thread, or a job store
  it can no longer write all leave it stale);
- the process that wrote it still runs (same pid, same start time: a restarted or killed worker's
  last row does not count);
- every slot thread is alive, and the pool is not stopping.

A slot busy with a job is not judged by the beat: every analyzer and media step of a job has its
own time limit, enforced by the executor. Only stdlib here, so the healthcheck starts fast.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

__all__ = ["BEAT_S", "MAX_AGE_S", "Heartbeat", "Verdict", "check"]

log = logging.getLogger("runner.api")
BEAT_S = 5.0
MAX_AGE_S = 30.0
_SCHEMA = """
CREATE TABLE IF NOT EXISTS workers (
    host       TEXT PRIMARY KEY,
    pid        INTEGER NOT NULL,
    pid_start  TEXT NOT NULL,
    started_at REAL NOT NULL,
    beat_at    REAL NOT NULL,
    state      TEXT NOT NULL
);
"""


def _proc_start(pid: int) -> str:
    """The process's start time in clock ticks since boot ('' if it is gone): tells it from a reused pid."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _connect(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db, timeout=10, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


class Heartbeat:
    """Writes this process's row every ``every_s`` seconds from its own thread; ``status()`` is the pool's."""

    def __init__(self, db: Path, status: Callable[[], dict[str, Any]], every_s: float = BEAT_S):
        self.db = db
        self.status = status
        self.every_s = every_s
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.started_at = time.time()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "Heartbeat":
        conn = _connect(self.db)
        try:
            conn.executescript(_SCHEMA)
        finally:
            conn.close()
        self.beat()
        self._thread = threading.Thread(target=self._run, name="api-heartbeat", daemon=True)
        self._thread.start()
        return self

    def beat(self, state: dict[str, Any] | None = None) -> None:
        state = self.status() if state is None else state
        conn = _connect(self.db)
        try:
            conn.execute("INSERT OR REPLACE INTO workers (host, pid, pid_start, started_at, beat_at, state) "
                         "VALUES (?, ?, ?, ?, ?, ?)", (self.host, self.pid, _proc_start(self.pid), self.started_at,
                                                       time.time(), json.dumps(state)))
        finally:
            conn.close()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.beat()
            except Exception as exc:  # the row goes stale and the check says why it may be
                log.warning("heartbeat not written (%s: %s)", type(exc).__name__, exc)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        try:
            self.beat({**self.status(), "stopped": True})
        except Exception:
            pass


@dataclass(frozen=True)
class Verdict:
    healthy: bool
    message: str


def _row(db: Path, host: str) -> sqlite3.Row | None:
    conn = _connect(db)
    try:
        return conn.execute("SELECT * FROM workers WHERE host = ?", (host,)).fetchone()
    except sqlite3.OperationalError:  # no table yet: no worker ever started on this store
        return None
    finally:
        conn.close()


def check(db: Path, *, host: str | None = None, max_age_s: float = MAX_AGE_S, now: float | None = None) -> Verdict:
    """Is the worker of this host (``socket.gethostname()``) alive and beating into ``db``?"""
    host = host or socket.gethostname()
    if not db.is_file():
        return Verdict(False, f"no job store at {db}: the worker has not started (RUNNER_API_DATA_DIR?)")
    row = _row(db, host)
    if row is None:
        return Verdict(False, f"no worker has beaten into {db} from host {host}")
    state = json.loads(row["state"])
    age = (time.time() if now is None else now) - row["beat_at"]
    who = f"worker pid {row['pid']} on {host}"
    if state.get("stopped"):
        return Verdict(False, f"{who} stopped {age:.0f} s ago")
    if host == socket.gethostname() and _proc_start(row["pid"]) != row["pid_start"]:
        return Verdict(False, f"{who} is gone (killed or crashed {age:.0f} s after its last beat); "
                              "its jobs are marked interrupted when a worker starts again")
    if age > max_age_s:
        return Verdict(False, f"{who} is stuck: its last heartbeat is {age:.0f} s old (limit {max_age_s:g} s)")
    slots, alive = state.get("slots", 0), state.get("alive", 0)
    if alive < slots:
        return Verdict(False, f"{who}: only {alive} of {slots} worker thread(s) alive")
    if state.get("stopping"):
        return Verdict(False, f"{who} is stopping")
    running = state.get("running") or []
    return Verdict(True, f"{who} alive: heartbeat {age:.1f} s ago, {slots} slot(s), "
                         f"{len(running)} job(s) running{': ' + ', '.join(running) if running else ''}")


def main(argv: list[str] | None = None) -> int:
    """``python -m runner.api.heartbeat [--max-age SECONDS]``: exit 0 when healthy, 1 when not."""
    import argparse

    from runner.core.api_config import api_from
    from runner.core.config import environment

    p = argparse.ArgumentParser(prog="python -m runner.api.heartbeat", description=check.__doc__)
    p.add_argument("--max-age", type=float, default=MAX_AGE_S, help="seconds a heartbeat stays fresh")
    args = p.parse_args(argv)
    verdict = check(api_from(environment()).data_dir / "jobs.sqlite3", max_age_s=args.max_age)
    print(("healthy: " if verdict.healthy else "UNHEALTHY: ") + verdict.message)
    return 0 if verdict.healthy else 1


if __name__ == "__main__":
    sys.exit(main())
