"""The live terminal view of ``runner analyze`` (rich): one row per analyzer and a run-level bar.

Used only when stderr is an interactive terminal (runner.run.progress.for_stream); logs, CI, pipes and
``--quiet`` get the plain lines of ``LineProgress``. Phases (admit, probe, extract) and notices are
printed above the view as they come, so they stay in the scrollback; the last frame of the view
stays on screen when the run ends.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from runner.core.terminal import printable
from shared_schema.envelope import Envelope, Status

_WORD = {Status.ok: "ok", Status.skipped: "skipped", Status.failed: "FAILED", Status.invalid_output: "INVALID",
         Status.oom: "OOM", Status.timeout: "TIMEOUT", Status.crashed: "CRASHED"}
_STYLE = {Status.ok: "green", Status.skipped: "yellow", Status.failed: "bold red", Status.invalid_output: "bold red",
          Status.oom: "bold red", Status.timeout: "bold red", Status.crashed: "bold red"}


def clock(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:5.1f}s"
    m, s = divmod(int(seconds), 60)
    return f"{m}m{s:02d}s" if m < 60 else f"{m // 60}h{m % 60:02d}m"


@dataclass
class _Row:
    name: str
    stage: int
    state: str = "queued"            # queued | waiting | running | done
    why: str = ""                    # what a waiting row waits for
    attempt: int = 1
    t_start: float = 0.0
    wall_s: float | None = None      # started to finished, as seen here (a cached result never starts)
    env: Envelope | None = None
    upstream: list[str] = field(default_factory=list)


class LiveProgress:
    """The pipeline's progress interface (phase, notice, started, finished, total) plus the executor's
    optional ``planned`` and ``waiting`` hooks, drawn as a rich Live view. Use it as a context manager."""

    def __init__(self, stream: TextIO, refresh_per_second: float = 4):
        self.console = Console(file=stream, force_terminal=True, highlight=False)
        self.total = 0
        self.done = 0
        self._rows: dict[str, _Row] = {}
        self._stages: list[list[str]] = []
        self._lock = threading.RLock()
        self._t0 = time.monotonic()
        self._live = Live(get_renderable=self._render, console=self.console, transient=False,
                          refresh_per_second=refresh_per_second, redirect_stdout=False, redirect_stderr=True)

    # -- lifetime --------------------------------------------------------------
    def __enter__(self) -> "LiveProgress":
        self._live.start()
        return self

    def __exit__(self, *exc) -> None:
        self._live.stop()

    def _refresh(self) -> None:
        if self._live.is_started:
            self._live.refresh()

    # -- the pipeline's interface ---------------------------------------------
    def phase(self, name: str, seconds: float, detail: str = "") -> None:
        self.console.print(Text.assemble(("  ✓ ", "green"), (f"{printable(name):<10}", "bold"), f"{seconds:7.2f}s  ",
                                         (printable(detail), "dim")))

    def notice(self, text: str) -> None:
        self.console.print(Text.assemble(("note: ", "bold yellow"), printable(text)))

    # -- the executor's --------------------------------------------------------
    def planned(self, stages: list[list[str]], upstream: dict[str, list[str]]) -> None:
        with self._lock:
            self._stages = [list(s) for s in stages]
            for i, stage in enumerate(stages):
                for n in stage:
                    self._rows.setdefault(n, _Row(n, i, upstream=list(upstream.get(n, []))))
        self._refresh()

    def _row(self, name: str) -> _Row:
        if name not in self._rows:
            self._rows[name] = _Row(name, len(self._stages))
        return self._rows[name]

    def waiting(self, name: str, why: str) -> None:
        with self._lock:
            r = self._row(name)
            if r.state != "done":
                r.state, r.why = "waiting", why
        self._refresh()

    def started(self, name: str, attempt: int) -> None:
        with self._lock:
            r = self._row(name)
            r.state, r.attempt, r.why = "running", attempt, ""
            if attempt == 1 or not r.t_start:
                r.t_start = time.monotonic()
        self._refresh()

    def finished(self, name: str, env: Envelope) -> None:
        with self._lock:
            r = self._row(name)
            r.state, r.env = "done", env
            if r.t_start and env.cache is None:
                r.wall_s = time.monotonic() - r.t_start
            self.done += 1
        self._refresh()

    # -- drawing ---------------------------------------------------------------
    def _pending_upstream(self, r: _Row) -> str:
        """For a row of a later stage: the unfinished analyzers it reads, else the stage it waits for."""
        open_ = [u for u in r.upstream if u in self._rows and self._rows[u].state != "done"]
        if open_:
            return "waiting for " + ", ".join(open_[:3]) + (f" +{len(open_) - 3}" if len(open_) > 3 else "")
        return f"waiting for stage {r.stage}"   # stages print 1-based: this is the one before

    def _current_stage(self) -> int:
        for i, stage in enumerate(self._stages):
            if any(self._rows[n].state != "done" for n in stage):
                return i
        return len(self._stages)

    def _cells(self, r: _Row, now: float, current: int):
        if r.state == "done" and r.env is not None:
            env = r.env
            marks = [m for m, on in (("cached", env.cache is not None), ("degraded", env.degraded)) if on]
            why = ""
            if env.status is Status.skipped and env.skip_reason is not None:
                why = env.skip_reason.value + (f": {env.error.message}" if env.error else "")
            elif env.status is not Status.ok and env.error is not None:
                why = env.error.message
            detail = Text(" ".join(f"[{m}]" for m in marks), style="cyan")
            if why:  # an analyzer's own words: no control character reaches the terminal
                detail.append((" " if marks else "") + printable(why.splitlines()[0])[:100], style="dim")
            return (Text("✓" if env.status is Status.ok else "•" if env.status is Status.skipped else "✗",
                         style=_STYLE[env.status]), Text(_WORD[env.status], style=_STYLE[env.status]),
                    clock(r.wall_s if r.wall_s is not None else env.duration_s), detail)
        if r.state == "running":
            extra = f" (attempt {r.attempt})" if r.attempt > 1 else ""
            return Spinner("dots", style="cyan"), Text("running" + extra, style="bold cyan"), \
                clock(now - r.t_start), Text("")
        if r.state == "waiting":
            return Text("…", style="magenta"), Text("waiting", style="magenta"), "", \
                Text(f"waiting for {r.why}", style="magenta")
        if r.stage > current:
            return Text("·", style="dim"), Text("queued", style="dim"), "", Text(self._pending_upstream(r), style="dim")
        return Text("·", style="dim"), Text("queued", style="dim"), "", Text("")

    def _render(self):
        now = time.monotonic()
        with self._lock:
            table = Table.grid(padding=(0, 1))
            for col in ("mark", "name", "state", "time", "detail"):
                table.add_column(col, no_wrap=True, justify="right" if col == "time" else "left",
                                 overflow="ellipsis" if col == "detail" else "fold")
            current = self._current_stage()
            for r in sorted(self._rows.values(), key=lambda r: (r.stage, r.name)):
                mark, state, secs, detail = self._cells(r, now, current)
                table.add_row(mark, Text(r.name, style="bold" if r.state == "running" else ""), state, secs, detail)
            total = max(self.total, len(self._rows))
            done = self.done
            running = sum(r.state == "running" for r in self._rows.values())
            bad = sum(1 for r in self._rows.values() if r.env is not None
                      and r.env.status not in (Status.ok, Status.skipped))
        bar = Table.grid(padding=(0, 1))
        bar.add_row(Text("analyzers", style="bold"), ProgressBar(total=total or 1, completed=done, width=30),
                    f"{done}/{total} done", Text(f"{running} running", style="cyan"),
                    Text(f"{bad} not ok", style="bold red" if bad else "dim"), clock(now - self._t0))
        return Group(table, bar) if self._rows else bar
