"""The pipeline is the only writer of report.json and report.html: each destination is written once a run.

Every report file is written by a rename of a fresh temp file (runner.run.merge.write_report,
runner.report.write_html), so counting ``os.replace`` onto a destination counts its writes. The
adapters (the CLI, the API worker, the batch driver) only choose the destinations: a second write
(a worker marking a cancelled report afterwards, a page rendered again after the media is gone)
fails here.
"""
from __future__ import annotations

import os
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from runner.api.jobs import CANCELLED, COMPLETED, JobStore
from runner.core.api_config import ApiSettings
from runner.api.worker import WorkerPool
from runner.core.registry import load_registry
from runner.run.pipeline import AnalyzeRequest, analyze


@pytest.fixture
def writes(monkeypatch) -> Counter:
    """Destination path -> how many files were renamed onto it (report.json/.html and the API's <id>.json/.html)."""
    seen: Counter = Counter()
    real = os.replace

    def counting(src, dst, *a, **kw):
        dst = Path(dst)
        if dst.suffix in (".json", ".html") and dst.parent.name in ("out", "reports") or dst.stem == "report":
            seen[dst.resolve()] += 1
        return real(src, dst, *a, **kw)

    monkeypatch.setattr(os, "replace", counting)
    return seen


def _registry(settings):
    return load_registry(settings.analyzers_dirs, include_test_only=True)


def test_the_cli_path_writes_each_report_once(settings, sample_video, tmp_path, writes):
    out = tmp_path / "out" / "clip.json"
    outcome = analyze(AnalyzeRequest(source=str(sample_video), only=["toy_good"], out=out, html=True,
                                      keep_media=False), settings, registry=_registry(settings))
    wd = outcome.workdir
    expected = {wd / "report.json", wd / "report.html", out.resolve(), out.with_suffix(".html").resolve()}
    assert dict(writes) == {p.resolve(): 1 for p in expected}
    assert outcome.report_path == out.resolve() and not outcome.report.run.interrupted


def _pool(settings, tmp_path) -> tuple[WorkerPool, JobStore, Path]:
    videos = tmp_path / "videos"
    videos.mkdir()
    api = ApiSettings(data_dir=tmp_path / "data", roots=(videos.resolve(),), allow_local=True, workers=1)
    store = JobStore(api.data_dir / "jobs.sqlite")
    return WorkerPool(store, settings, api, _registry(settings)), store, videos


def _destinations(report_json: Path, workdir: Path) -> dict[Path, int]:
    both = (report_json, report_json.with_suffix(".html"), workdir / "report.json", workdir / "report.html")
    return {p.resolve(): 1 for p in both}


def test_the_api_worker_writes_each_report_once(settings, sample_video, tmp_path, writes):
    pool, store, videos = _pool(settings, tmp_path)
    video = videos / "clip.mp4"
    video.write_bytes(sample_video.read_bytes())
    job = store.create({"video_path": str(video), "analyzers": ["toy_good"]})
    pool._run(store.claim_next(), settings)
    done = store.get(job.id)
    assert done.state == COMPLETED, done.error
    report = Path(done.report_path)
    workdir = next((tmp_path / "runs").iterdir())
    assert dict(writes) == _destinations(report, workdir)


def test_a_cancelled_api_job_is_written_once_and_says_why(settings, sample_video, tmp_path, writes):
    """The worker hands the pipeline its cancel reason; the report is marked once, by the pipeline."""
    pool, store, videos = _pool(settings, tmp_path)
    video = videos / "clip.mp4"
    video.write_bytes(sample_video.read_bytes())
    job = store.create({"video_path": str(video), "analyzers": ["toy_hang"], "options": {"toy_hang.timeout_s": 60}})
    runner = threading.Thread(target=pool._run, args=(store.claim_next(), settings))
    runner.start()
    deadline = time.monotonic() + 60
    while (store.get(job.id).progress or {}).get("analyzers", {}).get("toy_hang", {}).get("state") != "running":
        assert time.monotonic() < deadline, store.get(job.id)
        time.sleep(0.1)
    assert pool.cancel(job.id)
    runner.join(60)
    done = store.get(job.id)
    assert done.state == CANCELLED, done
    from shared_schema.report import Report

    report = Report.model_validate_json(Path(done.report_path).read_text())
    assert report.run.interrupted and "interrupted: cancelled through the API" in report.run.notices
    assert report.analyzers["toy_hang"].skip_reason.value == "interrupted"
    assert dict(writes) == _destinations(Path(done.report_path), Path(report.run.workdir))


def test_a_serial_batch_has_the_pipeline_write_each_report_once(settings, sample_video, tmp_path, writes):
    """The batch driver chooses ``<out>/<name>.json``; the video's pipeline writes it (and its page,
    while the media still exists); the driver writes nothing. (On a Ray cluster ``--out`` is not on
    the node: there the driver writes the report the task sent back, docs/batch.md.)"""
    from runner.batch.driver import BatchRequest, run_batch

    out = run_batch(BatchRequest(inputs=[str(sample_video)], out=tmp_path / "out", only=["toy_good"],
                                 backend="local", serial=True, html=True),
                    settings, registry=_registry(settings), quiet=True)
    (row,) = out.rows
    assert row["status"] == "ok", row
    report = Path(row["report"])
    assert report.parent == (tmp_path / "out").resolve() and report.with_suffix(".html").is_file()
    assert dict(writes) == _destinations(report, next((tmp_path / "runs").iterdir()))


@pytest.mark.parametrize("keep_media", [False, True])
def test_a_run_that_fails_after_admission_keeps_media_only_when_asked(settings, sample_video, tmp_path,
                                                                      monkeypatch, keep_media):
    """An API job (keep_media=False) that fails once its input is copied in (here: planning raises)
    leaves no input copy, frames or audio behind; the CLI's default (keep_media=True) keeps them."""
    from runner.run import pipeline

    seen: list[Path] = []

    def broken_plan(*a, **kw):
        seen.extend(p for p in (tmp_path / "runs").iterdir())
        assert any((seen[0] / "input").iterdir())  # the admitted copy is there when it fails
        raise RuntimeError("planning broke")

    monkeypatch.setattr(pipeline, "make_plan", broken_plan)
    with pytest.raises(RuntimeError, match="planning broke"):
        analyze(AnalyzeRequest(source=str(sample_video), only=["toy_good"], keep_media=keep_media),
                settings, registry=_registry(settings))
    (wd,) = seen
    assert wd.is_dir() and (wd / "input").exists() is keep_media
