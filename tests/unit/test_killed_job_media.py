"""A worker killed mid-job leaves its media; the next one removes it, and nothing else (issue 28).

The job's row records its run's workdir; when the next worker starts it marks the job interrupted
and empties that workdir as a finished run would (input copy, frames, audio, scratch), keeping the
envelopes, logs and job specs. The recorded path is data another process can write: rows are
planted here that name a folder outside the work root, climb out with ``..``, name ``/etc``, name a
symlink to a folder outside, or a workdir whose ``frames`` is such a symlink; none may remove a byte
outside the work root, and each refusal is logged with its reason. Real files, a real SQLite store
and the real worker start-up; only the backend is local (no Docker needed to recover).
"""
from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from runner.api.jobs import INTERRUPTED, JobStore
from runner.api.worker import WorkerPool
from runner.core.api_config import ApiSettings
from runner.core.config import Settings

MEDIA = ("input/video.mp4", "frames/sampled/000001.jpg", "audio/main.wav", "tmp/scratch.bin")
KEPT = ("logs/toy_good.txt", "jobs/toy_good.json", "results/toy_good.json", "out/toy_good/result.json",
        "media.json")


def _run_folder(path: Path) -> Path:
    for rel in MEDIA + KEPT:
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_bytes(b"x" * 64)
    return path


def _plant(db: Path, rows: dict[str, str | None]) -> None:
    """Jobs a killed worker left running, each with the workdir its row records."""
    with sqlite3.connect(db) as c:
        for job_id, workdir in rows.items():
            c.execute("INSERT INTO jobs (id, state, request, created_at, started_at, workdir) "
                      "VALUES (?, 'running', '{}', 't', 't', ?)", (job_id, workdir))


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def _start_and_stop(tmp_path: Path, work_root: Path) -> JobStore:
    data = tmp_path / "api"
    store = JobStore(data / "jobs.sqlite3")
    pool = WorkerPool(store, Settings.from_env().with_(backend="local", work_root=work_root),
                      ApiSettings(data_dir=data, workers=1), registry={})
    pool.start()
    pool.stop(grace_s=5)
    return store


def test_the_next_worker_removes_a_killed_jobs_media_and_keeps_its_logs(tmp_path, caplog):
    runs = tmp_path / "runs"
    good = _run_folder(runs / "clip-20261206-120000-ab12")
    JobStore(tmp_path / "api" / "jobs.sqlite3")
    _plant(tmp_path / "api" / "jobs.sqlite3", {"good": str(good), "missing": str(runs / "never-made"),
                                               "early": None})  # killed before its workdir existed
    with caplog.at_level(logging.INFO, logger="runner.api"):
        store = _start_and_stop(tmp_path, runs)
    assert {store.get(j).state for j in ("good", "missing", "early")} == {INTERRUPTED}
    assert _files(good) == set(KEPT)                          # input copy, frames, audio, scratch: gone
    assert not any((good / d).exists() for d in ("input", "frames", "audio", "tmp"))
    assert "removed the input copy, frames and audio" in caplog.text
    assert f"its workdir {runs / 'never-made'} is gone already" in caplog.text


@pytest.mark.parametrize("name", ["outside", "dotdot", "etc", "symlink", "relative", "a_file"])
def test_a_hostile_workdir_row_removes_nothing_and_says_why(tmp_path, caplog, name):
    runs = tmp_path / "runs"
    runs.mkdir()
    outside = _run_folder(tmp_path / "precious")                # the media-shaped folder a row aims at
    (runs / "link-run").symlink_to(outside, target_is_directory=True)
    (runs / "plain-file").write_bytes(b"not a run")
    recorded, why = {
        "outside": (str(outside), "not directly inside the work root"),
        "dotdot": (f"{runs}/../precious", "'.' or '..' component"),
        "etc": ("/etc", "not directly inside the work root"),
        "symlink": (str(runs / "link-run"), "it is a symlink (never followed)"),
        "relative": ("precious", "not an absolute path"),
        "a_file": (str(runs / "plain-file"), "not a directory"),
    }[name]
    before = _files(outside)
    JobStore(tmp_path / "api" / "jobs.sqlite3")
    _plant(tmp_path / "api" / "jobs.sqlite3", {"hostile": recorded})
    with caplog.at_level(logging.INFO, logger="runner.api"):
        store = _start_and_stop(tmp_path, runs)
    assert store.get("hostile").state == INTERRUPTED            # recovered all the same
    assert _files(outside) == before                            # not a byte removed
    assert (runs / "link-run").is_symlink() and (runs / "plain-file").read_bytes() == b"not a run"
    assert "job hostile: its workdir" in caplog.text and why in caplog.text, caplog.text


def test_a_symlink_inside_a_good_workdir_is_not_followed(tmp_path):
    """The row is fine, but the workdir's ``frames`` and ``input`` point out: only the links go."""
    runs = tmp_path / "runs"
    outside = _run_folder(tmp_path / "precious")
    wd = runs / "clip-20261206-120000-cd34"
    (wd / "logs").mkdir(parents=True)
    (wd / "frames").symlink_to(outside / "frames", target_is_directory=True)
    (wd / "input").symlink_to(outside / "input", target_is_directory=True)
    before = _files(outside)
    JobStore(tmp_path / "api" / "jobs.sqlite3")
    _plant(tmp_path / "api" / "jobs.sqlite3", {"linked": str(wd)})
    _start_and_stop(tmp_path, runs)
    assert _files(outside) == before


def test_a_store_made_before_the_workdir_column_keeps_its_jobs_and_records_workdirs(tmp_path):
    db = tmp_path / "jobs.sqlite3"
    with sqlite3.connect(db) as c:  # the schema as released before this column
        c.executescript("""
            CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, state TEXT NOT NULL,
                request TEXT NOT NULL, created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT,
                progress TEXT NOT NULL DEFAULT '{}', error TEXT, summary TEXT, report_path TEXT,
                runs INTEGER NOT NULL DEFAULT 0, cancel_requested INTEGER NOT NULL DEFAULT 0);
            INSERT INTO jobs (id, state, request, created_at) VALUES ('old', 'queued', '{"video_path": "/v/a.mp4"}', 't');
        """)
    store = JobStore(db)
    JobStore(db)  # a second process opening the same file adds nothing twice
    old = store.get("old")
    assert old.request == {"video_path": "/v/a.mp4"} and old.workdir is None
    claimed = store.claim_next()
    store.set_workdir(claimed.id, "/runs/a-run")
    assert store.get("old").workdir == "/runs/a-run"
    store.finish("old", "failed", error={"code": "x"})
    store.retry("old")
    assert store.claim_next().workdir is None  # a new run records its own
