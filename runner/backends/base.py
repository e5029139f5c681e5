"""The small interface every backend implements.

Required: ``name``, ``unavailable(entry)``, ``launch(spec, cancel)``.
Optional: ``identity(entry)``, ``cleanup_stale()``, ``stop_all()``, ``describe()``.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from runner.core.registry import Entry
from shared_schema.envelope import SkipReason


@dataclass(frozen=True)
class LaunchSpec:
    """One attempt of one analyzer, fully resolved."""

    run_id: str
    entry: Entry
    workdir: Path
    job_path: Path      # inside workdir
    out_dir: Path       # inside workdir
    models_dir: Path | None
    memory_bytes: int
    cpus: float
    timeout_s: float
    pids: int
    device: str         # "cpu" | "cuda:<id>"
    attempt: int
    log_path: Path | None = None    # the runner's own log (default ``<workdir>/logs/<name>.txt``)
    log_cap: int = 8 * 2**20        # bytes of the sandbox's stdout/stderr kept per attempt

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def log_file(self) -> Path:
        """Where the backend writes this attempt's log: runner-owned, outside every sandbox mount."""
        return self.log_path or self.workdir / "logs" / f"{self.name}.txt"


@dataclass(frozen=True)
class RawOutcome:
    """What the backend saw; the executor turns it into a status."""

    exit_code: int | None
    duration_s: float
    timed_out: bool = False
    oom_killed: bool = False
    cancelled: bool = False
    signal: int | None = None
    detail: str | None = None   # backend-specific remark (e.g. container id)


class Backend:
    name = "base"

    def unavailable(self, entry: Entry) -> tuple[SkipReason, str, str | None] | None:
        """Why this analyzer can't run on this backend (reason, message, fix), or None."""
        return None

    def launch(self, spec: LaunchSpec, cancel: threading.Event) -> RawOutcome:
        raise NotImplementedError

    def identity(self, entry: Entry) -> str | None:
        """What runs this analyzer (image id, source digest), for the result cache; None: never cache."""
        return None

    def cleanup_stale(self) -> int:
        """Remove what a killed earlier run left behind; returns how many."""
        return 0

    def stop_all(self) -> None:
        """Stop everything this backend started (on interrupt)."""

    def describe(self) -> str:
        return self.name
