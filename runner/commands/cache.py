"""``runner cache ls|prune``: look at and trim the result cache (RUNNER_CACHE_DIR)."""
from __future__ import annotations

import json
import re
import time
from datetime import datetime

import click

from runner.cache.store import ResultCache
from runner.core.errors import UsageError
from shared_schema.manifest import parse_memory

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """``"30d"``, ``"12h"``, ``"90m"``, ``"45s"`` -> seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text)
    if not m:
        raise UsageError(f"--older-than {text!r}: expected a number and a unit (s, m, h, d, w), e.g. 30d")
    return float(m.group(1)) * _UNITS[m.group(2)]


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def _store(ctx: click.Context) -> ResultCache:
    return ResultCache(ctx.find_root().obj["settings"].cache_dir)


@click.group()
def cache():
    """The result cache: ok results reused by later runs of the same input (RUNNER_CACHE_DIR)."""


@cache.command("ls")
@click.option("--analyzer", help="only this analyzer's entries")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def ls_cmd(ctx, analyzer, as_json):
    """List cached results, most recently used first."""
    store = _store(ctx)
    entries = sorted((e for e in store.entries() if analyzer is None or e.analyzer == analyzer),
                     key=lambda e: e.last_used, reverse=True)
    if as_json:
        click.echo(json.dumps([{**e.meta, "size": e.size, "last_used": datetime.fromtimestamp(e.last_used).isoformat()}
                               for e in entries], indent=2))
        return
    click.echo(f"result cache: {store.root} ({len(entries)} entries, {_human(sum(e.size for e in entries))})")
    if entries:
        click.echo(f"  {'analyzer':<28} {'version':<8} {'input':<12} {'size':>10}  {'last used':<16} source")
    for e in entries:
        m = e.meta
        click.echo(f"  {e.analyzer:<28} {m.get('version', '?'):<8} {m.get('input_sha256', '?')[:12]:<12} "
                   f"{_human(e.size):>10}  {datetime.fromtimestamp(e.last_used):%Y-%m-%d %H:%M}  {m.get('source', '')}")


@cache.command("prune")
@click.option("--all", "everything", is_flag=True, help="remove every entry")
@click.option("--older-than", help="entries not used for this long, e.g. 30d, 12h")
@click.option("--analyzer", help="entries of this analyzer (e.g. after changing it without a version bump)")
@click.option("--max-size", help="then remove the least recently used until the cache fits, e.g. 5g")
@click.pass_context
def prune_cmd(ctx, everything, older_than, analyzer, max_size):
    """Remove entries: those matching every given filter, then the least recently used beyond --max-size."""
    if not (everything or older_than or analyzer or max_size):
        raise UsageError("say what to prune", fix="runner cache prune --older-than 30d | --max-size 5g | "
                                                   "--analyzer NAME | --all")
    try:
        max_bytes = parse_memory(max_size) if max_size else None
    except ValueError as exc:
        raise UsageError(f"--max-size {max_size!r}: {exc}") from None
    store = _store(ctx)
    removed = store.prune(everything=everything, older_than_s=parse_duration(older_than) if older_than else None,
                          analyzer=analyzer, max_bytes=max_bytes, now=time.time())
    left = store.entries()
    click.echo(f"removed {len(removed)} entries ({_human(sum(e.size for e in removed))}); "
               f"{len(left)} left ({_human(sum(e.size for e in left))})")
