"""``runner batch``: the click command. Ray is imported only when a batch runs (runner.batch.cluster)."""
from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--ray", "ray_address", is_flag=False, flag_value="local", default=None, metavar="[ADDRESS]",
              help="no value (default): start a local Ray; 'auto' or ray://host:port: join that cluster")
@click.option("--out", type=click.Path(path_type=Path), default=Path("batch-out"), show_default=True,
              help="per-video reports <name>.json and summary.jsonl")
@click.option("--only", multiple=True, help="run only these (comma-separated; pulls in what they need)")
@click.option("--skip", multiple=True, help="do not run these (comma-separated)")
@click.option("--set", "sets", multiple=True, metavar="NAME.KEY=VALUE",
              help="analyzer param, or its timeout_s / memory / cpus")
@click.option("--backend", type=click.Choice(["auto", "local", "docker"]), default=None,
              help="where analyzers run (default: RUNNER_BACKEND or auto)")
@click.option("--no-cache", is_flag=True, help="run every analyzer even when the result cache holds its result")
@click.option("--cpus-per-video", type=click.FloatRange(min=0.1), default=None,
              help="CPUs each video reserves (default: its largest analyzer's)")
@click.option("--html", is_flag=True, help="also write <name>.html beside each report")
@click.option("--keep-media", is_flag=True, help="keep each run's extracted frames and audio (default: removed when done)")
@click.option("--serial", is_flag=True, help="no Ray: one video after another in this process (debugging)")
@click.option("--dataset", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="also append each finished video to this dataset (Parquet tables; see runner export, runner query)")
@click.option("-q", "--quiet", is_flag=True, help="no progress lines")
@click.pass_context
def batch(ctx, inputs, ray_address, out, only, skip, sets, backend, no_cache, cpus_per_video, html, keep_media, serial,
          dataset, quiet):
    """Analyze many videos: INPUTS are files, folders, .txt lists of paths/URLs, or URLs.

    One Ray task per video, sized by its plan. Writes OUT/<name>.json per video and
    OUT/summary.jsonl (one row per video). Exit 0 all ok, 1 some partial or error, 2 bad usage,
    130 interrupted (rerun the same command to continue).
    """
    from runner.batch.driver import BatchRequest, run_batch
    from runner.core.params import parse_sets
    from runner.core.registry import registry_for

    settings = ctx.find_root().obj["settings"]
    registry = registry_for(settings)
    req = BatchRequest(inputs=list(inputs), out=out, only=list(only), skip=list(skip),
                       params=parse_sets(sets, registry),
                       backend=backend, use_cache=not no_cache, html=html, keep_media=keep_media, ray=ray_address,
                       serial=serial,
                       cpus_per_video=cpus_per_video)
    if dataset is None:
        outcome = run_batch(req, settings, registry=registry, quiet=quiet)
        click.echo(str(outcome.summary_path))
        sys.exit(outcome.exit_code)
    from runner.commands.dataset import dataset_session

    with dataset_session(dataset, seal_every_s=DATASET_SEAL_S) as session:   # refused before any video runs
        hook = _Appender(session)
        outcome = run_batch(req, settings, registry=registry, quiet=quiet, on_video=hook)
    if hook.error:
        click.echo(f"dataset: appending stopped after {session.stats.added} videos: {hook.error}; the reports are "
                   f"in {out}: runner export {out} --to {dataset}", err=True)
    elif not quiet:
        click.echo(f"dataset: {session.stats.line()}; {dataset}", err=True)
    click.echo(str(outcome.summary_path))
    sys.exit(max(outcome.exit_code, 1 if hook.error else 0))


#: ``--dataset`` commits what finished at most this often (each commit is a group of files; the
#: writer merges small groups as they accumulate)
DATASET_SEAL_S = 60.0


class _Appender:
    """The batch's per-video hook: append the report; a dataset failure stops appending, never the batch."""

    def __init__(self, session):
        self.session, self.error = session, None

    def __call__(self, report, path: Path) -> None:
        if self.error is None:
            try:
                self.session.add_report(report, str(path))
            except Exception as exc:  # noqa: BLE001 - the reports are written; the user can export them later
                self.error = f"{type(exc).__name__}: {exc}"
