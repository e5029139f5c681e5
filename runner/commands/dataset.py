"""``runner export`` and ``runner query``: reports as Parquet tables, and SQL over them (docs/dataset.md).

pyarrow and duckdb come from the ``dataset`` extra; they are imported when one of these commands
runs, so ``runner`` itself works without them.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from runner.core.errors import UsageError

__all__ = ["export", "query", "dataset_session"]

_EXTRA_FIX = "pip install 'tiktok-sandbox-runner[dataset]' (make setup installs it)"


def _require_extra(*modules: str) -> None:
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            raise UsageError(f"this command needs {name} (the dataset extra: pyarrow and duckdb)", fix=_EXTRA_FIX) from None


def dataset_session(root: Path, **kw):
    """An open :class:`runner.dataset.writer.ExportSession` (``runner batch --dataset`` appends through it)."""
    _require_extra("pyarrow")
    from runner.dataset.writer import ExportSession

    return ExportSession(root, **kw)


@click.command(name="export")
@click.argument("reports", nargs=-1, type=click.Path(path_type=Path))
@click.option("--to", "to", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="the dataset folder (made when new; appended to when it exists)")
@click.option("--compact", is_flag=True, help="then rewrite every table into one file")
@click.option("-q", "--quiet", is_flag=True, help="only the summary line")
def export(reports: tuple[Path, ...], to: Path, compact: bool, quiet: bool) -> None:
    """Export REPORTS_OR_DIRS (report.json files; folders: their *.json and every report.json below)
    into Parquet tables under --to, one file per table per export. Re-exporting a video replaces its
    rows. Exit 0 every report exported, 1 some file was not a readable report, 2 bad usage.
    """
    if not reports and not compact:
        raise UsageError("nothing to export", fix="give report files or folders, or --compact to rewrite the dataset")
    missing = [str(p) for p in reports if not p.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing[:3])}")
    from runner.dataset.writer import expand

    t0 = time.monotonic()
    seen = 0
    with dataset_session(to) as session:
        for path, explicit in expand(reports):
            session.add_file(path, explicit=explicit)
            seen += 1
            if not quiet and seen % 1000 == 0:
                click.echo(f"  {seen} files read, {session.stats.added} videos ...", err=True)
        if compact:
            session.compact()
    stats = session.stats
    if reports and not stats.added and not stats.duplicates and not stats.unreadable:
        raise UsageError(f"no reports in {' '.join(map(str, reports))}",
                         fix="give report.json files, a `runner batch --out` folder or run workdirs")
    for path, why in stats.unreadable:
        click.echo(f"  not exported: {path}: {why}", err=True)
    size = sum(f.stat().st_size for f in to.rglob("*.parquet"))
    click.echo(f"export: {stats.line()}; {to} holds {len(session.manifest.groups)} group(s), "
               f"{size / 1e6:.1f} MB; {time.monotonic() - t0:.1f}s", err=True)
    click.echo(str(to))
    sys.exit(1 if stats.unreadable else 0)


@click.command(name="query")
@click.argument("dataset", type=click.Path(path_type=Path, file_okay=False))
@click.argument("sql")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="a table for a terminal, or CSV / JSON (an array of objects) for programs")
def query(dataset: Path, sql: str, fmt: str) -> None:
    """Run SQL (DuckDB) on the dataset at DATASET: one view per table (videos, shots, transitions,
    camera, text, words, segments, objects, persons, faces, audio, scores, analyzer_runs).

    Example: runner query ds "SELECT status, count(*) FROM videos GROUP BY 1"
    """
    _require_extra("pyarrow", "duckdb")
    from runner.dataset.query import run_query

    run_query(dataset, sql, fmt, sys.stdout)
