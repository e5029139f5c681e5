"""Outcome classification against fake backend outcomes (our own logic only)."""

import pytest

from analyzers.harness import EXIT_HARNESS, EXIT_MEMORY
from runner.backends.base import RawOutcome
from runner.collect import classify
from runner.registry import Entry
from shared_schema.envelope import Envelope, Status
from shared_schema.manifest import Manifest


@pytest.fixture
def entry():
    return Entry(Manifest(name="toy_x", version="1.0.0", description="x",
                          result="shared_schema.results.testing:ToyResult"), path=None)


def write(tmp_path, **kw):
    env = Envelope(analyzer=kw.pop("analyzer", "toy_x"), analyzer_version="1.0.0", **kw)
    p = tmp_path / "result.json"
    p.write_text(env.model_dump_json())
    return p


def go(entry, tmp_path, outcome, result=None):
    res = result or tmp_path / "absent.json"
    return classify(entry, outcome, res, tmp_path / "log.txt", 2**28, 5, "cpu")


def test_timeout_wins_over_anything_written(entry, tmp_path):
    p = write(tmp_path, status=Status.ok, result={"message": "m", "frames_seen": 1})
    assert go(entry, tmp_path, RawOutcome(-9, 5.1, timed_out=True), p).status is Status.timeout


def test_oom_from_cgroup_flag_or_harness_exit(entry, tmp_path):
    assert go(entry, tmp_path, RawOutcome(137, 1, oom_killed=True)).status is Status.oom
    assert go(entry, tmp_path, RawOutcome(EXIT_MEMORY, 1)).status is Status.oom


def test_no_envelope_is_crashed_with_signal_name(entry, tmp_path):
    env = go(entry, tmp_path, RawOutcome(-6, 1, signal=6))
    assert env.status is Status.crashed and "SIGABRT" in env.error.message
    assert "harness could not start" in go(entry, tmp_path, RawOutcome(EXIT_HARNESS, 1)).error.message


def test_ok_envelope_with_bad_result_is_invalid_output(entry, tmp_path):
    p = write(tmp_path, status=Status.ok, result={"message": "m", "frames_seen": -1})
    assert go(entry, tmp_path, RawOutcome(0, 1), p).status is Status.invalid_output


def test_garbage_json_is_invalid_output(entry, tmp_path):
    p = tmp_path / "result.json"
    p.write_text("{not json")
    assert go(entry, tmp_path, RawOutcome(0, 1), p).status is Status.invalid_output


def test_analyzer_cannot_claim_runner_statuses_or_another_name(entry, tmp_path):
    p = write(tmp_path, status=Status.oom)
    assert go(entry, tmp_path, RawOutcome(0, 1), p).status is Status.invalid_output
    p = write(tmp_path, status=Status.ok, analyzer="someone_else", result={"message": "m", "frames_seen": 1})
    assert go(entry, tmp_path, RawOutcome(0, 1), p).status is Status.invalid_output


def test_valid_ok_envelope_passes_through(entry, tmp_path):
    p = write(tmp_path, status=Status.ok, result={"message": "m", "frames_seen": 3})
    env = go(entry, tmp_path, RawOutcome(0, 1), p)
    assert env.status is Status.ok and env.result["frames_seen"] == 3 and env.exit_code == 0


def test_backend_exception_costs_only_that_entry(tmp_path):
    """A backend that raises for one analyzer: that one is crashed, the other still ok."""
    import threading

    from runner.backends.base import Backend
    from runner.execute import Budget, ExecContext, Executor
    from runner.planner import Facts, plan
    from shared_schema.paths import Workdir

    def mk(name):
        return Entry(Manifest(name=name, version="1.0.0", description="x", env="core",
                              result="shared_schema.results.testing:ToyResult"), path=tmp_path)

    reg = {n: mk(n) for n in ("toy_aa", "toy_bb")}

    class Flaky(Backend):
        def launch(self, spec, cancel: threading.Event):
            if spec.name == "toy_aa":
                raise ConnectionError("daemon went away")
            spec.out_dir.joinpath("result.json").write_text(Envelope(
                analyzer=spec.name, analyzer_version="1.0.0", status=Status.ok,
                result={"message": "m", "frames_seen": 0}).model_dump_json())
            return RawOutcome(0, 0.1)

    wd = Workdir(tmp_path / "wd")
    p = plan(reg, Facts())
    out = Executor(Flaky(), Budget(2, 2**30)).run(ExecContext("r", wd, reg, p, None))
    assert out["toy_aa"].status is Status.crashed and "daemon went away" in out["toy_aa"].error.message
    assert out["toy_bb"].status is Status.ok
