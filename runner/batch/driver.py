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
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from runner.batch.inputs import expand_inputs, out_name
from runner.batch.result import VideoResult
from runner.config import Settings
from runner.errors import RunnerError, UsageError
from runner.params import check_params
from runner.run.execute import job_resources
from runner.run.pipeline import AnalyzeRequest, analyze, plan_for
from runner.run.planner import Plan, select
from runner.registry import Registry, registry_for
from shared_schema.report import Report

__all__ = ["BatchOutcome", "BatchRequest", "Shape", "VideoJob", "VideoResult", "run_batch", "run_video",
           "shape_for", "executed", "cached"]

MIN_MEMORY = 256 * 1024**2   # a video with nothing to run still probes and extracts


@dataclass
class BatchRequest:
    inputs: list[str]
    out: Path = Path("batch-out")
    only: list[str] | None = None
    skip: list[str] | None = None
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    backend: str | None = None
    use_cache: bool = True
    html: bool = False                     # also write <name>.html beside each <name>.json
    keep_media: bool = False               # keep each workdir's frames and audio (tens of MB a video)
    ray: str | None = None                 # None / "local": start a local Ray; "auto", "ray://host:port": join
    serial: bool = False                   # no Ray: one video after another in this process
    cpus_per_video: float | None = None    # default: the largest job's cpus


@dataclass(frozen=True)
class Shape:
    """What one video's task reserves."""

    cpus: float
    memory: int
    gpus: int = 0


@dataclass(frozen=True)
class VideoJob:
    index: int
    source: str
    name: str
    shape: Shape
    request: AnalyzeRequest


@dataclass
class BatchOutcome:
    rows: list[dict[str, Any]]
    wall_s: float
    interrupted: bool
    summary_path: Path

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        return 0 if all(r["status"] == "ok" for r in self.rows) else 1

    @property
    def videos_per_hour(self) -> float:
        return len(self.rows) * 3600 / self.wall_s if self.wall_s > 0 else 0.0


# --------------------------------------------------------------------------- planning
def _job_needs(registry: Registry, name: str, params: dict[str, dict[str, Any]]) -> tuple[float, int]:
    cpus, mem, _ = job_resources(registry[name].manifest, params.get(name, {}))
    return cpus, mem


def shape_for(the_plan: Plan, registry: Registry, params: dict[str, dict[str, Any]] | None = None,
              cpus_per_video: float | None = None) -> Shape:
    """CPUs: the largest job's (or ``cpus_per_video``). Memory: per stage, the largest jobs that fit
    in those CPUs at once (at least one), summed; the largest such sum. GPUs: 1 if a job is on CUDA."""
    params = params or {}
    needs = {n: _job_needs(registry, n, params) for n in the_plan.runnable}
    if not needs:
        return Shape(cpus=cpus_per_video or 1.0, memory=MIN_MEMORY, gpus=0)
    cpus = float(cpus_per_video) if cpus_per_video else max(c for c, _ in needs.values())
    memory = 0
    for stage in the_plan.stages:
        jobs = sorted((needs[n] for n in stage if n in needs), key=lambda cm: cm[1], reverse=True)
        used_cpus, mem = 0.0, 0
        for c, m in jobs:
            if mem and used_cpus + min(c, cpus) > cpus:
                continue
            used_cpus += min(c, cpus)
            mem += m
        memory = max(memory, mem)
    gpus = 1 if any(p.device.startswith("cuda") for p in the_plan.runnable.values()) else 0
    return Shape(cpus=cpus, memory=max(memory, MIN_MEMORY), gpus=gpus)


class _Planner:
    """Plans per video on the driver; the plan depends on the media only through ``has_audio``."""

    def __init__(self, settings: Settings, registry: Registry, req: BatchRequest):
        self.settings, self.registry, self.req = settings, registry, req
        self._plans: dict[bool, Plan] = {}

    def plan(self, has_audio: bool) -> Plan:
        if has_audio not in self._plans:
            self._plans[has_audio] = plan_for(self.settings, self.registry, has_audio, self.req.only, self.req.skip)
        return self._plans[has_audio]

    def shape(self, source: str) -> Shape:
        # Sized as if it had audio (the larger shape): the driver decodes nothing; each video is
        # admitted and probed in its own task, where a refusal is that video's error row.
        del source
        return shape_for(self.plan(True), self.registry, self.req.params, self.req.cpus_per_video)


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


# --------------------------------------------------------------------------- rows
def executed(report: Report) -> list[str]:
    """Analyzers launched in this run (not reused from the result cache)."""
    return sorted(n for n, e in report.analyzers.items() if e.cache is None and e.attempts)


def cached(report: Report) -> list[str]:
    return sorted(n for n, e in report.analyzers.items() if e.cache is not None)


def _row(job: VideoJob, submitted: float, res: VideoResult | None, report: Report | None, report_path: Path | None,
         error: dict[str, Any] | None) -> dict[str, Any]:
    row: dict[str, Any] = {"index": job.index, "source": job.source, "name": job.name,
                           "status": "error", "report": str(report_path) if report_path else None,
                           "counts": {}, "cached": 0, "executed": 0, "timings": {},
                           "resources": asdict(job.shape), "node": res.node if res else None,
                           "node_id": res.node_id if res else None, "retries": res.retries if res else [],
                           "workdir": res.workdir if res else None, "error": error}
    if res is not None and res.started:
        row["timings"]["queue_s"] = round(max(0.0, res.started - submitted), 3)
        row["timings"]["task_s"] = round(res.finished - res.started, 3)
    if report is not None:
        t = report.run.timings
        ran = executed(report)
        row["timings"].update(probe_s=t.probe_s, extract_s=t.extract_s, merge_s=t.merge_s, total_s=t.total_s,
                              analyzers_s=round(sum(t.analyzers_s.get(n, 0.0) for n in ran), 3))
        row.update(counts={s.value: n for s, n in report.counts.items() if n}, cached=len(cached(report)),
                   executed=len(ran), run_id=report.run.run_id,
                   status="interrupted" if report.run.interrupted else "ok" if report.all_ok else "partial")
    elif res is not None and res.interrupted:
        row["status"] = "interrupted"
    return row


def _progress_line(k: int, n: int, row: dict[str, Any]) -> str:
    counts = ", ".join(f"{v} {s}" for s, v in row["counts"].items())
    if row["counts"]:
        counts += f"; {row['cached']} cached"
    if row["error"]:
        counts = f"{row['error']['type']}: {row['error']['message'].splitlines()[0][:100]}"
    secs = row["timings"].get("task_s", row["timings"].get("total_s"))
    return f"[{k}/{n}] {row['name']} {row['status']} ({counts})" + (f" {secs:.1f}s" if secs is not None else "")


# --------------------------------------------------------------------------- the driver
class _Batch:
    def __init__(self, req: BatchRequest, settings: Settings, registry: Registry, sources: list[str],
                 stream: TextIO, quiet: bool):
        self.req, self.settings, self.registry, self.sources = req, settings, registry, sources
        self.stream, self.quiet = stream, quiet
        self.rows: list[dict[str, Any]] = []
        self.submitted: dict[int, float] = {}
        self.started: dict[int, float] = {}     # serial: the video in hand; Ray: the engine's (reported by tasks)
        self.engine = None
        req.out.mkdir(parents=True, exist_ok=True)
        self.summary_path = req.out / "summary.jsonl"
        self._summary = self.summary_path.open("w", encoding="utf-8")

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.stream, flush=True)

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
        r = self.req
        request = AnalyzeRequest(source=source, only=r.only, skip=r.skip, backend=r.backend, keep_media=r.keep_media,
                                 params=r.params, use_cache=r.use_cache)
        return VideoJob(index=index, source=source, name=out_name(source), shape=shape, request=request)

    def record(self, job: VideoJob, res: VideoResult | BaseException | None,
               error: dict[str, Any] | None = None, status: str | None = None) -> dict[str, Any]:
        report = path = None
        if isinstance(res, BaseException):
            error, res = {"type": type(res).__name__, "message": str(res).strip() or repr(res), "fix": None}, None
        elif res is not None:
            error = error or res.error
            if res.report_json:
                report = Report.model_validate_json(res.report_json)
                path = self._write_report(job, report)
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

    def _write_report(self, job: VideoJob, report: Report) -> Path:
        from runner.run.merge import write_report

        path = write_report(report, (self.req.out / f"{job.name}.json").resolve())
        if self.req.html:
            from runner.report.html import write_html

            write_html(report, path.with_suffix(".html"))
        return path

    def close(self) -> None:
        self._summary.close()


def _sigterm_as_interrupt(*_):
    raise KeyboardInterrupt


def run_batch(req: BatchRequest, settings: Settings, registry: Registry | None = None,
              stream: TextIO | None = None, quiet: bool = False) -> BatchOutcome:
    """Run every video of ``req.inputs``; rows go to ``req.out/summary.jsonl`` as videos finish."""
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
        batch = _Batch(req, settings, registry, sources, stream or sys.stderr, quiet)
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
