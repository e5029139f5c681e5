"""Progress of a run: one line per event (logs, CI, pipes, ``--quiet``), or, when the stream is a
terminal, the live view of runner.run.live (rich): pick with ``for_stream``."""
from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from runner.core.terminal import printable
from shared_schema.envelope import Envelope, Status

_MARK = {Status.ok: "ok", Status.skipped: "skip", Status.failed: "FAIL", Status.invalid_output: "INVALID",
         Status.oom: "OOM", Status.timeout: "TIMEOUT", Status.crashed: "CRASH"}


class LineProgress:
    def __init__(self, total: int = 0, stream: TextIO | None = None, quiet: bool = False):
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self._lock = threading.Lock()
        self._t0 = time.monotonic()

    def __enter__(self) -> "LineProgress":
        return self

    def __exit__(self, *exc) -> None:
        return None

    def _say(self, text: str) -> None:
        """Print one line; what a sandbox wrote (error messages, notices, details) loses its control
        characters first (runner.core.terminal)."""
        if not self.quiet:
            with self._lock:
                print(printable(text), file=self.stream, flush=True)

    def phase(self, name: str, seconds: float, detail: str = "") -> None:
        self._say(f"  {name:<28} {seconds:7.2f}s  {detail}".rstrip())

    def notice(self, text: str) -> None:
        self._say(f"note: {text}")

    def started(self, name: str, attempt: int) -> None:
        extra = f" (attempt {attempt})" if attempt > 1 else ""
        self._say(f"  [{self.done:>2}/{self.total}] {name} started{extra}")

    def finished(self, name: str, env: Envelope) -> None:
        with self._lock:
            self.done += 1
            done = self.done
        why = ""
        if env.status is not Status.ok and env.error:
            why = f"  {env.error.message.splitlines()[0][:110]}"
        deg = " (degraded)" if env.degraded else ""
        self._say(f"  [{done:>2}/{self.total}] {name:<28} {_MARK[env.status]:<7} {env.duration_s:6.2f}s{deg}{why}")


def is_live_terminal(stream: TextIO, quiet: bool = False) -> bool:
    """A live view only on an interactive terminal: not for pipes, files, CI logs, ``--quiet`` or TERM=dumb."""
    if quiet:
        return False
    try:
        if not stream.isatty():
            return False
    except (AttributeError, ValueError):
        return False
    from rich.console import Console

    return not Console(file=stream).is_dumb_terminal


def for_stream(stream: TextIO | None = None, quiet: bool = False):
    """The live view (runner.run.live.LiveProgress) on a terminal, else the plain ``LineProgress``."""
    stream = stream or sys.stderr
    if is_live_terminal(stream, quiet):
        from runner.run.live import LiveProgress

        return LiveProgress(stream)
    return LineProgress(stream=stream, quiet=quiet)
