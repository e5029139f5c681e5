"""Toy analyzers that abort, blow their memory, hang and lie run together with a good one."""
import pytest

from shared_schema.envelope import SkipReason, Status
from tests.conftest import run_analyzers

TOYS = ["toy_good", "toy_abort", "toy_memhog", "toy_hang", "toy_invalid", "toy_dependent", "toy_final"]


@pytest.fixture(scope="module")
def outcome(tmp_path_factory, sample_video):
    from runner.core.config import Settings
    from tests.conftest import ANALYZERS, TOYS as TOY_DIR

    settings = Settings.from_env().with_(analyzers_dirs=(ANALYZERS, TOY_DIR), include_test_only=True,
                                         work_root=tmp_path_factory.mktemp("runs"), backend="local")
    return run_analyzers(settings, sample_video, TOYS)


def test_each_fault_gets_its_own_status(outcome):
    a = outcome.report.analyzers
    assert a["toy_abort"].status is Status.crashed and "SIGABRT" in a["toy_abort"].error.message
    assert a["toy_memhog"].status is Status.oom
    assert a["toy_hang"].status is Status.timeout and a["toy_hang"].duration_s < 10
    assert a["toy_invalid"].status is Status.invalid_output
    assert a["toy_dependent"].status is Status.skipped
    assert a["toy_dependent"].skip_reason is SkipReason.upstream_failed and "toy_abort" in a["toy_dependent"].error.message


def test_good_result_is_intact(outcome):
    good = outcome.report.analyzers["toy_good"]
    assert good.status is Status.ok
    assert good.result["frames_seen"] == 8 and good.result["last_t"] == 3.5
    assert good.attempts[0].exit_code == 0


def test_final_stage_sees_every_other_and_succeeds(outcome):
    final = outcome.report.analyzers["toy_final"]
    assert final.status is Status.ok
    assert final.result["upstream_ok"] == ["toy_good"]


def test_report_counts_and_logs(outcome):
    r = outcome.report
    assert r.counts[Status.ok] == 2 and sum(r.counts.values()) == len(TOYS)
    assert outcome.exit_code == 1
    log = (outcome.workdir / "logs" / "toy_abort.txt").read_text()
    assert "attempt 1" in log
    assert r.analyzers["toy_memhog"].log_tail is not None


def test_no_process_left_behind(outcome):
    import subprocess
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(outcome.workdir) not in ps


def test_html_summary_names_every_analyzer_and_its_status(outcome, tmp_path):
    from runner.report import write_html

    page = write_html(outcome.report, tmp_path / "report.html").read_text()
    for name in TOYS:
        assert f"<td>{name}</td>" in page
    assert "<b>oom</b>" in page and "<b>timeout</b>" in page and "SIGABRT" in page


def test_runner_verdicts_are_written_where_later_stages_read_them(outcome):
    import json
    for name, status in (("toy_hang", "timeout"), ("toy_memhog", "oom"), ("toy_abort", "crashed"),
                         ("toy_dependent", "skipped")):
        on_disk = json.loads((outcome.workdir / "results" / f"{name}.json").read_text())
        assert on_disk["status"] == status and on_disk["attempts"] == [
            a.model_dump(mode="json") for a in outcome.report.analyzers[name].attempts]
