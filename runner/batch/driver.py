"""``runner batch``: many videos, one Ray task each, sized by its plan; one summary row per video.

Each video becomes one task reserving what its plan needs (the largest job's CPUs, the memory of
the jobs that may run at once within those CPUs, one GPU when a job is on CUDA), and the task runs
:func:`runner.run.pipeline.analyze` with settings whose budgets equal that reservation: Ray decides
which videos run on which node, the executor decides which analyzers run at once inside a video.
A video that cannot run (not a video, a failed download, a lost worker) is an ``error`` row; it
never stops the batch. Ctrl-C (or SIGTERM) cancels what has not started, lets running videos stop
their analyzers, writes rows for what finished and exits 130; the result cache makes a rerun of
the same batch execute only what had not finished ``ok``.
"""
from __future__ import annotations

import json
import signal
import socket
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, TextIO

from runner.batch.inputs import expand_inputs, out_name
from runner.batch.rows import _progress_line, _row, cached, executed
from runner.batch.shape import BatchOutcome, BatchRequest, Shape, VideoJob, _Planner, shape_for
from runner.batch.result import VideoResult
from runner.core.config import Settings
from runner.core.errors import RunnerError, UsageError
from runner.core.params import check_params
from runner.run.pipeline import AnalyzeRequest, analyze
from runner.run.planner import select
from runner.core.registry import Registry, registry_for
from runner.core.terminal import printable
from shared_schema.report import Report

__all__ = ["BatchOutcome", "BatchRequest", "Shape", "VideoJob", "VideoResult", "run_batch", "run_video",
           "shape_for", "executed", "cached"]


# --------------------------------------------------------------------------- the task
def run_video(job: VideoJob, settings: Settings, where: str = "serial") -> VideoResult:
    """One video, in a Ray task (``where`` = local / cluster) or in this process (serial)."""
    res = VideoResult(node=socket.gethostname(), started=time.time())
    try:
        if where != "serial":
            import ray

            res.node_id = ray.get_runtime_context().get_node_id()
            settings = _task_settings(job, Settings.from_env() if where == "cluster" else settings, where)
        out = analyze(job.request, settings)
        res.report_json = out.report.model_dump_json()
        res.report_path = str(out.report_path) if job.request.out is not None else None
        res.workdir = str(out.workdir)
        res.interrupted = out.report.run.interrupted
    except KeyboardInterrupt:       # Ray's cancel, or Ctrl-C before the analyzers started
        res.interrupted = True
    except RunnerError as exc:
        res.error = {"type": type(exc).__name__, "message": exc.message, "fix": exc.fix}
    except Exception as exc:  # noqa: BLE001 - one broken video is a row, never a failed batch
        res.error = {"type": type(exc).__name__, "message": str(exc) or repr(exc), "fix": None}
    res.finished = time.time()
    return res


def _task_settings(job: VideoJob, base: Settings, where: str) -> Settings:
    """Budgets = what Ray reserved for this task; GPUs = the ones Ray gave it."""
    import os

    import ray

    gpus: tuple[str, ...] = ()
    if job.shape.gpus:
        ids = [str(g) for g in ray.get_gpu_ids()]
        # a local instance numbers the GPUs it was given (RUNNER_GPUS) 0..n-1
        gpus = tuple(base.gpus[int(i)] for i in ids if int(i) < len(base.gpus)) if where == "local" else tuple(ids)
        # analyzers address GPUs by host id; Ray's narrowing would renumber them
        os.environ.pop("CUDA_VISIBLE_DEVICES", None)
    return base.with_(cpu_budget=job.shape.cpus, memory_budget=job.shape.memory, gpus=gpus)


# --------------------------------------------------------------------------- the driver
#: called as each video's report is written: (report, its path); ``runner batch --dataset`` appends it
OnVideo = Callable[[Report, Path], None]


class _Batch:
    def __init__(self, req: BatchRequest, settings: Settings, registry: Registry, sources: list[str],
                 stream: TextIO, quiet: bool, on_video: OnVideo | None = None):
        self.req, self.settings, self.registry, self.sources = req, settings, registry, sources
        self.stream, self.quiet, self.on_video = stream, quiet, on_video
        self.rows: list[dict[str, Any]] = []
        self.submitted: dict[int, float] = {}
        self.started: dict[int, float] = {}     # serial: the video in hand; Ray: the engine's (reported by tasks)
        self.engine = None
        req.out.mkdir(parents=True, exist_ok=True)
        self.summary_path = req.out / "summary.jsonl"
        self._summary = self.summary_path.open("w", encoding="utf-8")

    def say(self, text: str) -> None:
        if not self.quiet:  # a line may quote a sandbox (a download's message): no control characters
            print(printable(text), file=self.stream, flush=True)

    @property
    def starts_known(self) -> bool:
        """False on Ray without its StartLog actor: then nothing tells queued from running."""
        return self.engine is None or self.engine.starts_known

    def in_flight(self) -> tuple[list[int], list[int]]:
        """(running, queued): the submitted videos without a row, split by whether their task has
        started on a worker (when not ``starts_known``: all of them under running)."""
        finished = {r["index"] for r in list(self.rows)}
        flight = [i for i in list(self.submitted) if i not in finished]
        if not self.starts_known:
            return flight, []
        started = self.start_times()
        return [i for i in flight if i in started], [i for i in flight if i not in started]

    def start_times(self) -> dict[int, float]:
        """Video index -> when its current attempt started on a worker."""
        return self.started if self.engine is None else self.engine.started

    def retrying(self, job: VideoJob, lost: list[dict[str, Any]]) -> None:
        from runner.batch.cluster import LOST_RETRIES

        self.say(f"[retry] {job.name}: {lost[-1]['type']} (its node or worker died); submitted again "
                 f"({len(lost)}/{LOST_RETRIES})")

    def job(self, index: int, source: str, shape: Shape) -> VideoJob:
        """The video's task; where its task runs on this machine, its pipeline writes the report (and
        page) straight to ``--out``; on a cluster's node, ``--out`` is not there: it comes back to us."""
        r, name = self.req, out_name(source)
        here = self.engine is None or not self.engine.cluster
        request = AnalyzeRequest(source=source, only=r.only, skip=r.skip, backend=r.backend, keep_media=r.keep_media,
                                 params=r.params, use_cache=r.use_cache, html=r.html and here,
                                 out=(r.out / f"{name}.json").resolve() if here else None)
        return VideoJob(index=index, source=source, name=name, shape=shape, request=request)

    def record(self, job: VideoJob, res: VideoResult | BaseException | None,
               error: dict[str, Any] | None = None, status: str | None = None) -> dict[str, Any]:
        report = path = None
        if isinstance(res, BaseException):
            error, res = {"type": type(res).__name__, "message": str(res).strip() or repr(res), "fix": None}, None
        elif res is not None:
            error = error or res.error
            if res.report_json:
                report = Report.model_validate_json(res.report_json)
                path = Path(res.report_path) if res.report_path else self._deliver(job, report)
                if self.on_video is not None:
                    self.on_video(report, path)
        row = _row(job, self.submitted.get(job.index, 0.0), res, report, path, error)
        if status is not None:
            row["status"] = status
        self.rows.append(row)
        self._summary.write(json.dumps(row) + "\n")
        self._summary.flush()
        line = _progress_line(len(self.rows), len(self.sources), row)
        running, queued = self.in_flight()
        if running or queued:
            line += (f" [{len(running)} running, {len(queued)} queued]" if self.starts_known
                     else f" [{len(running)} submitted, not back]")
        self.say(line)
        return row

    def _deliver(self, job: VideoJob, report: Report) -> Path:
        """A report that ran on a cluster's node, written where ``--out`` is (docs/batch.md: no node needs it)."""
        from runner.run.merge import write_report

        path = write_report(report, (self.req.out / f"{job.name}.json").resolve())
        if self.req.html:
            from runner.report import write_html

            write_html(report, path.with_suffix(".html"))
        return path

    def close(self) -> None:
        self._summary.close()


def _sigterm_as_interrupt(*_):
    raise KeyboardInterrupt


def run_batch(req: BatchRequest, settings: Settings, registry: Registry | None = None,
              stream: TextIO | None = None, quiet: bool = False, on_video: OnVideo | None = None) -> BatchOutcome:
    """Run every video of ``req.inputs``; rows go to ``req.out/summary.jsonl`` as videos finish (and each
    report to ``on_video``)."""
    t0 = time.monotonic()
    sources = expand_inputs(req.inputs)
    if not sources:
        raise UsageError(f"no videos in {' '.join(req.inputs) or 'INPUTS'}",
                         fix="give video files, a folder of them, a .txt list of paths/URLs, or URLs")
    registry = registry if registry is not None else registry_for(settings)
    select(registry, req.only, req.skip)          # unknown names: a usage error before anything starts
    req = replace(req, params=check_params(req.params, registry))  # and so is a bad param
    engine = None
    if not req.serial:
        from runner.batch.cluster import RayEngine

        engine = RayEngine(req.ray, settings, run_video)
    main_thread = threading.current_thread() is threading.main_thread()
    old_term = signal.getsignal(signal.SIGTERM) if main_thread else None
    batch = None
    interrupted = False
    try:
        if engine is not None:
            engine.start()   # ray.init installs its own SIGTERM handler; ours goes in after it
        if main_thread:
            signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
        batch = _Batch(req, settings, registry, sources, stream or sys.stderr, quiet, on_video)
        from runner.batch.live import live_batch  # a live view on a terminal, else the lines as they are

        with live_batch(batch, batch.stream, quiet):
            interrupted = _drive(batch, engine)
    finally:
        if engine is not None:
            engine.shutdown()
        if main_thread:
            signal.signal(signal.SIGTERM, old_term)
        if batch is not None:
            batch.close()
    wall = time.monotonic() - t0
    out = BatchOutcome(rows=batch.rows, wall_s=wall, interrupted=interrupted, summary_path=batch.summary_path)
    by = {s: sum(r["status"] == s for r in out.rows) for s in ("ok", "partial", "error", "interrupted", "not_started")}
    counts = ", ".join(f"{v} {s.replace('_', ' ')}" for s, v in by.items() if v or s in ("ok", "partial", "error"))
    batch.say(f"batch: {len(sources)} videos ({counts}); {wall:.1f}s wall, "
              f"{out.videos_per_hour:.0f} videos/hour; summary {out.summary_path}")
    return out


def _drive(batch: _Batch, engine) -> bool:
    """Plan, submit and collect every video; True when interrupted."""
    from runner.batch.cluster import clamp

    settings = batch.settings
    n = len(batch.sources)
    try:
        cap = None
        if engine is not None:
            engine.on_retry = batch.retrying
            batch.engine = engine
            cap = engine.capacity()
            if engine.cluster:   # plan GPUs by what the cluster has, not by this (driver) host
                settings = settings.with_(gpus=("0",) if cap.gpus else ())
            batch.say(f"batch: {n} videos on {engine.describe()}; reports in {batch.req.out}")
        else:
            batch.say(f"batch: {n} videos, serial in this process; reports in {batch.req.out}")
        planner = _Planner(settings, batch.registry, batch.req)
        for i, src in enumerate(batch.sources):
            try:
                shape = planner.shape(src)
            except RunnerError as exc:   # not a video, missing, truncated: a row, not a crash
                batch.record(batch.job(i, src, Shape(0, 0)), None,
                             {"type": type(exc).__name__, "message": exc.message, "fix": exc.fix})
                continue
            except Exception as exc:  # noqa: BLE001 - same: this video's row
                batch.record(batch.job(i, src, Shape(0, 0)), exc)
                continue
            job = batch.job(i, src, clamp(shape, cap) if cap else shape)
            batch.submitted[i] = time.time()
            if engine is None:
                batch.started[i] = batch.submitted[i]
            if engine is None:
                res = run_video(job, batch.settings)
                batch.record(job, res)
                if res.interrupted:
                    raise KeyboardInterrupt
            else:
                engine.submit(job, batch.settings)
                _collect(batch, engine, timeout=0)
        while engine is not None and engine.pending:
            _collect(batch, engine, timeout=0.5)
        return False
    except KeyboardInterrupt:
        if engine is not None:
            batch.say("interrupted: cancelling queued videos, stopping running ones (Ctrl-C again: do not wait)")
            for job, res in engine.cancel():
                batch.record(job, res)
        done = {r["index"] for r in batch.rows}
        for i, src in enumerate(batch.sources):   # one row per video, also for those never started
            if i not in done:
                batch.record(batch.job(i, src, Shape(0, 0)), None, {
                    "type": "NotStarted", "message": "the batch was interrupted before this video started",
                    "fix": "rerun the same command"}, status="not_started")
        batch.say("interrupted: rerun the same command to continue (finished analyzers come from the cache)")
        return True


def _collect(batch: _Batch, engine, timeout: float) -> None:
    for job, res in engine.poll(timeout=timeout):
        batch.record(job, res)
        if isinstance(res, VideoResult) and res.interrupted:   # a worker got the Ctrl-C itself
            raise KeyboardInterrupt
