"""``runner``: analyze a video, show the plan, list analyzers, manage envs, export schemas.

Exit codes: 0 every selected analyzer ok; 1 at least one not ok; 2 bad usage or
bad input; 3 backend unavailable; 130 interrupted.
"""
from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import click

from runner import __version__
from runner.core.config import Settings
from runner.core.errors import RunnerError


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def _fail(exc: RunnerError) -> None:
    from runner.core.terminal import printable  # a message may quote a sandbox (ffprobe, a download)

    click.echo(f"error: {printable(exc.message)}", err=True)
    if exc.fix:
        click.echo(f"  fix: {printable(exc.fix)}", err=True)
    sys.exit(exc.exit_code)


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except RunnerError as exc:
            _fail(exc)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="runner")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Analyze short videos with the analyzers under analyzers/ (19 ship), each in its own sandbox."""
    ctx.ensure_object(dict)
    ctx.obj["settings"] = Settings.from_env()


_selection = [
    click.option("--only", multiple=True, help="run only these (comma-separated; pulls in what they need)"),
    click.option("--skip", multiple=True, help="do not run these (comma-separated)"),
]


def _with_selection(f):
    for opt in reversed(_selection):
        f = opt(f)
    return f


def _sigterm_as_interrupt(*_):
    raise KeyboardInterrupt


@cli.command()
@click.argument("video")
@_with_selection
@click.option("--backend", type=click.Choice(["auto", "local", "docker"]), default=None,
              help="where analyzers run (default: RUNNER_BACKEND or auto)")
@click.option("--workdir", type=click.Path(path_type=Path), help="a new or empty folder for this run")
@click.option("--out", type=click.Path(path_type=Path), help="also write the report here")
@click.option("--set", "sets", multiple=True, metavar="NAME.KEY=VALUE",
              help="analyzer param, or its timeout_s / memory / cpus")
@click.option("--sample-fps", type=float, help="rate of the 'sampled' frame set (default 2)")
@click.option("--html", "html", is_flag=True, help="also write the HTML page: report.html in the workdir and beside the --out report")
@click.option("--no-cache", is_flag=True, help="run every analyzer even when the result cache holds its result")
@click.option("--drop-media", is_flag=True, help="remove the extracted frames and audio from the workdir when done")
@click.option("-q", "--quiet", is_flag=True, help="no progress (a live view on a terminal, else lines)")
@click.pass_context
def analyze(ctx, video, only, skip, backend, workdir, out, sets, sample_fps, html, no_cache, drop_media, quiet):
    """Analyze VIDEO (a file or an http(s) URL) and write report.json."""
    from runner.core.params import parse_sets
    from runner.core.registry import registry_for
    from runner.run.pipeline import AnalyzeRequest, analyze as run_analysis
    from runner.run.progress import for_stream

    settings = _settings(ctx)
    if sample_fps:
        settings = settings.with_(sample_fps=sample_fps)
    registry = registry_for(settings)
    req = AnalyzeRequest(source=video, only=list(only), skip=list(skip), backend=backend,
                         workdir=workdir, out=out, params=parse_sets(sets, registry),
                          html=html, use_cache=not no_cache, keep_media=not drop_media)
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    with for_stream(sys.stderr, quiet=quiet) as progress:  # a live view on a terminal, else lines
        outcome = run_analysis(req, settings, progress, registry=registry)
    r = outcome.report
    counts = ", ".join(f"{n} {s.value}" for s, n in r.counts.items() if n)
    n_cached = sum(1 for e in r.analyzers.values() if e.cache is not None)
    counts += f"; {n_cached} from the cache" if n_cached else ""
    sandbox = " (NOT a sandbox: limits only, no network or filesystem isolation)" if r.run.backend == "local" else ""
    click.echo(f"report: {outcome.report_path}  ({counts}; {r.run.timings.total_s:.1f}s, backend {r.run.backend}"
               f"{sandbox})", err=True)
    if outcome.exit_code != 0:
        click.echo(f"workdir kept: {outcome.workdir}", err=True)
    click.echo(str(outcome.report_path))
    sys.exit(130 if r.run.interrupted else outcome.exit_code)


@cli.command()
@click.argument("video")
@_with_selection
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def plan(ctx, video, only, skip, as_json):
    """Show the stages, devices and limits a run of VIDEO would use (runs nothing)."""
    import tempfile

    from runner.media.admit import Limits
    from runner.run.pipeline import make_plan
    from runner.media.probe import probe_file
    from runner.core.registry import registry_for

    settings = _settings(ctx)
    registry = registry_for(settings)
    with tempfile.TemporaryDirectory(prefix="runner-plan-") as tmp:  # admitted copy, then gone
        _, media = probe_file(Path(video), Path(tmp), limits=Limits.from_settings(settings), display=video)
    p = make_plan(settings, registry, media, list(only), list(skip))
    if as_json:
        click.echo(json.dumps({"stages": p.stages, "runnable": {n: {"device": r.device} for n, r in p.runnable.items()},
                               "skipped": {n: {"reason": s.reason.value, "message": s.message, "fix": s.fix}
                                           for n, s in p.skipped.items()},
                               "frame_sets": p.frame_sets(registry), "audio": p.needs_audio(registry)}, indent=2))
        return
    click.echo(f"{video}: {media.video.width}x{media.video.height}, {media.duration_s:.1f}s, "
               f"{'audio' if media.has_audio else 'no audio'}")
    click.echo(f"extract once: frame sets {', '.join(p.frame_sets(registry)) or '-'}"
               f"{'; audio 16 kHz mono' if p.needs_audio(registry) else ''}")
    for i, stage in enumerate(p.stages, 1):
        click.echo(f"stage {i}:")
        for n in stage:
            r = registry[n].manifest.resources
            if n in p.skipped:
                s = p.skipped[n]
                click.echo(f"  {n:<30} skipped ({s.reason.value}: {s.message})")
            else:
                click.echo(f"  {n:<30} {p.runnable[n].device:<7} mem {r.memory:<5} cpus {r.cpus:<4g} "
                           f"timeout {r.timeout_s:g}s")


@cli.command(name="list")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_(ctx, name, as_json):
    """List analyzers with their environment, image and model status; NAME: that one, with its params."""
    from runner.backends.local import LocalBackend
    from runner.models.store import missing_models
    from runner.core.params import param_rows
    from runner.core.registry import registry_for

    settings = _settings(ctx)
    registry = registry_for(settings)
    if name is not None and name not in registry:
        from runner.core.errors import UsageError

        raise UsageError(f"no analyzer {name!r}", fix="analyzers: " + ", ".join(sorted(registry)))
    chosen = {name: registry[name]} if name else registry
    local = LocalBackend(settings.envs_dir, settings.repo_root)
    missing = missing_models(registry, list(chosen), settings.models_dir)
    images = _image_status(settings, registry)
    rows = []
    for n, e in sorted(chosen.items()):
        m = e.manifest
        rows.append({"name": n, "version": m.version, "env": m.env, "device": m.resources.device,
                     "env_ready": local.unavailable(e) is None,
                     "models": "missing: " + ",".join(x for x, _ in missing[n]) if n in missing else "ok",
                     "image": images.get(n, "unknown"), "params": param_rows(m)})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(f"{'analyzer':<30} {'version':<8} {'env':<6} {'local env':<10} {'models':<22} image")
    for r in rows:
        click.echo(f"{r['name']:<30} {r['version']:<8} {r['env']:<6} {'ready' if r['env_ready'] else 'missing':<10} "
                   f"{r['models']:<22} {r['image']}")
    if name:
        _echo_params(name, registry[name].manifest)
        return
    from runner.images.runner_images import status_lines

    for sandbox, _, line in status_lines(settings):
        click.echo(f"{sandbox.label} image: {line}")


def _echo_params(name: str, manifest) -> None:
    params = manifest.params
    click.echo(f"\nparams (--set {name}.KEY=VALUE; also timeout_s, memory, cpus):" if params else "\nno params")
    width = max((len(k) for k in params), default=0)
    for k, spec in params.items():
        click.echo(f"  {k:<{width}}  {spec.brief}, default {json.dumps(spec.default)}")
        click.echo(f"  {'':<{width}}  {spec.description}")


def _image_status(settings: Settings, registry) -> dict[str, str]:
    try:
        from runner.images.build import image_status
    except ImportError:
        return {}
    try:
        return image_status(settings, registry)
    except RunnerError as exc:
        return {n: f"unknown ({exc.message})" for n in registry}


@cli.group()
def models():
    """The model store (RUNNER_MODELS_DIR)."""


@models.command("status")
@click.option("--verify", is_flag=True, help="also check the sha256 of present files and folders")
@click.pass_context
def models_status(ctx, verify):
    """Which declared models are present in the store."""
    from runner.models.store import status
    from runner.core.registry import registry_for

    settings = _settings(ctx.find_root())
    registry = registry_for(settings)
    click.echo(f"model store: {settings.models_dir}{'' if settings.models_dir.is_dir() else ' (missing)'}")
    for row in status(registry, settings.models_dir, verify):
        m = row.model
        if row.present is None:
            state = f"package {m.package}"
        else:
            state = "present" if row.present else "MISSING"
            if row.checksum_ok is False:
                state = "CHECKSUM MISMATCH"
            elif row.checksum_ok:
                state = "present, sha256 ok"
        click.echo(f"  {row.analyzer:<28} {m.name:<26} {state}")
        if row.present is False:
            from runner.models.store import pull_fix

            click.echo(f"      fix: {pull_fix(m)}")


@models.command("pull")
@click.argument("names", nargs=-1)
@click.option("--from", "mirror", metavar="URL|DIR",
              help="a mirror: an http(s) base URL or a folder laid out like the store")
@click.pass_context
def models_pull(ctx, names, mirror):
    """Fetch declared store models (all, or NAMES: models or analyzers), verified, into the store."""
    from runner.models.pull import PullError, pull_all, targets
    from runner.core.registry import registry_for

    settings = _settings(ctx.find_root())
    try:
        tlist = targets(registry_for(settings), list(names))
        click.echo(f"model store: {settings.models_dir}" + (f" (from {mirror})" if mirror else ""), err=True)
        sys.exit(pull_all(settings.models_dir, tlist, mirror, sys.stderr))
    except PullError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


@cli.group()
def envs():
    """Local-backend environments (one per group, like the images)."""


@envs.command("build")
@click.argument("groups", nargs=-1)
@click.pass_context
def envs_build(ctx, groups):
    """Create/update the environments of GROUPS (default: every group)."""
    from runner.backends import envs as envs_mod
    from runner.core.registry import registry_for

    settings = _settings(ctx.find_root())
    registry = registry_for(settings)
    for g in groups or envs_mod.groups(registry):
        envs_mod.build(registry, g, settings.envs_dir, echo=lambda s: click.echo(s, err=True))


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("schema"), show_default=True)
@click.pass_context
def schema(ctx, out):
    """Write JSON Schema files for the report, envelope, manifest, job spec and every result."""
    from runner.commands.schema_export import export

    settings = _settings(ctx)
    for path in export(out, settings):
        click.echo(str(path))


@cli.command()
@click.pass_context
def doctor(ctx):
    """Check ffmpeg, environments, the model store and the Docker daemon."""
    from runner.commands.doctor import checks

    ok = True
    for name, good, detail in checks(_settings(ctx)):
        ok &= good or name.startswith("(optional)")
        click.echo(f"  {'ok ' if good else '-- '} {name:<28} {detail}")
    sys.exit(0 if ok else 1)


# Command groups owned by their own modules, registered explicitly: a module that fails to import
# fails `runner` itself (a command never silently disappears).
from runner.commands.batch import batch  # noqa: E402
from runner.commands.cache import cache  # noqa: E402
from runner.commands.dataset import export, query  # noqa: E402
from runner.commands.images import images  # noqa: E402
from runner.commands.new import new  # noqa: E402
from runner.commands.report import report  # noqa: E402
from runner.commands.serve import serve, worker  # noqa: E402

for _command in (images, serve, worker, report, cache, batch, new, export, query):
    cli.add_command(_command)


def main() -> None:
    try:
        cli(prog_name="runner")
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
