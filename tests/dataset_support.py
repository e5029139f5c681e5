"""Helpers for the dataset tests: seed reports on disk, exports, table contents, and the number of
rows each table should get from a report, counted from the report's JSON independently of the
export's own mapping code."""
from __future__ import annotations

import io
import json
from pathlib import Path

from tests.dataset_gen import seed, seed_names

#: columns whose value is the time of the export, not of the data
VOLATILE = {"exported_at", "report_path"}


def write_seeds(d: Path, names: list[str] | None = None) -> dict[str, Path]:
    d.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in names or seed_names():
        p = d / f"{name}.json"
        p.write_text(json.dumps(seed(name)))
        out[name] = p
    return out


def export(paths, to: Path, **kw):
    from runner.dataset.writer import ExportSession, expand

    with ExportSession(to, **kw) as s:
        for p, explicit in expand(paths):
            s.add_file(p, explicit=explicit)
    return s.stats


def sql(ds: Path, query: str) -> list[dict]:
    from runner.dataset.query import run_query

    buf = io.StringIO()
    run_query(ds, query, "json", buf)
    return json.loads(buf.getvalue())


def tables(ds: Path, drop=VOLATILE) -> dict[str, list[dict]]:
    """Every table's rows (see :func:`table`), through one connection."""
    from runner.dataset.query import open_dataset, write_result
    from runner.dataset.schemas import TABLE_NAMES

    out = {}
    with open_dataset(ds) as con:
        for name in TABLE_NAMES:
            buf = io.StringIO()
            write_result(con.execute(f'SELECT * FROM "{name}"'), "json", buf)
            rows = [{k: v for k, v in r.items() if k not in drop} for r in json.loads(buf.getvalue())]
            out[name] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))
    return out


def table(ds: Path, name: str, drop=VOLATILE) -> list[dict]:
    """Every row of a table, without the volatile columns, in a stable order."""
    rows = [{k: v for k, v in r.items() if k not in drop} for r in sql(ds, f'SELECT * FROM "{name}"')]
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))


def counts(ds: Path, video_id: str | None = None) -> dict[str, int]:
    from runner.dataset.schemas import TABLE_NAMES

    where = f" WHERE video_id = '{video_id}'" if video_id else ""
    union = " UNION ALL ".join(f"SELECT '{t}' AS t, count(*) AS n FROM \"{t}\"{where}" for t in TABLE_NAMES)
    return {r["t"]: r["n"] for r in sql(ds, union)}


def run_ids(ds: Path) -> set[str]:
    """The runs any row of any table comes from."""
    from runner.dataset.schemas import TABLE_NAMES

    union = " UNION ".join(f'SELECT DISTINCT run_id FROM "{t}"' for t in TABLE_NAMES)
    return {r["run_id"] for r in sql(ds, union)}


def _ok(report: dict, name: str) -> dict:
    env = report["analyzers"].get(name)
    return env["result"] if env and env["status"] == "ok" and env["result"] else {}


def expected_counts(report: dict) -> dict[str, int]:
    """Rows per table (scores aside) from a report's items: one per shot, word, detection, ..."""
    cut, cam, text = _ok(report, "cut_analysis"), _ok(report, "camera_analysis"), _ok(report, "text_overlay")
    tr, od, bp = _ok(report, "speech_transcription"), _ok(report, "object_detection"), _ok(report, "body_pose")
    ages, eyes = _ok(report, "age_estimation"), _ok(report, "eye_tracking")
    aa, env, sf = _ok(report, "audio_analysis"), _ok(report, "audio_environment"), _ok(report, "speech_flow")
    rhythm = aa.get("rhythm", {})
    return {
        "videos": 1,
        "analyzer_runs": len(report["analyzers"]),
        "shots": len(cut.get("shots", [])),
        "transitions": len(cut.get("transitions", [])),
        "camera": len(cam.get("shots", [])) + len(cam.get("timeline", [])),
        "text": len(text.get("segments", [])),
        "words": sum(len(s["words"]) for s in tr.get("segments", [])),
        "segments": len(tr.get("segments", [])),
        "objects": sum(len(f["detections"]) for f in od.get("frames", [])),
        "persons": sum(len(f["persons"]) for f in bp.get("frames", [])),
        "faces": sum(len(t["observations"]) for t in ages.get("tracks", [])) + len(eyes.get("frames", [])),
        "audio": 2 * len(aa.get("loudness_series", [])) + len(rhythm.get("beat_times", []))
        + len(rhythm.get("onset_times", [])) + len(aa.get("silent_segments", [])) + len(env.get("timeline", []))
        + len(env.get("event_classifier", {}).get("labels", [])) + len(sf.get("speech_spans", []))
        + len(sf.get("pauses", [])) + len(sf.get("fillers", [])),
    }
