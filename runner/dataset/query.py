"""``runner query``: DuckDB over a dataset's Parquet files, one view per table.

The views read exactly the files the manifest lists (never a glob), in the current schema: a column
an older MINOR did not have reads as NULL. The connection is locked down before the user's SQL
runs: it can read those files and nothing else (no other file, no extension install or load, no
network, no writes outside memory), and the configuration cannot be changed back.
"""
from __future__ import annotations

import csv
import json
import math
import re
import unicodedata
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator, TextIO

from runner.dataset import layout
from runner.dataset.layout import DatasetError, Manifest
from runner.dataset.schemas import SCHEMA_VERSION, TABLE_NAMES, TABLES

FORMATS = ("table", "csv", "json")
FETCH = 10_000
_SPACES = re.compile(r"[\t\n\r]")


class QueryError(DatasetError):
    """DuckDB refused the SQL (syntax, unknown column, a file outside the dataset, ...)."""


def _duckdb():
    try:
        import duckdb
    except ImportError as exc:
        raise DatasetError("duckdb is not installed", fix="pip install 'tiktok-sandbox-runner[dataset]' "
                           "(make setup installs it)") from exc
    return duckdb


def _view_sql(con, table: str, files: list[str], same_schema: bool) -> str:
    """SELECT of the table's current columns from its files; NULL for a column none of them has."""
    if not files:
        return f"SELECT * FROM _empty_{table}"
    listed = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
    src = f"read_parquet({listed}, union_by_name = {str(not same_schema).lower()})"
    if same_schema:
        return f"SELECT * FROM {src}"
    have = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()}
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM _empty_{table})").fetchall())
    cols = [f'"{f.name}"' if f.name in have else f'CAST(NULL AS {types[f.name]}) AS "{f.name}"'
            for f in TABLES[table]]
    return f"SELECT {', '.join(cols)} FROM {src}"


def _regular(root: Path, name: str) -> str:
    """The absolute path of a listed file, which must be a regular file in the dataset (not a link)."""
    path = root / name
    if path.is_symlink() or not path.is_file():
        raise DatasetError(f"{path}: listed in {layout.MANIFEST} but {'a link' if path.is_symlink() else 'missing'}",
                           fix="export the reports again into a new folder (a dataset's files are never links)")
    return str(path.resolve())


def connect(root: Path, manifest: Manifest):
    """An in-memory DuckDB with a view per table over ``manifest``'s files, locked down."""
    import pyarrow as pa

    duckdb = _duckdb()
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    same = all(g.schema_version == SCHEMA_VERSION for g in manifest.groups)
    allowed: list[str] = []
    for table in TABLE_NAMES:
        files = [_regular(root, name) for name in manifest.files(table)]
        if not files or not same:     # the typed, empty table: a view with no files, NULL for a missing column
            con.register(f"_empty_{table}", pa.Table.from_pylist([], schema=TABLES[table]))
        allowed += files
        con.execute(f'CREATE VIEW "{table}" AS {_view_sql(con, table, files, same)}')
    con.execute("SET allowed_paths = ?", [allowed])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


@contextmanager
def open_dataset(root: Path) -> Iterator[Any]:
    """A locked-down connection to the dataset at ``root``, with writers kept from deleting its files."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: no such folder", fix="give the folder `runner export --to` or `runner batch "
                           "--dataset` wrote")
    with layout.commit_lock(root, shared=True):
        manifest = layout.read_manifest(root)
        if manifest is None:
            raise DatasetError(f"{root}: not a dataset (no {layout.MANIFEST})",
                               fix="make one with: runner export REPORTS_OR_DIRS... --to " + str(root))
        con = connect(root, manifest)
        try:
            yield con
        finally:
            con.close()


def _plain(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def printable(text: str) -> str:
    """Control and format characters (C0, C1, bidi overrides, zero-width) as '?': strings written by a
    sandbox never steer the terminal."""
    return "".join("?" if unicodedata.category(ch) in ("Cc", "Cf") else ch for ch in text)


def _cell(v: Any, width: int = 60) -> str:
    if v is None:
        return "NULL"
    v = _plain(v)
    text = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else str(v)
    text = printable(_SPACES.sub(" ", text))
    return text if len(text) <= width else text[:width - 1] + "…"


def _batches(cur) -> Iterator[list[tuple]]:
    while True:
        rows = cur.fetchmany(FETCH)
        if not rows:
            return
        yield rows


def write_result(cur, fmt: str, out: TextIO) -> int:
    """Write the cursor's rows as ``fmt``; the number of rows."""
    names = [d[0] for d in cur.description or []]
    n = 0
    if fmt == "csv":
        w = csv.writer(out, lineterminator="\n")
        w.writerow(names)
        for rows in _batches(cur):
            w.writerows([[json.dumps(_plain(v)) if isinstance(v, (dict, list)) else _plain(v) for v in r] for r in rows])
            n += len(rows)
    elif fmt == "json":
        out.write("[")
        for rows in _batches(cur):
            for r in rows:
                out.write(("," if n else "") + "\n" + json.dumps(dict(zip(names, map(_plain, r))), ensure_ascii=False))
                n += 1
        out.write("\n]\n")
    else:
        rows = [[_cell(v) for v in r] for r in cur.fetchall()]
        n = len(rows)
        widths = [max([len(h)] + [len(r[k]) for r in rows]) for k, h in enumerate(names)]
        line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
        out.write(line(names) + "\n" + line(["-" * w for w in widths]) + "\n")
        for r in rows:
            out.write(line(r) + "\n")
        out.write(f"({n} row{'s' if n != 1 else ''})\n")
    return n


def run_query(root: Path, sql: str, fmt: str, out: TextIO) -> int:
    """Run ``sql`` on the dataset at ``root`` and write its rows to ``out``; the number of rows."""
    if fmt not in FORMATS:
        raise DatasetError(f"unknown format {fmt!r}", fix=f"use one of {', '.join(FORMATS)}")
    duckdb = _duckdb()
    with open_dataset(root) as con:
        try:
            return write_result(con.execute(sql), fmt, out)
        except duckdb.Error as exc:
            raise QueryError(f"query failed: {str(exc).strip().splitlines()[0]}",
                             fix="the tables and their columns: docs/dataset.md, or runner query DIR \"DESCRIBE videos\"") from None
