"""write_report never writes through a name another process could plant a link at (issue 23).

In compose the API service could write the reports folder, and a symlink it planted at the
worker's temp name (``.<name>.<pid>.tmp``) made the worker overwrite the link's target.
"""
from __future__ import annotations

import os

from runner.run.merge import write_report
from shared_schema.report import Report
from tests.unit.test_html import make_report, ok


def _report(tmp_path) -> Report:
    return make_report({"toy": ok("toy", {"message": "m"})}, tmp_path)


def test_a_symlink_at_every_name_the_old_writer_used_is_not_followed(tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    canary = tmp_path / "canary.txt"
    canary.write_text("keep me")
    before = canary.stat().st_mtime_ns
    # the old temp name, for this pid and the next ones (a worker restarted by compose gets another)
    for pid in range(os.getpid() - 5, os.getpid() + 50):
        (reports / f".job.json.{pid}.tmp").symlink_to(canary)
    path = write_report(_report(tmp_path), reports / "job.json")
    assert canary.read_text() == "keep me" and canary.stat().st_mtime_ns == before
    assert Report.model_validate_json(path.read_text()).analyzers["toy"].status.value == "ok"
    assert not path.is_symlink() and os.stat(path).st_nlink == 1
    assert not [p for p in reports.iterdir() if p.name.startswith(".job.json.") and not p.is_symlink()]


def test_a_symlink_at_the_report_itself_is_replaced_not_written_through(tmp_path):
    canary = tmp_path / "canary.txt"
    canary.write_text("keep me")
    (tmp_path / "job.json").symlink_to(canary)
    path = write_report(_report(tmp_path), tmp_path / "job.json")
    assert canary.read_text() == "keep me"
    assert not path.is_symlink() and "toy" in path.read_text()
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)
