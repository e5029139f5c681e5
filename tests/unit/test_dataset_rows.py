"""runner export on real reports (tests/data/dataset, made by tests/dataset_seeds.py from real runs):
rows that match the reports, re-exports that change nothing, appends that add exactly a video's rows,
failures as rows with their reasons, and results the export cannot read costing only their own rows."""
from __future__ import annotations

import json

import pytest

from tests.dataset_gen import make_report, seed, seed_names
from tests.dataset_support import counts, expected_counts, export, run_ids, sql, tables, write_seeds

pytest.importorskip("pyarrow")
pytest.importorskip("duckdb")

RESULT_TABLES = ("shots", "transitions", "camera", "text", "words", "segments", "objects", "persons", "faces",
                 "audio", "scores")


@pytest.fixture(scope="module")
def seeds_dir(tmp_path_factory):
    return write_seeds(tmp_path_factory.mktemp("seeds"))


@pytest.fixture(scope="module")
def ds(seeds_dir, tmp_path_factory):
    d = tmp_path_factory.mktemp("ds") / "ds"
    export(seeds_dir.values(), d)
    return d


@pytest.mark.parametrize("name", seed_names())
def test_row_counts_equal_the_items_of_each_report(ds, name):
    report = seed(name)
    got = counts(ds, report["media"]["sha256"])
    want = expected_counts(report)
    assert {t: got[t] for t in want} == want
    runs = sql(ds, f"SELECT sum(result_rows) AS n FROM analyzer_runs WHERE video_id = '{report['media']['sha256']}'")
    assert runs[0]["n"] == sum(got[t] for t in RESULT_TABLES)     # every result row is accounted to its analyzer
    assert got["scores"] > 0 or name == "faults"


def test_values_are_the_reports_values(ds):
    rich = seed("rich")
    vid = rich["media"]["sha256"]
    cut = rich["analyzers"]["cut_analysis"]["result"]
    shots = sql(ds, f"SELECT shot, start_s, end_s, duration_s, start_frame, end_frame FROM shots "
                    f"WHERE video_id = '{vid}' ORDER BY shot")
    assert shots == [{"shot": s["index"], "start_s": s["start"], "end_s": s["end"], "duration_s": s["duration"],
                      "start_frame": s["start_frame"], "end_frame": s["end_frame"]} for s in cut["shots"]]
    words = sql(ds, f"SELECT word, start_s, end_s FROM words WHERE video_id = '{vid}' ORDER BY word_index")
    said = [w for s in rich["analyzers"]["speech_transcription"]["result"]["segments"] for w in s["words"]]
    assert words == [{"word": w["word"].strip(), "start_s": w["start"], "end_s": w["end"]} for w in said]
    text = sql(ds, f"SELECT text, kind, score, track FROM text WHERE video_id = '{vid}' ORDER BY segment")
    segs = rich["analyzers"]["text_overlay"]["result"]["segments"]
    assert text == [{"text": s["text"], "kind": s["kind"], "score": s["overlay_score"], "track": s["track"]}
                    for s in segs]
    video = sql(ds, f"SELECT * FROM videos WHERE video_id = '{vid}'")[0]
    assert video["duration_s"] == rich["media"]["duration_s"] and video["run_id"] == rich["run"]["run_id"]
    assert video["statuses"] == {n: e["status"] for n, e in rich["analyzers"].items()}
    assert video["status"] == "partial"    # qwen2_vl_temporal was skipped: its weights are not in the store


def test_failed_analyzers_are_rows_with_their_reasons(ds):
    faults = seed("faults")
    vid = faults["media"]["sha256"]
    runs = {r["analyzer"]: r for r in sql(ds, f"SELECT * FROM analyzer_runs WHERE video_id = '{vid}'")}
    assert set(runs) == set(faults["analyzers"])
    for name, env in faults["analyzers"].items():
        row = runs[name]
        assert row["status"] == env["status"]
        assert row["error_message"] == (env["error"] or {}).get("message")
        assert row["skip_reason"] == env["skip_reason"]
        assert row["attempts"] == len(env["attempts"]) and row["exit_code"] == env["exit_code"]
    assert runs["object_detection"]["error_type"] == "ModelChecksumMismatch"
    assert "does not match its declared sha256" in runs["object_detection"]["error_message"]
    assert runs["toy_memhog"]["status"] == "oom" and runs["toy_hang"]["error_fix"].startswith("raise it")
    assert runs["toy_dependent"]["skip_reason"] == "upstream_failed"
    video = sql(ds, f"SELECT status, analyzers_ok, analyzers_failed, analyzers_skipped FROM videos "
                    f"WHERE video_id = '{vid}'")
    assert video == [{"status": "partial", "analyzers_ok": 1, "analyzers_failed": 5, "analyzers_skipped": 1}]
    assert sql(ds, f"SELECT count(*) AS n FROM objects WHERE video_id = '{vid}'") == [{"n": 0}]


def test_reexport_changes_nothing(seeds_dir, tmp_path):
    d = tmp_path / "ds"
    export(seeds_dir.values(), d)
    before = tables(d)
    stats = export(seeds_dir.values(), d)
    assert stats.replaced == len(seeds_dir) and stats.added == len(seeds_dir)
    assert tables(d) == before
    copy = tmp_path / "copy-of-rich.json"
    copy.write_bytes(seeds_dir["rich"].read_bytes())
    again = export([seeds_dir["rich"], copy], d)     # the same report twice in one export
    assert again.duplicates == 1 and again.added == 1
    assert tables(d) == before
    assert sql(d, "SELECT count(*) AS n, count(DISTINCT video_id) AS v FROM videos") == [{"n": 5, "v": 5}]


def test_an_appended_video_adds_exactly_its_rows(seeds_dir, tmp_path):
    d = tmp_path / "ds"
    export([seeds_dir[n] for n in ("rich", "street", "faults")], d)
    before = counts(d)
    alone = tmp_path / "alone"
    export([seeds_dir["talk"]], alone)
    export([seeds_dir["talk"]], d)
    after = counts(d)
    assert {t: after[t] - before[t] for t in after} == counts(alone)
    assert counts(d, seed("talk")["media"]["sha256"]) == counts(alone)


def test_a_later_run_of_a_video_replaces_its_rows(tmp_path):
    d = tmp_path / "ds"
    first, second = make_report(7, run=0), make_report(7, run=1)
    assert first["media"]["sha256"] == second["media"]["sha256"] and first["run"]["run_id"] != second["run"]["run_id"]
    (tmp_path / "a.json").write_text(json.dumps(first))
    (tmp_path / "b.json").write_text(json.dumps(second))
    export([tmp_path / "a.json"], d)
    stats = export([tmp_path / "b.json"], d)
    assert stats.replaced == 1
    assert run_ids(d) == {second["run"]["run_id"]}
    alone = tmp_path / "alone"
    export([tmp_path / "b.json"], alone)
    assert counts(d) == counts(alone)
    # both runs in one export, newer first: the run that finished last is kept
    d2 = tmp_path / "ds2"
    stats = export([tmp_path / "b.json", tmp_path / "a.json"], d2)
    assert stats.added == 1 and stats.duplicates == 1
    assert run_ids(d2) == {second["run"]["run_id"]} and counts(d2) == counts(alone)
    # older first, newer second: the first run's rows (already written) are removed at the commit
    d3 = tmp_path / "ds3"
    export([tmp_path / "a.json", tmp_path / "b.json"], d3)
    assert counts(d3) == counts(alone) and run_ids(d3) == {second["run"]["run_id"]}


def test_a_result_it_cannot_read_costs_only_its_own_rows(tmp_path):
    report = seed("rich")
    res = report["analyzers"]
    res["cut_analysis"]["result"]["shots"] = [{"index": "zero", "start": [], "end": None}, 7]
    res["text_overlay"]["result"]["segments"][0] = {"text": None, "start": "soon"}
    res["text_overlay"]["result"]["segments"][1]["overlay_score"] = "high"
    res["camera_analysis"]["result"]["shots"] = {"not": "a list"}
    res["speech_transcription"]["result"]["segments"][0]["words"][0]["start"] = float("inf")
    res["body_pose"]["result"]["frames"][0]["persons"][0]["track_id"] = 2**40
    res["eye_tracking"]["result"] = {"frames": "x" * 10}
    (tmp_path / "odd.json").write_text(json.dumps(report))
    d = tmp_path / "ds"
    stats = export([tmp_path / "odd.json"], d)
    assert stats.added == 1 and not stats.unreadable
    runs = {r["analyzer"]: r for r in sql(d, "SELECT analyzer, result_rows, result_error FROM analyzer_runs")}
    assert "1 of 3 text lines" in runs["text_overlay"]["result_error"]
    assert sql(d, "SELECT count(*) AS n FROM text") == [{"n": 2}]
    assert sql(d, "SELECT score FROM text ORDER BY segment LIMIT 1") == [{"score": None}]    # "high" is no number
    assert sql(d, "SELECT shot, start_s, end_s FROM shots") == [{"shot": None, "start_s": None, "end_s": None}]
    assert "1 item(s) of its result were not" in runs["cut_analysis"]["result_error"]     # the 7
    assert sql(d, "SELECT count(*) AS n FROM camera WHERE level = 'shot'") == [{"n": 0}]
    assert "1 item(s)" in runs["camera_analysis"]["result_error"]
    assert sql(d, "SELECT start_s FROM words ORDER BY word_index LIMIT 1") == [{"start_s": None}]
    assert sql(d, "SELECT track_id FROM persons ORDER BY t_s, person LIMIT 1") == [{"track_id": None}]
    assert "1 item(s)" in runs["eye_tracking"]["result_error"]      # frames is a string
    assert runs["audio_analysis"]["result_error"] is None and runs["audio_analysis"]["result_rows"] > 100


def test_reports_that_are_not_reports(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "media.json").write_text(json.dumps({"path": "x"}))      # a workdir's probe: skipped quietly
    (folder / "report.json").write_text(json.dumps(seed("talk")))
    bad = tmp_path / "bad.json"
    bad.write_text('{"run": {}, "analyzers": {}}')
    junk = tmp_path / "junk.json"
    junk.write_bytes(b"\x00\xffnot json")
    stats = export([folder, bad, junk], tmp_path / "ds")
    assert stats.added == 1 and stats.skipped == 1
    why = dict(stats.unreadable)
    assert set(why) == {str(bad), str(junk)}
    assert why[str(bad)].startswith("not a report this runner reads") and why[str(junk)].startswith("not JSON")
