"""The live terminal view of ``runner batch`` (rich): videos done/running/queued/failed, videos per hour, ETA.

Only when the batch's stream is an interactive terminal and not ``--quiet``
(runner.run.progress.is_live_terminal); otherwise the batch prints its plain lines as before. The
per-video lines (``[k/n] name status ...``) are still printed, above the view, so they stay in the
scrollback; the view reads the batch driver's own state (rows, submitted and started videos) on each
refresh. A video is running once its task has started on a worker (with Ray, the task reports it),
queued before that.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from runner.run.live import clock
from runner.run.progress import is_live_terminal
from runner.core.terminal import printable

#: how many in-flight videos the view names
SHOW_RUNNING = 8
FAILED = ("error", "interrupted")


def rate_and_eta(done: int, total: int, elapsed_s: float) -> tuple[float, float | None]:
    """(videos per hour, seconds left) from what finished so far; no ETA before the first video."""
    if done <= 0 or elapsed_s <= 0:
        return 0.0, None
    per_s = done / elapsed_s
    return per_s * 3600, max(0, total - done) / per_s


class BatchView:
    """Draws a ``runner.batch.driver._Batch``: its ``rows``, ``sources``, ``in_flight()`` and ``start_times()``."""

    def __init__(self, batch, stream, refresh_per_second: float = 2):
        self.batch = batch
        self.console = Console(file=stream, force_terminal=True, highlight=False)
        self._t0 = time.monotonic()
        self._t0_wall = time.time()
        self._lock = threading.Lock()
        self._live = Live(get_renderable=self._render, console=self.console, transient=False,
                          refresh_per_second=refresh_per_second, redirect_stdout=False, redirect_stderr=True)

    def say(self, text: str) -> None:
        """A line of the batch (``[k/n] ...``, notices): printed above the view."""
        with self._lock:
            style = "red" if " error (" in text or " interrupted (" in text else None
            self.console.print(Text(printable(text), style=style or ""))
        if self._live.is_started:
            self._live.refresh()

    def stats(self) -> dict[str, Any]:
        b = self.batch
        rows = list(b.rows)
        total = len(b.sources)
        running, queued = b.in_flight()
        failed = sum(r["status"] in FAILED for r in rows)
        partial = sum(r["status"] == "partial" for r in rows)
        elapsed = time.monotonic() - self._t0
        per_hour, eta = rate_and_eta(len(rows), total, elapsed)
        return {"total": total, "done": len(rows), "running": running, "queued": queued,
                "starts_known": b.starts_known, "failed": failed, "partial": partial,
                "ok": sum(r["status"] == "ok" for r in rows), "per_hour": per_hour, "eta_s": eta,
                "elapsed_s": elapsed}

    def _render(self):
        s = self.stats()
        b = self.batch
        bar = Table.grid(padding=(0, 1))
        bar.add_row(Text("videos", style="bold"), ProgressBar(total=s["total"] or 1, completed=s["done"], width=30),
                    f"{s['done']}/{s['total']} done",
                    Text(f"{len(s['running'])} running" if s["starts_known"] else f"{len(s['running'])} in flight",
                         style="cyan"),
                    Text(f"{len(s['queued'])} queued", style="dim"),
                    Text(f"{s['ok']} ok", style="green"),
                    Text(f"{s['partial']} partial", style="yellow" if s["partial"] else "dim"),
                    Text(f"{s['failed']} failed", style="bold red" if s["failed"] else "dim"),
                    f"{s['per_hour']:.0f} videos/hour" if s["done"] else "-- videos/hour",
                    f"ETA {clock(s['eta_s']).strip()}" if s["eta_s"] is not None else "ETA --",
                    clock(s["elapsed_s"]).strip())
        if not s["running"] and not s["queued"]:
            return bar
        now = time.time()
        started = b.start_times()
        names = Table.grid(padding=(0, 1))
        for i in s["running"][:SHOW_RUNNING]:
            since = started.get(i, b.submitted.get(i, now))
            names.add_row(Text("⠿", style="cyan"), Path(b.sources[i].split("?")[0]).name or b.sources[i],
                          clock(now - max(since, self._t0_wall)))
        more = len(s["running"]) - SHOW_RUNNING
        parts: list = [names] if s["running"] else []
        if more > 0:
            parts.append(Text(f"  +{more} more running", style="dim"))
        if s["queued"]:
            parts.append(Text(f"  {len(s['queued'])} queued: submitted, waiting for a worker with room", style="dim"))
        return Group(*parts, bar)

    def start(self) -> None:
        self._live.start()

    def stop(self) -> None:
        self._live.stop()


@contextmanager
def live_batch(batch, stream, quiet: bool) -> Iterator[BatchView | None]:
    """While the batch runs: on a terminal, its lines go above a live view; elsewhere nothing changes."""
    if not is_live_terminal(stream, quiet):
        yield None
        return
    view = BatchView(batch, stream)
    plain_say = batch.say
    batch.say = view.say          # this instance only: the lines keep their text
    view.start()
    try:
        yield view
    finally:
        view.stop()
        batch.say = plain_say
