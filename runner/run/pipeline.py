"""One run end to end: resolve input, probe, plan, execute (extracting once, on first need), merge,
and write the run's report.json and report.html, once each: the adapters (the CLI, the API worker,
batch) only choose where (AnalyzeRequest.out, .html) and say why a run was stopped (.cancel_reason).
A batch on a Ray cluster is the one exception: its driver writes the report a node sent back."""
from __future__ import annotations

import secrets
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any, Callable

from runner import __version__
from runner.backends.base import Backend
from runner.backends.permissions import share_folder_with_sandbox
from runner.core.config import Settings
from runner.cache.store import ResultCache
from runner.cache.keys import RunCache
from runner.core.errors import UsageError
from runner.run.execute import Budget, ExecContext, Executor
from runner.run.inputs import RunInputs, extract_for_run
from runner.run.merge import build_report, write_report
from runner.models.store import missing_models
from runner.run.planner import Facts, Plan, plan
from runner.media.admit import Admitted, Limits, admit
from runner.media.tools import HostMediaExec  # noqa: F401  (callers pass one as AnalyzeRequest.media_exec)
from runner.media.probe import probe
from runner.run import space
from runner.run.progress import LineProgress
from runner.core.params import check_params
from runner.placement import Placement, place
from runner.core.registry import Registry, registry_for
from shared_schema.media import MediaInfo
from shared_schema.paths import FRAME_SETS, FrameSetSpec, Workdir
from shared_schema.report import InputInfo, Report, RunInfo, Timings


@dataclass
class AnalyzeRequest:
    source: str                                  # a path or an http(s) URL
    only: list[str] | None = None
    skip: list[str] | None = None
    backend: str | None = None                   # None: settings.backend
    workdir: Path | None = None
    out: Path | None = None                      # also write report.json here (the workdir's is always written)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # checked by runner.core.params
    html: bool = False                           # also write report.html (workdir, and beside ``out``)
    use_cache: bool = True                       # reuse ok results from the result cache
    keep_media: bool = True                      # False: remove extracted frames/audio when done
    roots: tuple[Path, ...] | None = None        # API: the file must be under these, reached without symlinks
    media_exec: Any = None                       # a MediaExec for probe/extraction (None: the backend's default)
    # asked once, after the analyzers and before the report is written: why the run was stopped from
    # outside (e.g. "cancelled through the API"), or None; a reason marks the report interrupted
    cancel_reason: Callable[[], str | None] | None = None
    # called with the run's workdir as soon as it exists, before anything is written in it (the API
    # worker records it in the job's row, so a worker killed mid-job leaves no media behind: orphans.py)
    on_workdir: Callable[[Path], None] | None = None


@dataclass
class RunOutcome:
    report: Report
    report_path: Path
    workdir: Path

    @property
    def exit_code(self) -> int:
        return 0 if self.report.all_ok and not self.report.run.interrupted else 1


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def frame_set_specs(settings: Settings, names: list[str]) -> list[FrameSetSpec]:
    specs = []
    for n in names:
        spec = FRAME_SETS[n]
        if n == "sampled" and settings.sample_fps:
            spec = spec.model_copy(update={"fps": settings.sample_fps})
        specs.append(spec)
    return specs


def plan_for(settings: Settings, registry: Registry, has_audio: bool, only=None, skip=None) -> Plan:
    """The plan for a video; it depends on the media only through whether it has audio."""
    facts = Facts(has_audio=has_audio, gpus=settings.gpus,
                  missing_models=missing_models(registry, list(registry), settings.models_dir))
    return plan(registry, facts, only=only, skip=skip)


def make_plan(settings: Settings, registry: Registry, media: MediaInfo, only=None, skip=None) -> Plan:
    return plan_for(settings, registry, media.has_audio, only, skip)


def _new_workdir(settings: Settings, source: str, given: Path | None) -> Path:
    """A new (or empty) workdir that only the runner and the sandbox user can read (permissions)."""
    if given is not None:
        given = given.resolve()
        if given.exists() and any(given.iterdir()):
            raise UsageError(f"--workdir {given} is not empty", fix="give a new or empty folder")
        given.mkdir(parents=True, exist_ok=True)
        return share_folder_with_sandbox(given)
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(source.split("?")[0]).stem)[:40]
    name = f"{stem or 'video'}-{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
    path = settings.work_root / name
    path.mkdir(parents=True, exist_ok=False)
    return share_folder_with_sandbox(path)


def analyze(req: AnalyzeRequest, settings: Settings, progress: LineProgress | None = None,
            registry: Registry | None = None, executor_hook=None) -> RunOutcome:
    """Run ``req`` end to end. A run that fails because its disk filled up (its own writes, or a
    sandbox's) raises :class:`runner.core.errors.DiskFull` after freeing what it wrote (runner.run.space)."""
    scope = _Scope()
    try:
        outcome = _analyze(req, settings, progress, registry, executor_hook, scope)
    except Exception as exc:
        full = space.diagnose(scope.workdir, settings.work_root, exc)
        if scope.workdir is not None and not req.keep_media:  # a failed run keeps no media either
            cleanup_workdir(Workdir(scope.workdir), keep_media=False)
        if full is None:
            raise
        raise full from exc
    finally:
        scope.close()
    if not outcome.report.all_ok:  # a sandbox that hit a full disk only shows as a failed analyzer
        full = space.diagnose(outcome.workdir, settings.work_root, None)
        if full is not None:
            raise full
    return outcome


@dataclass
class _Scope:
    """What one run opened, for :func:`analyze` to deal with however the run ends: its workdir (a
    full disk is diagnosed there) and its placement, whose one Docker client is closed (a long-lived
    worker would otherwise hold its socket until the garbage collector finds it)."""
    workdir: Path | None = None
    placement: Placement | None = None

    def close(self) -> None:
        if self.placement is not None:
            self.placement.close()


def _analyze(req: AnalyzeRequest, settings: Settings, progress: LineProgress | None, registry: Registry | None,
             executor_hook, scope: _Scope) -> RunOutcome:
    progress = progress or LineProgress(quiet=True)
    started = datetime.now(timezone.utc)
    t0 = time.monotonic()
    registry = registry if registry is not None else registry_for(settings)
    params = check_params(req.params, registry)  # a bad param is a usage error before anything runs
    notices: list[str] = []

    def notice(text: str) -> None:
        notices.append(text)
        progress.notice(text)

    where = scope.placement = place(settings, req.backend, notice)  # one Docker client for the run
    src, source_url = _fetch_if_url(req, settings, where, notice)
    # where ffprobe/ffmpeg decode the input: the media sandbox on docker, the host on local (before
    # the workdir exists, so a missing media image costs nothing)
    media_exec = req.media_exec or where.media_exec()
    wd = Workdir(_new_workdir(settings, src, req.workdir))
    scope.workdir = wd.root
    if req.on_workdir is not None:
        req.on_workdir(wd.root)
    if hasattr(media_exec, "run_id"):
        media_exec.run_id = wd.root.name  # its containers carry the run's label
    tp = time.monotonic()
    admitted, media = _admit_and_probe(wd, src, req.source if not source_url else src, settings, req,
                                       media_exec, progress)
    if source_url:
        media = media.model_copy(update={"source_url": source_url})
    probe_s = time.monotonic() - tp
    progress.phase("probe", probe_s, f"{media.video.width}x{media.video.height} {media.duration_s:.1f}s "
                   f"{'with' if media.has_audio else 'no'} audio")
    the_plan = make_plan(settings, registry, media, req.only, req.skip)
    run_id = wd.root.name
    wd.media_json.write_text(media.model_dump_json(indent=2))
    backend = where.backend(registry, list(the_plan.runnable))
    if hasattr(backend, "cleanup_stale"):
        removed = backend.cleanup_stale()
        if removed:
            notice(f"removed {removed} container(s) left by an earlier interrupted run")

    sets = frame_set_specs(settings, the_plan.frame_sets(registry))
    models_dir = settings.models_dir if settings.models_dir.is_dir() else None
    ctx = ExecContext(run_id=run_id, workdir=wd, registry=registry, plan=the_plan, models_dir=models_dir,
                      params=params, source=req.source, limits=settings.outbox_limits(),
                      cache=run_cache(settings, backend, media, sets, models_dir, read=req.use_cache),
                      inputs=RunInputs(partial(extract_for_run, wd, admitted, media, sets,
                                               the_plan.needs_audio(registry), media_exec, progress, notice)))
    progress.total = len(the_plan.selected)
    executor = Executor(backend, Budget(settings.cpu_budget, settings.memory_budget, settings.gpus), progress)
    if executor_hook:
        executor_hook(executor)
    envelopes, interrupted = _execute(executor, ctx, notice)
    if ctx.cache.hits:
        notice(f"{len(ctx.cache.hits)} result(s) reused from the result cache "
               f"({', '.join(sorted(ctx.cache.hits))}); --no-cache runs them again")
    why = req.cancel_reason() if req.cancel_reason is not None else None
    if why:  # stopped from outside (an API cancel or shutdown): the report says so, written once
        notice(f"interrupted: {why}")
    tm = time.monotonic()
    timings = Timings(probe_s=round(probe_s, 4), extract_s=round(ctx.inputs.seconds, 4),
                      analyzers_s={n: e.duration_s for n, e in envelopes.items() if e.attempts and e.cache is None})
    run = RunInfo(run_id=run_id, runner_version=__version__, backend=backend.name, host=socket.gethostname(),
                  started_at=started, finished_at=datetime.now(timezone.utc), workdir=str(wd.root),
                  input=InputInfo(path=media.path, sha256=media.sha256, url=source_url),
                  timings=timings, interrupted=interrupted or bool(why), notices=notices,
                  media_exec=getattr(media_exec, "name", None), media_sandboxed=getattr(media_exec, "sandboxed", None))
    return _merge_and_write(run, media, the_plan, envelopes, req, wd, media_exec, tm, t0)


def _merge_and_write(run: RunInfo, media: MediaInfo, the_plan: Plan, envelopes: dict, req: AnalyzeRequest,
                     wd: Workdir, media_exec, tm: float, t0: float) -> RunOutcome:
    """The report, written once to every destination (and its page, while the media it shows still
    exists), then the scratch space and (without ``keep_media``) the media removed."""
    report = build_report(run, media, the_plan.stages, envelopes, the_plan.selected)
    report.run.timings.merge_s = round(time.monotonic() - tm, 4)
    report.run.timings.total_s = round(time.monotonic() - t0, 4)
    path = _write_outputs(report, wd, req, media_exec)
    cleanup_workdir(wd, req.keep_media)
    return RunOutcome(report=report, report_path=path, workdir=wd.root)


def _fetch_if_url(req: AnalyzeRequest, settings: Settings, where: Placement, notice) -> tuple[str, str | None]:
    """A URL is downloaded first (the download sandbox on docker, this process on local): (file, url)."""
    if not is_url(req.source):
        return req.source, None
    from runner.download.fetch import download_via  # the API issue's downloader; same path for the CLI

    return str(download_via(where.fetcher(), req.source, settings.download, progress=notice)), req.source


def _execute(executor: Executor, ctx: ExecContext, notice) -> tuple[dict, bool]:
    """Run the plan; Ctrl-C (or an API cancel) stops it and keeps what finished: (envelopes, interrupted)."""
    try:
        envelopes = executor.run(ctx)
        return envelopes, executor.cancel.is_set()  # e.g. an API cancel
    except KeyboardInterrupt:
        notice("interrupted: stopped running analyzers; the report holds what finished")
        return executor.results, True


def _write_outputs(report, wd: Workdir, req: AnalyzeRequest, media_exec) -> Path:
    """report.json in the workdir (and at ``--out``), with its page beside each when asked for."""
    path = write_report(report, wd.report)
    if req.html:
        from runner.report import write_html  # plotly is imported only when a page is asked for

        write_html(report, wd.root / "report.html", media_exec=media_exec)
    if req.out is not None:
        path = write_report(report, req.out.resolve())
        if req.html:
            write_html(report, path.with_suffix(".html"), media_exec=media_exec)  # links its own JSON
    return path


def _admit_and_probe(wd: Workdir, src: str, display: str, settings: Settings, req: AnalyzeRequest,
                     media_exec, progress) -> tuple[Admitted, MediaInfo]:
    """Open the input once, sniff it, copy it into ``wd/input/`` while hashing it, probe the copy.
    A refusal removes the workdir (or empties ``input/`` of a ``--workdir`` the user gave)."""
    import shutil

    limits = Limits.from_settings(settings)
    try:
        ta = time.monotonic()
        admitted = admit(src, wd.input_dir, limits, display, roots=req.roots)
        progress.phase("admit", time.monotonic() - ta, f"{admitted.family}, {admitted.size_bytes} bytes")
        return admitted, probe(wd, admitted, media_exec, limits)
    except BaseException:
        shutil.rmtree(wd.root if req.workdir is None else wd.input_dir, ignore_errors=True)
        raise


def run_cache(settings: Settings, backend: Backend, media: MediaInfo, sets: list[FrameSetSpec],
              models_dir: Path | None, read: bool) -> RunCache:
    """The result cache for this run (a backend that cannot name what it runs caches nothing)."""
    return RunCache(store=ResultCache(settings.cache_dir), input_sha256=media.sha256,
                    frame_specs={s.name: s.model_dump(mode="json") for s in sets},
                    identity=backend.identity, models_dir=models_dir, read=read)


def cleanup_workdir(wd: Workdir, keep_media: bool) -> None:
    """Remove scratch space; without ``keep_media`` also the input copy, frames and audio (tens of MB
    a video): the report, results, job specs and logs stay. Also what the API worker does to the
    workdir of a job a killed worker left (runner.api.orphans)."""
    import shutil

    shutil.rmtree(wd.root / "tmp", ignore_errors=True)
    if not keep_media:
        shutil.rmtree(wd.input_dir, ignore_errors=True)
        shutil.rmtree(wd.root / "frames", ignore_errors=True)
        shutil.rmtree(wd.audio().parent, ignore_errors=True)
