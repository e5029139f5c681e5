"""Outcome classification against fake backend outcomes (our own logic only)."""

import pytest

from shared_schema.exit_codes import EXIT_HARNESS, EXIT_MEMORY
from runner.backends.base import RawOutcome
from runner.run.collect import classify
from runner.core.registry import Entry
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
    from runner.run.execute import Budget, ExecContext, Executor
    from runner.run.planner import Facts, plan
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


# ---- result.json is read as data: no link, no FIFO, capped -------------------------------
def _bad(entry, tmp_path, make, **limits):
    from runner.core.outbox import Limits

    res = tmp_path / "result.json"
    make(res)
    return classify(entry, RawOutcome(0, 0.1), res, tmp_path / "log.txt", 2**28, 5, "cpu", Limits(**limits))


def test_symlinked_result_is_invalid_and_not_followed(entry, tmp_path):
    target = write(tmp_path, status=Status.ok, result={"message": "m", "frames_seen": 1})
    target.rename(tmp_path / "real.json")
    env = _bad(entry, tmp_path, lambda p: p.symlink_to(tmp_path / "real.json"))
    assert env.status is Status.invalid_output and "symlink" in env.error.message


def test_fifo_result_is_invalid_without_blocking(entry, tmp_path):
    import os
    env = _bad(entry, tmp_path, lambda p: os.mkfifo(p))
    assert env.status is Status.invalid_output and "FIFO" in env.error.message


def test_hardlinked_result_is_invalid(entry, tmp_path):
    import os
    (tmp_path / "elsewhere").write_text("{}")
    env = _bad(entry, tmp_path, lambda p: os.link(tmp_path / "elsewhere", p))
    assert env.status is Status.invalid_output and "hard link" in env.error.message


def test_oversized_result_is_invalid_without_reading_it(entry, tmp_path):
    def huge(p):
        with open(p, "wb") as fh:
            fh.truncate(2 * 2**30)  # sparse 2 GB
    env = _bad(entry, tmp_path, huge, max_result_bytes=32 * 2**20)
    assert env.status is Status.invalid_output and "over the 33554432-byte cap" in env.error.message


def test_deeply_nested_result_is_invalid(entry, tmp_path):
    env = _bad(entry, tmp_path, lambda p: p.write_text("[" * 100_000 + "]" * 100_000))
    assert env.status is Status.invalid_output and "nested deeper than 128" in env.error.message
    (tmp_path / "x").mkdir()
    env = _bad(entry, tmp_path / "x", lambda p: p.write_text("[" * 500 + "]" * 500))
    assert env.status is Status.invalid_output and "deeper than" in env.error.message


def test_result_with_too_many_values_is_invalid_naming_the_cap(entry, tmp_path):
    env = _bad(entry, tmp_path, lambda p: p.write_text("[" + ",".join(["0"] * 1000) + "]"), max_json_nodes=500)
    assert env.status is Status.invalid_output and "more than 500 JSON values" in env.error.message


def test_an_analyzer_cannot_fill_dropped_itself(entry, tmp_path):
    res = write(tmp_path, status=Status.ok, result={"message": "m", "frames_seen": 1},
                dropped=[{"path": "x", "why": "made up"}])
    env = go(entry, tmp_path, RawOutcome(0, 0.1), res)
    assert env.status is Status.ok and env.dropped == []
