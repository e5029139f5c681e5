"""Run a plan on a backend, under CPU, memory and GPU budgets.

Each analyzer starts once what it reads (``needs``/``after``; a final one: every other) has
finished, not when a whole stage has: jobs run concurrently while their declared cpus and memory
fit the budgets (a job larger than a budget runs alone), admitted in priority order
(runner.run.schedule); a GPU-heavy job takes its GPU alone. Each job may be retried with degraded
params when its manifest declares it (``[retry]``); every attempt is recorded in the envelope.
"""
from __future__ import annotations

import errno
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from runner.backends.base import Backend, LaunchSpec
from runner.cache.keys import RunCache
from runner.run.collect import classify, runner_envelope, skipped
from runner.core.outbox import Limits
from runner.run.files import append_log, dropped_outputs, fresh_out_dir
from runner.run.inputs import InputsFailed, JobInputs, RunInputs
from runner.run.planner import Plan
from runner.run.schedule import Budget, Scheduler, chain_costs, priority
from runner.core.params import job_params
from runner.core.registry import Entry, Registry
from shared_schema.envelope import Attempt, Envelope, ErrorInfo, SkipReason, Status
from shared_schema.job import JobSpec
from shared_schema.manifest import parse_memory
from shared_schema.paths import Workdir

log = logging.getLogger(__name__)


def job_resources(manifest, user: dict[str, Any]) -> tuple[float, int, float]:
    """(cpus, memory bytes, timeout s) of an analyzer, with ``--set name.cpus/memory/timeout_s`` applied."""
    r = manifest.resources
    mem = parse_memory(str(user["memory"])) if "memory" in user else r.memory_bytes
    return float(user.get("cpus", r.cpus)), mem, float(user.get("timeout_s", r.timeout_s))


class Progress(Protocol):
    """What the executor reports. Optional, looked up with getattr (a Progress may omit them):
    ``planned(stages, upstream)`` once before the first stage (upstream: name -> what it reads) and
    ``waiting(name, why)`` when a job waits for the extraction or for the CPU/memory/GPU budget."""

    def started(self, name: str, attempt: int) -> None: ...
    def finished(self, name: str, env: Envelope) -> None: ...


class _Silent:
    def started(self, name: str, attempt: int) -> None:
        pass

    def finished(self, name: str, env: Envelope) -> None:
        pass


@dataclass
class ExecContext:
    run_id: str
    workdir: Workdir
    registry: Registry
    plan: Plan
    models_dir: Path | None
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # --set name.key=value (runner.core.params)
    #: the frame sets and audio, extracted when the first analyzer that is not cached is about to run
    inputs: RunInputs = field(default_factory=RunInputs)
    cache: RunCache | None = None
    source: str = ""
    #: caps on what a sandbox wrote and on its log (``Settings.outbox_limits()``)
    limits: Limits = field(default_factory=Limits)


class Executor:
    def __init__(self, backend: Backend, budget: Budget, progress: Progress | None = None):
        self.backend = backend
        self.budget = budget
        self.progress = progress or _Silent()
        self.cancel = threading.Event()
        self.results: dict[str, Envelope] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------
    def run(self, ctx: ExecContext) -> dict[str, Envelope]:
        """Run every analyzer once what it reads is done; on cancel, what did not finish is recorded as
        interrupted."""
        sched = Scheduler(self.budget)
        names = [n for stage in ctx.plan.stages for n in stage]
        upstream = {n: self._upstream(ctx, ctx.registry[n]) for n in names}
        planned = getattr(self.progress, "planned", None)
        if planned is not None:
            planned(ctx.plan.stages, upstream)
        # a final analyzer waits for every non-final one (finals run side by side, as one last stage)
        waits = {n: [u for u in upstream[n] if not ctx.registry[u].manifest.final] for n in names}
        memory = {n: job_resources(ctx.registry[n].manifest, ctx.params.get(n, {}))[1] for n in names}
        chain = chain_costs(waits, memory)  # declared memory stands for cost (runner.run.schedule)
        done = {n: threading.Event() for n in names}
        # the jobs that read nothing take their places in the queue before any thread starts: the first
        # thread to run must not take the cores ahead of a costlier job whose thread has not started yet
        first = {n: self._enqueue(ctx, ctx.registry[n], sched, chain[n]) for n in names
                 if not waits[n] and n in ctx.plan.runnable}
        threads = [threading.Thread(target=self._when_ready, name=f"job-{n}", daemon=True,
                                    args=(ctx, ctx.registry[n], sched, [done[u] for u in waits[n]], done[n], chain[n],
                                          first.get(n)))
                   for n in names]
        try:
            for t in threads:
                t.start()
            for t in threads:
                while t.is_alive():
                    t.join(0.2)
            if ctx.inputs.error is not None:  # the extraction failed: the run stops with its error
                raise ctx.inputs.error
        except KeyboardInterrupt:
            # Ctrl-C / SIGTERM: stop what runs, keep what finished, record the rest.
            self.interrupt()
            for t in threads:
                t.join(30)
            for name in names:
                if name not in self.results:
                    self._record(ctx, name, skipped(ctx.registry[name], SkipReason.interrupted,
                                                   "the run was interrupted before it finished"))
            raise
        return self.results

    def _when_ready(self, ctx: ExecContext, entry: Entry, sched: Scheduler, after: list[threading.Event],
                    done: threading.Event, chain_cost: int, ticket: tuple[int, tuple] | None = None) -> None:
        """One analyzer's thread: wait for what it reads, then skip it or run it; always say it is done."""
        try:
            for ev in after:
                while not ev.wait(0.2) and not self.cancel.is_set():
                    pass
            env = self._pre_skip(ctx, entry)
            if env is not None:
                self._record(ctx, entry.name, env)
                return
            # its place in the queue is taken before the pre-launch work (cache, checksums, extraction)
            ticket = ticket or self._enqueue(ctx, entry, sched, chain_cost)
            self._run_job(ctx, entry, sched, ticket[1], ticket[0])
        finally:
            if ticket is not None:
                sched.withdraw(ticket[0])  # a cache hit, a skip or a failure before launch gives its place up
            done.set()

    @staticmethod
    def _enqueue(ctx: ExecContext, entry: Entry, sched: Scheduler, chain_cost: int) -> tuple[int, tuple]:
        cpus, mem, _ = job_resources(entry.manifest, ctx.params.get(entry.name, {}))
        planned = ctx.plan.runnable[entry.name]
        rank = priority(cpus, chain_cost, entry.name)
        return sched.enqueue(cpus, mem, planned.gpu, planned.gpu_heavy, rank), rank

    def _record(self, ctx: ExecContext, name: str, env: Envelope) -> None:
        """Keep the final envelope, and write it to ``results/<name>.json`` (runner-owned, outside
        every sandbox mount) so later stages see the runner's verdict (oom, timeout, skipped...)
        and every attempt, not a stale file."""
        with self._lock:
            self.results[name] = env
        out = ctx.workdir.result(name)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_name(f".{out.name}.tmp")
            tmp.write_text(env.model_dump_json(indent=2))
            tmp.replace(out)
        finally:  # a write that fails (a full disk) must not leave the analyzer shown as running
            self.progress.finished(name, env)

    def _pre_skip(self, ctx: ExecContext, entry: Entry) -> Envelope | None:
        name = entry.name
        if self.cancel.is_set():
            return skipped(entry, SkipReason.interrupted, "the run was interrupted before it started")
        if name in ctx.plan.skipped:
            s = ctx.plan.skipped[name]
            return skipped(entry, s.reason, s.message, s.fix)
        bad = [u for u in entry.manifest.needs
               if u in self.results and self.results[u].status is not Status.ok]
        if bad:
            detail = ", ".join(f"{u} ({self.results[u].status.value})" for u in bad)
            return skipped(entry, SkipReason.upstream_failed, f"needs {detail}")
        why = self.backend.unavailable(entry)
        if why is not None:
            return skipped(entry, *why)
        return None

    @staticmethod
    def _upstream(ctx: ExecContext, entry: Entry) -> list[str]:
        """A final analyzer sees every other selected analyzer; others see what they declare."""
        m = entry.manifest
        return ([n for n in ctx.plan.selected if n != m.name] if m.final
                else [u for u in m.upstream if u in ctx.plan.selected])

    @staticmethod
    def _params(ctx: ExecContext, entry: Entry) -> dict[str, Any]:
        """Every declared param: the user's value or its default (what the job spec and the cache key hold)."""
        return job_params(entry.manifest, ctx.params.get(entry.name, {}))

    def _write_job(self, ctx: ExecContext, entry: Entry, attempt: int, overrides: dict[str, Any],
                   inputs: JobInputs) -> Path:
        m = entry.manifest
        planned = ctx.plan.runnable[entry.name]
        upstream = self._upstream(ctx, entry)
        job = JobSpec(
            run_id=ctx.run_id, analyzer=m.name, analyzer_version=m.version, result=m.result,
            frames=inputs.frames, audio=inputs.audio,
            upstream={u: ctx.workdir.rel(ctx.workdir.result(u)) for u in upstream},
            params=self._params(ctx, entry),
            overrides=overrides,
            attempt=attempt, device=planned.device, threads=max(1, int(round(m.resources.cpus))),
            models=m.models)
        path = ctx.workdir.job(m.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(job.model_dump_json(indent=2))
        tmp.replace(path)
        return path

    def _inputs(self, ctx: ExecContext, entry: Entry) -> JobInputs:
        """This job's frame folders and audio (the first ask extracts); a failed extraction cancels the run."""
        try:
            return ctx.inputs.for_job(entry.manifest.inputs.frames, entry.manifest.inputs.audio)
        except InputsFailed:
            self.cancel.set()
            raise

    @staticmethod
    def _chosen(ctx: ExecContext, entry: Entry) -> list:
        """The store files its model params name, hashed here on the host (runner.models.chosen)."""
        from runner.models.chosen import chosen_models
        from runner.models.verify import CACHE_NAME

        cache_file = ctx.cache.store.root / CACHE_NAME if ctx.cache is not None else None
        return chosen_models(entry.manifest, Executor._params(ctx, entry), ctx.models_dir, cache_file)

    def _cache_key(self, ctx: ExecContext, entry: Entry, chosen: list) -> str | None:
        from runner.models.chosen import key_rows

        if ctx.cache is None:
            return None
        return ctx.cache.key(entry, self._params(ctx, entry), ctx.plan.runnable[entry.name].device,
                             {u: self.results.get(u) for u in self._upstream(ctx, entry)}, key_rows(chosen))

    def _run_job(self, ctx: ExecContext, entry: Entry, sched: Scheduler, rank: tuple = (),
                 ticket: int | None = None) -> None:
        try:
            chosen = self._chosen(ctx, entry)
            key = self._cache_key(ctx, entry, chosen)
            if key is not None:
                hit = ctx.cache.lookup(key, ctx.workdir.out_dir(entry.name))
                if hit is not None:
                    append_log(ctx.workdir.log(entry.name), f"--- reused from the result cache: key {key}, "
                               f"run {hit.cache.run_id if hit.cache else '?'}\n")
                    self._record(ctx, entry.name, hit)
                    return
            bad_model = self._models_mismatch(ctx, entry)
            if bad_model is not None:
                self._record(ctx, entry.name, bad_model)
                return
            env = self._attempts(ctx, entry, sched, chosen, rank, ticket)
            if key is not None:
                ctx.cache.save(key, env, ctx.workdir.out_dir(entry.name), ctx.run_id, ctx.source, ctx.limits)
        except InputsFailed:
            return  # run() raises the original error
        except Exception as exc:  # a backend error costs this analyzer's entry, never the report
            full = isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
            (log.warning if full else log.exception)("runner error while running %s: %s", entry.name, exc)
            try:
                self._record(ctx, entry.name, runner_envelope(entry, Status.crashed, error=ErrorInfo(
                    type=f"RunnerError.{type(exc).__name__}", message=f"the runner could not run it: {exc}")))
            except OSError:
                pass  # not even the envelope fits (a full disk): it is kept in memory, the run says why

    @staticmethod
    def _models_mismatch(ctx: ExecContext, entry: Entry) -> Envelope | None:
        """A ``failed`` envelope when a store model it loads differs from its declared sha256
        (checked here, on the host, before launch; remembered by file identity: see runner.models.verify)."""
        from runner.models.verify import CACHE_NAME, describe, verify

        cache_file = ctx.cache.store.root / CACHE_NAME if ctx.cache is not None else None
        bad = verify(entry.manifest.models, ctx.models_dir, cache_file)
        if not bad:
            return None
        message, fix = describe(bad)
        return runner_envelope(entry, Status.failed, error=ErrorInfo(type="ModelChecksumMismatch", message=message,
                                                                     fix=fix))

    def _attempts(self, ctx: ExecContext, entry: Entry, sched: Scheduler, chosen: list = (),
                  rank: tuple = (), ticket: int | None = None) -> Envelope:
        m = entry.manifest
        planned = ctx.plan.runnable[entry.name]
        gpu = planned.gpu
        cpus, mem, timeout = job_resources(m, ctx.params.get(m.name, {}))
        out_dir = ctx.workdir.out_dir(m.name)
        ctx.workdir.log(m.name).parent.mkdir(parents=True, exist_ok=True)
        attempts: list[Attempt] = []
        overrides: dict[str, Any] = {}
        env: Envelope | None = None
        waiting = getattr(self.progress, "waiting", None)
        on_wait = (lambda why: waiting(m.name, why)) if waiting is not None else None
        if on_wait is not None and not ctx.inputs.ready:
            on_wait("extraction")
        inputs = self._inputs(ctx, entry)
        t_start = time.monotonic()
        for n in range(1, m.retry.max_attempts + 1):
            if not sched.acquire(cpus, mem, gpu, planned.gpu_heavy, self.cancel, on_wait, rank,
                                 ticket if n == 1 else None):
                env = skipped(entry, SkipReason.interrupted, "the run was interrupted before it started")
                break
            try:
                self.progress.started(m.name, n)
                job_path = self._write_job(ctx, entry, n, overrides, inputs)
                fresh_out_dir(out_dir)  # every attempt starts from an empty, non-world-writable /out
                spec = LaunchSpec(run_id=ctx.run_id, entry=entry, workdir=ctx.workdir.root, job_path=job_path,
                                  out_dir=out_dir, models_dir=ctx.models_dir, memory_bytes=mem, cpus=cpus,
                                  timeout_s=timeout, pids=m.resources.pids, device=planned.device, attempt=n,
                                  log_path=ctx.workdir.log(m.name), log_cap=ctx.limits.max_log_bytes)
                outcome = self.backend.launch(spec, self.cancel)
            finally:
                sched.release(cpus, mem, gpu, planned.gpu_heavy)
            env = classify(entry, outcome, ctx.workdir.sandbox_result(m.name), ctx.workdir.log(m.name),
                           mem, timeout, planned.device, ctx.limits)
            attempts.append(Attempt(n=n, status=env.status, overrides=dict(overrides),
                                    duration_s=outcome.duration_s, exit_code=outcome.exit_code, error=env.error))
            retryable = env.status.value in m.retry.on and not self.cancel.is_set()
            if not retryable or n >= m.retry.max_attempts:
                break
            step = m.retry.overrides[min(n - 1, len(m.retry.overrides) - 1)] if m.retry.overrides else {}
            overrides = {**overrides, **step}
        assert env is not None
        degraded = list(env.degraded_reasons)
        if attempts and attempts[-1].overrides and env.status is Status.ok:
            degraded.append(f"attempt {attempts[-1].n} ran with overrides {attempts[-1].overrides} "
                            f"after {attempts[-2].status.value}")
        dropped = dropped_outputs(out_dir, ctx.limits) if attempts else []
        from runner.models.chosen import model_uses

        env = env.model_copy(update={"attempts": attempts, "degraded": bool(degraded), "dropped": dropped,
                                     "models": [*env.models, *model_uses(m, list(chosen))],
                                     "degraded_reasons": degraded,
                                     "duration_s": round(time.monotonic() - t_start, 4)
                                     if len(attempts) > 1 else env.duration_s})
        self._record(ctx, m.name, env)
        return env

    def interrupt(self) -> None:
        self.cancel.set()
        self.backend.stop_all()
