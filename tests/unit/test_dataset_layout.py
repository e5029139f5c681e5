"""The dataset folder: one file per table per export, commits a crash cannot half-do, one writer at a
time, merges and compaction that keep every row, and versions read or refused with what to do."""
from __future__ import annotations

import json

import pytest

from tests.dataset_gen import make_report
from tests.dataset_support import counts, export, sql, tables

pytest.importorskip("pyarrow")
pytest.importorskip("duckdb")

from runner.dataset import compact as compact_mod, layout, schemas  # noqa: E402
from runner.dataset.layout import DatasetError  # noqa: E402
from runner.dataset.writer import ExportSession  # noqa: E402


def _reports(tmp_path, n: int, start: int = 0):
    d = tmp_path / f"reports-{start}"
    d.mkdir()
    paths = []
    for i in range(start, start + n):
        p = d / f"{i:04d}.json"
        p.write_text(json.dumps(make_report(i)))
        paths.append(p)
    return paths


def _files(ds):
    return sorted(str(p.relative_to(ds)) for p in ds.rglob("*.parquet"))


def test_one_file_per_table_per_export_and_nothing_else(tmp_path):
    ds = tmp_path / "ds"
    export(_reports(tmp_path, 6), ds)
    assert len(_files(ds)) == len(schemas.TABLE_NAMES)                       # 13, not 13 x 6
    export(_reports(tmp_path, 3, start=100), ds)
    files = _files(ds)
    assert len(files) == 2 * len(schemas.TABLE_NAMES)
    manifest = layout.read_manifest(ds)
    assert sorted(n for t in schemas.TABLE_NAMES for n in manifest.files(t)) == files
    assert [g.videos for g in manifest.groups] == [6, 3]
    assert sql(ds, "SELECT count(*) AS n FROM videos") == [{"n": 9}]


def test_unlisted_files_are_never_read_and_the_next_writer_removes_them(tmp_path):
    ds = tmp_path / "ds"
    paths = _reports(tmp_path, 4)
    export(paths[:2], ds)
    before = counts(ds)
    # a writer that died after writing its files but before replacing the manifest
    stray = tmp_path / "stray"
    export(paths[2:], stray)
    for f in stray.rglob("*.parquet"):
        (ds / f.relative_to(stray)).write_bytes(f.read_bytes())
    assert counts(ds) == before
    export(paths[:1], ds)                       # the next export cleans up
    assert len(_files(ds)) == 2 * len(schemas.TABLE_NAMES) and counts(ds) == before


def test_a_running_query_never_loses_a_file_and_never_holds_up_a_writer(tmp_path):
    from runner.dataset.query import open_dataset

    ds = tmp_path / "ds"
    paths = _reports(tmp_path, 3)
    export(paths[:2], ds)
    old = _files(ds)
    with open_dataset(ds) as con:                       # a query is reading (think: a pager on its output)
        export(paths, ds)                               # replaces both videos: their old files are superseded
        assert set(old) <= set(_files(ds))              # not deleted under the reader ...
        assert con.execute("SELECT count(*) FROM videos").fetchall() == [(2,)]   # ... which still reads them
    assert sql(ds, "SELECT count(*) AS n FROM videos") == [{"n": 3}]
    export(paths[2:], ds)                               # the next commit removes them
    assert not set(old) & set(_files(ds))
    assert len(_files(ds)) == len(layout.read_manifest(ds).groups) * len(schemas.TABLE_NAMES)


def test_one_writer_at_a_time(tmp_path):
    ds = tmp_path / "ds"
    with ExportSession(ds):
        with pytest.raises(DatasetError, match="being written by another"):
            with ExportSession(ds):
                pass
    with ExportSession(ds):     # released
        pass


def test_a_failed_export_leaves_the_dataset_as_it_was(tmp_path, monkeypatch):
    ds = tmp_path / "ds"
    paths = _reports(tmp_path, 3)
    export(paths[:2], ds)
    before, files = tables(ds), _files(ds)

    def boom(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(layout, "write_manifest", boom)
    with pytest.raises(DatasetError, match="could not commit"):
        export(paths, ds)         # replaces 2 videos, adds 1: all or nothing
    monkeypatch.undo()
    assert tables(ds) == before and _files(ds) == files


def test_a_folder_that_is_not_a_dataset_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(DatasetError, match="not empty and holds no dataset.json"):
        with ExportSession(tmp_path):
            pass
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]       # not even a lock file left in it
    (tmp_path / "dataset.json").write_text('{"format": "something else"}')
    with pytest.raises(DatasetError, match="not a dataset manifest"):
        sql(tmp_path, "SELECT 1")
    (tmp_path / "dataset.json").write_text(json.dumps({"format": schemas.FORMAT, "schema_version": "1.0", "groups": [
        {"id": "x", "created_at": "2026-01-01T00:00:00Z", "schema_version": "1.0", "runner_version": "0",
         "videos": 1, "rows": {}, "files": {"videos": ["../../etc/passwd.parquet"]}}]}))
    with pytest.raises(DatasetError, match="not a dataset manifest"):     # a manifest never names a path outside
        sql(tmp_path, "SELECT 1")


def test_a_listed_file_that_is_a_link_is_refused(tmp_path):
    ds = tmp_path / "ds"
    export(_reports(tmp_path, 1), ds)
    name = layout.read_manifest(ds).files("words")[0]
    (ds / name).unlink()
    (ds / name).symlink_to("/etc/passwd")
    with pytest.raises(DatasetError, match="a link"):
        sql(ds, "SELECT count(*) FROM words")


def _manifest_version(ds, version: str) -> None:
    raw = json.loads((ds / "dataset.json").read_text())
    raw["schema_version"] = version
    (ds / "dataset.json").write_text(json.dumps(raw))


@pytest.mark.parametrize("version, read, write", [
    ("0.3", "written with export schema 0.3; this runner reads 1.x", "written with export schema 0.3"),
    ("2.0", "written by a newer runner", "written by a newer runner"),
    ("1.7", None, "written by a newer runner"),          # a later MINOR: readable, not appendable
    ("one", "unknown export schema version", "unknown export schema version"),
])
def test_other_versions_are_read_or_refused_with_what_to_do(tmp_path, version, read, write):
    ds = tmp_path / "ds"
    paths = _reports(tmp_path, 2)
    export(paths[:1], ds)
    _manifest_version(ds, version)
    if read is None:
        assert sql(ds, "SELECT count(*) AS n FROM videos") == [{"n": 1}]
    else:
        with pytest.raises(DatasetError, match=read) as err:
            sql(ds, "SELECT 1")
        assert err.value.fix
    with pytest.raises(DatasetError, match=write) as err:
        export(paths[1:], ds)
    assert err.value.fix and ("runner export" in err.value.fix or "upgrade" in err.value.fix)


def test_an_older_minor_reads_with_null_for_a_newer_column_and_is_appended_and_compacted(tmp_path, monkeypatch):
    ds = tmp_path / "ds"
    paths = _reports(tmp_path, 3)
    export(paths[:2], ds)                                  # written as 1.0
    newer = schemas.TABLES["shots"].append(schemas.col("sharpness", schemas.F64, "a column 1.1 added"))
    monkeypatch.setitem(schemas.TABLES, "shots", newer)
    monkeypatch.setattr(schemas, "SCHEMA_VERSION", "1.1")
    for mod in ("runner.dataset.writer", "runner.dataset.query", "runner.dataset.layout", "runner.dataset.compact"):
        monkeypatch.setattr(f"{mod}.SCHEMA_VERSION", "1.1")
    rows = sql(ds, "SELECT sharpness, duration_s FROM shots")
    assert rows and all(r["sharpness"] is None and r["duration_s"] is not None for r in rows)
    export(paths[2:], ds)                                  # appending to an older MINOR is fine
    assert layout.read_manifest(ds).schema_version == "1.1"
    assert {g.schema_version for g in layout.read_manifest(ds).groups} == {"1.0", "1.1"}
    n = sql(ds, "SELECT count(*) AS n FROM shots")[0]["n"]
    with ExportSession(ds) as s:
        s.compact()
    assert {g.schema_version for g in layout.read_manifest(ds).groups} == {"1.1"}
    assert sql(ds, "SELECT count(*) AS n, count(sharpness) AS s FROM shots") == [{"n": n, "s": 0}]


def test_compact_and_merges_keep_every_row(tmp_path, monkeypatch):
    ds = tmp_path / "ds"
    monkeypatch.setattr(compact_mod, "FANOUT", 3)
    paths = _reports(tmp_path, 7)
    for p in paths[:5]:
        export([p], ds)                 # five one-video groups: tier 0 fills (3) and merges once
    manifest = layout.read_manifest(ds)
    assert sorted(g.videos for g in manifest.groups) == [1, 1, 3]
    export(paths[5:], ds)
    before = tables(ds)
    with ExportSession(ds) as s:
        s.compact()
    assert len(layout.read_manifest(ds).groups) == 1 and len(_files(ds)) == len(schemas.TABLE_NAMES)
    assert tables(ds) == before
    assert sql(ds, "SELECT count(*) AS n FROM videos") == [{"n": 7}]


def test_interrupted_export_keeps_what_was_added(tmp_path):
    ds = tmp_path / "ds"
    paths = _reports(tmp_path, 3)
    with pytest.raises(KeyboardInterrupt):
        with ExportSession(ds) as s:
            s.add_file(paths[0])
            s.add_file(paths[1])
            raise KeyboardInterrupt
    assert sql(ds, "SELECT count(*) AS n FROM videos") == [{"n": 2}]


def test_periodic_seals_make_videos_visible_as_they_come(tmp_path):
    ds = tmp_path / "ds"
    paths = _reports(tmp_path, 5)
    with ExportSession(ds, seal_every_videos=2) as s:
        for k, p in enumerate(paths, 1):
            s.add_file(p)
            assert sql(ds, "SELECT count(*) AS n FROM videos")[0]["n"] == k - k % 2
    assert sql(ds, "SELECT count(*) AS n FROM videos") == [{"n": 5}]
