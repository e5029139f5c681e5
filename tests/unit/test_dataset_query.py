"""runner query and runner export as commands: SQL that can read the dataset and nothing else, the
three output formats, what reaches a terminal, exit codes; and docs/dataset.md against the code."""
from __future__ import annotations

import csv
import io
import json
import re

import pytest
from click.testing import CliRunner

from tests.dataset_gen import seed
from tests.dataset_support import export, sql, write_seeds

pytest.importorskip("pyarrow")
pytest.importorskip("duckdb")

from runner.commands.main import cli  # noqa: E402
from runner.dataset import docs, schemas, text  # noqa: E402
from runner.dataset.query import QueryError, run_query  # noqa: E402
from shared_schema.results.text import TextSegment  # noqa: E402

DOC = docs.DOC.read_text(encoding="utf-8")
QUERIES = re.findall(r"^### (.+?)\n\n```sql\n(.*?)```", DOC, re.S | re.M)


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    d = tmp_path_factory.mktemp("ds") / "ds"
    export(write_seeds(tmp_path_factory.mktemp("seeds")).values(), d)
    return d


def _cli(*args):
    return CliRunner().invoke(cli, list(map(str, args)), catch_exceptions=False)


@pytest.mark.parametrize("attack", [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('{outside}')",
    "COPY videos TO '{target}'",
    "COPY videos TO '{ds}/videos/extra.parquet'",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SELECT * FROM read_parquet('https://example.com/x.parquet')",
    "ATTACH '{target}.db' AS other",
    "SET enable_external_access = true",
    "SET allowed_paths = ['/']",
])
def test_sql_reads_the_dataset_and_nothing_else(ds, tmp_path, attack):
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    target = tmp_path / "out.csv"
    with pytest.raises(QueryError):
        sql(ds, attack.format(outside=outside, target=target, ds=ds))
    assert not target.exists() and not (ds / "videos" / "extra.parquet").exists()
    assert not list(tmp_path.glob("out.csv*"))


def test_formats(ds):
    q = "SELECT video_id, duration_s, statuses, started_at FROM videos ORDER BY video_id"
    rows = sql(ds, q)
    assert len(rows) == 5 and isinstance(rows[0]["statuses"], dict) and rows[0]["started_at"].endswith("+00:00")
    buf = io.StringIO()
    assert run_query(ds, q, "csv", buf) == 5
    parsed = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert [r["video_id"] for r in parsed] == [r["video_id"] for r in rows]
    assert json.loads(parsed[0]["statuses"]) == rows[0]["statuses"]
    buf = io.StringIO()
    run_query(ds, q, "table", buf)
    lines = buf.getvalue().splitlines()
    assert lines[0].split()[:2] == ["video_id", "duration_s"] and lines[-1] == "(5 rows)"


def test_strings_from_sandboxes_never_steer_the_terminal(tmp_path):
    report = seed("rich")
    seg = report["analyzers"]["text_overlay"]["result"]["segments"][0]
    seg["text"] = "BUY\x1b[2J\x1b]0;owned\x07 NOW\u202etxt.exe\nline2"
    (tmp_path / "r.json").write_text(json.dumps(report))
    export([tmp_path / "r.json"], tmp_path / "ds")
    buf = io.StringIO()
    run_query(tmp_path / "ds", "SELECT text FROM text ORDER BY segment LIMIT 1", "table", buf)
    shown = buf.getvalue()
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown and "line2" in shown
    assert shown.count("\n") == 4      # header, rule, one row, count: the newline did not make a row
    assert sql(tmp_path / "ds", "SELECT text FROM text ORDER BY segment LIMIT 1")[0]["text"] == seg["text"]  # data kept


def test_query_command(ds):
    res = _cli("query", ds, "SELECT count(*) AS n FROM videos", "--format", "json")
    assert res.exit_code == 0 and json.loads(res.output) == [{"n": 5}]
    res = _cli("query", ds, "SELECT nope FROM videos")
    assert res.exit_code == 2 and "query failed" in res.output and "Traceback" not in res.output
    res = _cli("query", ds.parent / "nowhere", "SELECT 1")
    assert res.exit_code == 2 and "no such folder" in res.output


def test_export_command(tmp_path):
    seeds = write_seeds(tmp_path / "seeds", ["talk", "faults"])
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    res = _cli("export", tmp_path / "seeds", "--to", tmp_path / "ds")
    assert res.exit_code == 0, res.output
    assert "2 videos exported" in res.output
    res = _cli("export", seeds["talk"], bad, "--to", tmp_path / "ds")
    assert res.exit_code == 1 and f"not exported: {bad}" in res.output and "1 videos exported" in res.output
    assert _cli("export", "--to", tmp_path / "ds").exit_code == 2                  # nothing to export
    assert _cli("export", tmp_path / "missing.json", "--to", tmp_path / "ds").exit_code == 2
    res = _cli("export", "--to", tmp_path / "ds", "--compact")
    assert res.exit_code == 0 and "holds 1 group(s)" in res.output
    assert sql(tmp_path / "ds", "SELECT count(*) AS n FROM videos") == [{"n": 2}]


def test_docs_tables_are_the_schemas():
    assert docs.current(DOC) == docs.render(), "docs/dataset.md is stale: run python -m runner.dataset.docs"


def test_schemas_follow_the_conventions():
    for name, schema in schemas.TABLES.items():
        assert schema.names[:2] == ["video_id", "run_id"], name
        assert (schema.metadata or {}).get(b"doc"), name
        for f in schema:
            assert schemas.doc_of(f), f"{name}.{f.name} has no description"
            if f.name in ("t", "start", "end", "duration") or f.name.endswith("_s"):
                assert f.name.endswith("_s") and f.type == schemas.F64, f"{name}.{f.name}: times are *_s float64"


@pytest.mark.parametrize("title, query", QUERIES, ids=[t for t, _ in QUERIES])
def test_each_documented_question_runs_and_answers(ds, title, query):
    rows = sql(ds, query)
    assert rows, f"{title}: no rows on the seed reports"


def test_the_documented_answers_are_right(ds):
    """The questions' answers on the seeds, from the reports themselves."""
    q = dict(QUERIES)
    captions = sql(ds, q["Captions in the first second"])
    want = {(seed(n)["media"]["path"], s["text"]) for n in ("rich", "street", "talk", "silent")
            for s in seed(n)["analyzers"]["text_overlay"]["result"]["segments"] if s["kind"] == "overlay" and s["start"] < 1}
    assert {(r["source"], r["text"]) for r in captions} == want and want     # rich's caption at 0 s, at least
    failed = sql(ds, q["The analyzers that failed most often, and why"])
    assert {r["analyzer"] for r in failed} == {"object_detection", "toy_abort", "toy_hang", "toy_memhog", "toy_invalid"}
    said = {r["source"]: set(r["said_and_shown"].split()) for r in
            sql(ds, q["Videos whose transcript says a word while the on-screen text shows it"])}
    assert {"ask", "not"} <= said[seed("rich")["media"]["path"]]


def test_every_score_name_is_documented(ds):
    table = DOC[DOC.index("## `scores`: the names"):DOC.index("## `audio`: the kinds")]
    documented = {}
    for analyzer, names in re.findall(r"^\| (\w+) \| (.+) \|$", table, re.M):
        documented[analyzer] = [n.split("<")[0] for n in re.findall(r"`([^`]+)`", names)]
    for row in sql(ds, "SELECT DISTINCT analyzer, name FROM scores"):
        names = documented.get(row["analyzer"], [])
        assert any(row["name"] == n or (n.endswith("_") and row["name"].startswith(n)) for n in names), row


def test_text_mapping_reads_the_current_text_overlay_fields():
    """The text table's one module names the current TextSegment fields first; when the on-screen
    text schema changes, this says which mapping to update."""
    for column, keys in text.FIELDS.items():
        assert keys[0] in TextSegment.model_fields, f"text.{column}: {keys[0]!r} is no longer a TextSegment field"
