"""``runner new NAME [--base cpu|torch]``: write a working analyzer to start from (docs/analyzers.md)."""
from __future__ import annotations

import click

from runner.commands.scaffold import BASES, check_name, write


@click.command("new")
@click.argument("name")
@click.option("--base", type=click.Choice(BASES), default="cpu", show_default=True,
              help="image base and local environment group: cpu (numpy, OpenCV) or torch")
@click.pass_context
def new(ctx, name, base):
    """Write analyzers/NAME (manifest, analyzer.py, pinned requirements), its result model and a test.

    It measures something real (mean brightness and where it jumps) and passes `make test` and
    `runner images build NAME` as written: change the measure, keep the shape."""
    settings = ctx.find_root().obj["settings"]
    scaffold = check_name(name, base, settings.repo_root, settings)
    for path in write(scaffold):
        click.echo(f"wrote {path.relative_to(scaffold.root)}")
    click.echo(f"next: .venv/bin/python -m pytest -q tests/analyzers/test_{name}.py tests/contract   "
               f"then: runner images build {name}   (docs/analyzers.md walks through the rest)")
