"""RunInputs: extracted once, on first need, under its own lock; each job gets its share; a failure stops the run."""
from __future__ import annotations

import threading
import time

import pytest

from runner.backends.base import Backend, RawOutcome
from runner.core.registry import Entry
from runner.run.inputs import Extracted, InputsFailed, RunInputs
from shared_schema.envelope import Envelope, Status
from shared_schema.job import JobSpec
from shared_schema.manifest import Manifest

MADE = Extracted(frame_dirs={"sampled": "frames/sampled", "keyframes": "frames/keyframes"}, audio="audio/mono16k.wav",
                 seconds=0.5)


def test_concurrent_asks_extract_once_and_each_gets_its_share():
    calls = []

    def make():
        calls.append(1)
        time.sleep(0.2)  # the other askers arrive while this one extracts: they wait, they do not extract
        return MADE

    inputs = RunInputs(make)
    assert not inputs.ready and inputs.seconds == 0
    got = {}

    def ask(name, frames, audio):
        got[name] = inputs.for_job(frames, audio)

    threads = [threading.Thread(target=ask, args=(f"job{i}", ["sampled"], i % 2 == 0)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and inputs.ready and inputs.seconds == 0.5
    assert got["job0"].frames == {"sampled": "frames/sampled"} and got["job0"].audio == "audio/mono16k.wav"
    assert got["job1"].audio is None
    # a frame set that was not made is left out, not invented
    assert inputs.for_job(["keyframes", "dense"], False).frames == {"keyframes": "frames/keyframes"}


def test_nothing_to_make_is_ready_at_once():
    inputs = RunInputs()
    assert inputs.ready and inputs.for_job(["sampled"], True).frames == {} and inputs.seconds == 0


def test_a_failed_extraction_fails_every_ask_with_the_original_error():
    calls = []

    def make():
        calls.append(1)
        raise OSError(28, "No space left on device")

    inputs = RunInputs(make)
    for _ in range(2):
        with pytest.raises(InputsFailed) as info:
            inputs.for_job(["sampled"], False)
        assert isinstance(info.value.__cause__, OSError)
    assert len(calls) == 1 and isinstance(inputs.error, OSError)


def _entry(tmp_path, name: str) -> Entry:
    return Entry(Manifest(name=name, version="1.0.0", description="x", env="core",
                          result="shared_schema.results.testing:ToyResult",
                          inputs={"frames": ["sampled"], "audio": name.endswith("a")}), path=tmp_path)


class _Ok(Backend):
    def __init__(self):
        self.specs: dict[str, JobSpec] = {}

    def launch(self, spec, cancel: threading.Event):
        self.specs[spec.name] = JobSpec.model_validate_json(spec.job_path.read_text())
        spec.out_dir.joinpath("result.json").write_text(Envelope(
            analyzer=spec.name, analyzer_version="1.0.0", status=Status.ok,
            result={"message": "m", "frames_seen": 0}).model_dump_json())
        return RawOutcome(0, 0.1)


def _run(tmp_path, inputs: RunInputs, backend: Backend):
    from runner.run.execute import Budget, ExecContext, Executor
    from runner.run.planner import Facts, plan
    from shared_schema.paths import Workdir

    reg = {n: _entry(tmp_path, n) for n in ("toy_aa", "toy_bb")}
    ctx = ExecContext("r", Workdir(tmp_path / "wd"), reg, plan(reg, Facts(has_audio=True)), None, inputs=inputs)
    return Executor(backend, Budget(2, 2**30)).run(ctx)


def test_the_executor_hands_each_job_its_frame_dirs_and_audio(tmp_path):
    backend = _Ok()
    out = _run(tmp_path, RunInputs(lambda: MADE), backend)
    assert {n: e.status for n, e in out.items()} == {"toy_aa": Status.ok, "toy_bb": Status.ok}
    assert backend.specs["toy_aa"].frames == {"sampled": "frames/sampled"}
    assert backend.specs["toy_aa"].audio == "audio/mono16k.wav" and backend.specs["toy_bb"].audio is None


def test_a_failed_extraction_stops_the_run_with_its_error(tmp_path):
    def make():
        raise OSError(28, "No space left on device")

    backend = _Ok()
    with pytest.raises(OSError, match="No space left"):
        _run(tmp_path, RunInputs(make), backend)
    assert backend.specs == {}  # nothing was launched without its inputs
