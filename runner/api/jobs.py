"""Durable job store: one SQLite database under the API's data directory.

A job's state moves ``queued -> running -> completed | failed | cancelled | interrupted``;
``interrupted`` (the worker running it stopped first), ``failed`` and ``cancelled`` jobs can be
queued again with :meth:`JobStore.retry`. Every call opens its own connection, so worker
threads and request handlers share nothing but the file.
"""
from __future__ import annotations

import json
import secrets
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

#: a job's request as the API process stored it is counted before it is parsed by the worker (the API
#: process is another trust domain: what it wrote is a request, not a decision; docs/security.md)
MAX_REQUEST_BYTES = 256 * 1024
MAX_REQUEST_NODES = 10_000
MAX_REQUEST_DEPTH = 16

QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED, INTERRUPTED = (
    "queued", "running", "completed", "failed", "cancelled", "interrupted")
STATES = (QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED, INTERRUPTED)
FINISHED = frozenset({COMPLETED, FAILED, CANCELLED, INTERRUPTED})
RETRYABLE = frozenset({FAILED, CANCELLED, INTERRUPTED})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT UNIQUE NOT NULL,
    state            TEXT NOT NULL,
    request          TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    started_at       TEXT,
    finished_at      TEXT,
    progress         TEXT NOT NULL DEFAULT '{}',
    error            TEXT,
    summary          TEXT,
    report_path      TEXT,
    runs             INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    workdir          TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, seq);
"""
#: columns added after a store's first release: (name, type) added to a store made before them
_ADDED_COLUMNS = (("workdir", "TEXT"),)  # the run's workdir (a worker killed mid-job leaves its media there)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass
class Job:
    id: str
    state: str
    request: dict[str, Any]
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    progress: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    report_path: str | None = None
    runs: int = 0
    cancel_requested: bool = False
    workdir: str | None = None         # the current run's workdir, as its worker recorded it (data, not a path to trust)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Job":
        return cls(id=row["id"], state=row["state"], request=_column(row["request"]) or {},
                   created_at=row["created_at"], started_at=row["started_at"], finished_at=row["finished_at"],
                   progress=_column(row["progress"]) or {}, error=_column(row["error"]),
                   summary=_column(row["summary"]),
                   report_path=row["report_path"], runs=row["runs"], cancel_requested=bool(row["cancel_requested"]),
                   workdir=row["workdir"])


def _column(text: str | None) -> dict | None:
    """A JSON column as an object; None when empty, or when over the caps or not an object (a row the
    other process wrote is counted before it is parsed, and never crashes a reader)."""
    if not text or request_shape_error(text) is not None:
        return None
    value = json.loads(text)
    return value if isinstance(value, dict) else None


class JobStore:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._conn() as c:
            c.execute("PRAGMA journal_mode=WAL")
            c.executescript(_SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Add the columns a store made by an older release lacks (one transaction: the API and the
        worker may open the same old file at once, and only one of them adds each column)."""
        with self._tx() as c:
            have = {r["name"] for r in c.execute("PRAGMA table_info(jobs)")}
            for name, kind in _ADDED_COLUMNS:
                if name not in have:
                    c.execute(f"ALTER TABLE jobs ADD COLUMN {name} {kind}")

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._conn() as c:
            c.execute("BEGIN IMMEDIATE")
            try:
                yield c
            except BaseException:
                c.execute("ROLLBACK")
                raise
            c.execute("COMMIT")

    # -- reads ---------------------------------------------------------------
    def get(self, job_id: str) -> Job | None:
        with self._conn() as c:
            row = c.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return Job.from_row(row) if row else None

    def list(self, limit: int = 50, offset: int = 0, state: str | None = None) -> tuple[list[Job], int]:
        """Newest first."""
        where, args = ("WHERE state = ?", [state]) if state else ("", [])
        with self._conn() as c:
            total = c.execute(f"SELECT COUNT(*) FROM jobs {where}", args).fetchone()[0]
            rows = c.execute(f"SELECT * FROM jobs {where} ORDER BY seq DESC LIMIT ? OFFSET ?",
                             [*args, limit, offset]).fetchall()
        return [Job.from_row(r) for r in rows], total

    def counts(self) -> dict[str, int]:
        with self._conn() as c:
            rows = c.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall()
        return {s: 0 for s in STATES} | {r[0]: r[1] for r in rows}

    # -- transitions ---------------------------------------------------------
    def create(self, request: dict[str, Any]) -> Job:
        job = Job(id=secrets.token_hex(8), state=QUEUED, request=request, created_at=now())
        with self._tx() as c:
            c.execute("INSERT INTO jobs (id, state, request, created_at) VALUES (?, ?, ?, ?)",
                      (job.id, job.state, json.dumps(request), job.created_at))
        return job

    def claim_next(self) -> Job | None:
        """The oldest queued job, now marked running; None when the queue is empty. A queued request
        over the byte, value or depth caps is failed (``bad_request``) before it is read or parsed."""
        while True:
            with self._tx() as c:
                row = c.execute("SELECT id, length(CAST(request AS BLOB)) AS n FROM jobs WHERE state = ? "
                                "ORDER BY seq LIMIT 1", (QUEUED,)).fetchone()
                if row is None:
                    return None
                why = f"{row['n']} bytes, over the cap of {MAX_REQUEST_BYTES}" if row["n"] > MAX_REQUEST_BYTES \
                    else request_shape_error(c.execute("SELECT request FROM jobs WHERE id = ?", (row["id"],)).fetchone()[0])
                if why is not None:
                    c.execute("UPDATE jobs SET state = ?, finished_at = ?, error = ? WHERE id = ?",
                              (FAILED, now(), json.dumps({"code": "bad_request", "message": f"job request refused: {why}",
                                                          "fix": "submit the job again through the API"}), row["id"]))
                    continue
                c.execute("UPDATE jobs SET state = ?, started_at = ?, finished_at = NULL, progress = '{}', "
                          "error = NULL, summary = NULL, runs = runs + 1, cancel_requested = 0, workdir = NULL "
                          "WHERE id = ?",
                          (RUNNING, now(), row["id"]))
                return Job.from_row(c.execute("SELECT * FROM jobs WHERE id = ?", (row["id"],)).fetchone())

    def set_progress(self, job_id: str, progress: dict[str, Any]) -> None:
        with self._tx() as c:
            c.execute("UPDATE jobs SET progress = ? WHERE id = ? AND state = ?",
                      (json.dumps(progress), job_id, RUNNING))

    def set_workdir(self, job_id: str, workdir: str) -> None:
        """Record the running job's workdir (the pipeline made it, and has written nothing in it yet)."""
        with self._tx() as c:
            c.execute("UPDATE jobs SET workdir = ? WHERE id = ? AND state = ?", (workdir, job_id, RUNNING))

    def finish(self, job_id: str, state: str, *, error: dict | None = None, summary: dict | None = None,
               report_path: str | None = None) -> None:
        assert state in FINISHED, state
        with self._tx() as c:
            c.execute("UPDATE jobs SET state = ?, finished_at = ?, error = ?, summary = ?, "
                      "report_path = COALESCE(?, report_path) WHERE id = ?",
                      (state, now(), json.dumps(error) if error else None,
                       json.dumps(summary) if summary else None, report_path, job_id))

    def request_cancel(self, job_id: str) -> Job | None:
        """Cancel a queued job at once; flag a running one (its worker stops it). None: no such job."""
        with self._tx() as c:
            row = c.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return None
            if row["state"] == QUEUED:
                c.execute("UPDATE jobs SET state = ?, finished_at = ?, error = ? WHERE id = ?",
                          (CANCELLED, now(), json.dumps({"code": "cancelled",
                                                         "message": "cancelled before it started"}), job_id))
            elif row["state"] == RUNNING:
                c.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ?", (job_id,))
            return Job.from_row(c.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())

    def retry(self, job_id: str) -> Job | None:
        """Queue a failed, cancelled or interrupted job again (same id). None: no such job."""
        with self._tx() as c:
            row = c.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return None
            if row["state"] in RETRYABLE:
                c.execute("UPDATE jobs SET state = ?, started_at = NULL, finished_at = NULL, error = NULL, "
                          "summary = NULL, cancel_requested = 0 WHERE id = ?", (QUEUED, job_id))
            return Job.from_row(c.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())

    def recover(self) -> list[str]:
        """At start-up (and past a stop's grace period): jobs left running by a job-running process
        (``runner worker`` or ``runner serve``) that stopped without finishing them are marked interrupted."""
        with self._tx() as c:
            rows = c.execute("SELECT id, started_at FROM jobs WHERE state = ?", (RUNNING,)).fetchall()
            for row in rows:
                c.execute("UPDATE jobs SET state = ?, finished_at = ?, error = ? WHERE id = ?",
                          (INTERRUPTED, now(), json.dumps({
                              "code": "interrupted",
                              "message": f"the worker running this job (since {row['started_at']}) stopped before "
                                         "it finished: shut down, killed or crashed",
                              "fix": f"POST /jobs/{row['id']}/retry to run it again"}), row["id"]))
        return [r["id"] for r in rows]


def request_shape_error(text: str | bytes | None) -> str | None:
    """Why a stored request is over the caps or is not a JSON object's text, or None; counted on the
    bytes before any object is built (:func:`runner.core.outbox.json_shape_error`)."""
    from runner.core.outbox import json_shape_error

    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else (text or b"")
    if len(data) > MAX_REQUEST_BYTES:
        return f"{len(data)} bytes, over the cap of {MAX_REQUEST_BYTES}"
    why = json_shape_error(data, MAX_REQUEST_NODES, MAX_REQUEST_DEPTH)
    if why is not None:
        return why.split(" (the cap")[0]
    if not data.lstrip().startswith(b"{"):
        return "not a JSON object"
    return None
