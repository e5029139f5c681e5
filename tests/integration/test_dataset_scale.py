"""The fast version of the dataset's scale benchmark (``make bench BENCH_ARGS=dataset`` runs it up to
10,000 videos): on reports generated from the real seeds, export cost per video is constant (linear
time), the size grows linearly, peak memory does not grow with the number of videos, and every query
in docs/dataset.md answers in under a second."""
from __future__ import annotations

import gc
import json
import weakref

import pytest

from tests import dataset_scale as sc
from tests.dataset_gen import make_report

pytest.importorskip("pyarrow")
pytest.importorskip("duckdb")

SMALL, LARGE = 120, 600


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("scale")
    dirs = sc.generate(LARGE, root / "reports", chunk=SMALL)
    one = root / "one"
    one.mkdir()
    (one / "0.json").write_text(json.dumps(make_report(0)))
    return {"root": root, "one": sc.export([one], root / "ds1"), "small": sc.export(dirs[:1], root / "ds-small"),
            "large": sc.export(dirs, root / "ds-large")}


def test_export_time_and_size_grow_linearly(sweep):
    one, small, large = sweep["one"], sweep["small"], sweep["large"]
    # CPU seconds per added video: from 1 to SMALL videos, and from SMALL to LARGE (process start cancels out)
    early = (small["cpu_s"] - one["cpu_s"]) / (SMALL - 1)
    late = (large["cpu_s"] - small["cpu_s"]) / (LARGE - SMALL)
    assert 0 < late < 2.0 * early and late > 0.4 * early, (early, late)
    per_small, per_large = small["bytes"] / SMALL, large["bytes"] / LARGE
    assert 0.6 < per_large / per_small < 1.2, (per_small, per_large)     # a fixed footer per file, then linear


def test_peak_memory_does_not_grow_with_the_videos(sweep):
    assert sweep["large"]["peak_rss_mib"] < sweep["small"]["peak_rss_mib"] + 25, sweep


def test_each_documented_query_answers_in_under_a_second(sweep):
    times = sc.query_times(sweep["root"] / "ds-large")
    assert set(times) == set(sc.queries()) and len(times) >= 4
    slow = {t: v for t, v in times.items() if v["best_s"] >= 1.0}
    assert not slow
    assert all(v["rows"] > 0 for v in times.values()), times


def test_one_report_in_memory_at_a_time(tmp_path, monkeypatch):
    """Streaming, checked directly: no report outlives its add, and no table holds more than a row group."""
    from runner.dataset import parts, writer

    paths = sc.generate(40, tmp_path / "reports", chunk=40)
    refs: list[weakref.ref] = []
    read = writer.read_report

    def alive() -> int:
        return sum(r() is not None for r in refs)

    def tracked(path):
        report = read(path)
        refs.append(weakref.ref(report))
        return report
    monkeypatch.setattr(writer, "read_report", tracked)
    monkeypatch.setattr(parts, "ROW_GROUP_BYTES", 256 * 1024)       # several row groups even for 40 videos
    with writer.ExportSession(tmp_path / "ds") as s:
        for path, explicit in writer.expand(paths):
            s.add_file(path, explicit=explicit)
            gc.collect()
            assert alive() == 0
            assert all(tf.pending_bytes < parts.ROW_GROUP_BYTES and len(tf.pending) <= parts.CONSOLIDATE
                       for tf in s._group.files.values())
    assert len(refs) == 40 and alive() == 0
    assert sc.size(tmp_path / "ds") > 0
