"""``runner report REPORT_JSON [-o OUT.html]``: the self-contained HTML page of a finished run."""
from __future__ import annotations

import time
from pathlib import Path

import click
from pydantic import ValidationError

from runner.core.errors import InputError, UsageError

__all__ = ["report", "load_report"]


def load_report(path: Path):
    """The :class:`Report` in ``path``; an :class:`InputError` (exit 2) naming the problem otherwise."""
    from shared_schema.report import Report

    if not path.is_file():
        raise InputError(str(path), "no such report file" if not path.exists() else "not a file")
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), f"cannot be read: {exc}") from None
    try:
        return Report.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ())) or "(top)"
        kind = "not JSON" if first.get("type") == "json_invalid" else "not a runner report"
        raise InputError(str(path), f"{kind}: {where}: {first.get('msg')}",
                         fix="pass the report.json that `runner analyze` wrote") from None


@click.command(name="report")
@click.argument("report_json", type=click.Path(path_type=Path, dir_okay=True))
@click.option("-o", "--out", type=click.Path(path_type=Path, dir_okay=False),
              help="where to write the page (default: beside REPORT_JSON, with .html)")
def report(report_json: Path, out: Path | None) -> None:
    """Write the HTML page of REPORT_JSON: facts, analyzer table, timelines, keyframes, key moments.

    One file that opens without a network (plotly's script is inlined, no web fonts).
    """
    from runner.report import write_html

    rep = load_report(report_json)
    out = out or report_json.with_suffix(".html")
    if not out.parent.is_dir():
        raise UsageError(f"{out}: its folder does not exist", fix="create it, or pass another --out")
    t0 = time.monotonic()
    write_html(rep, out)
    click.echo(f"report page: {out} ({out.stat().st_size / 1e6:.1f} MB, {time.monotonic() - t0:.1f}s)", err=True)
    click.echo(str(out))
