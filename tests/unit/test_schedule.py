"""runner.run.schedule and the executor's order: admission by priority, no stage barrier (issue 24's idle core)."""
from __future__ import annotations

import threading
import time

from runner.backends.base import Backend, RawOutcome
from runner.core.registry import Entry
from runner.run.execute import Budget, ExecContext, Executor
from runner.run.inputs import Extracted, RunInputs
from runner.run.planner import Facts, plan
from runner.run.schedule import Scheduler, chain_costs, priority
from shared_schema.envelope import Envelope, Status
from shared_schema.manifest import Manifest
from shared_schema.paths import Workdir

GIB = 2**30


def _start(s: Scheduler, got: list, name: str, cpus: float, rank: tuple, cancel: threading.Event,
           gpu: str | None = None) -> threading.Thread:
    t = threading.Thread(target=lambda: s.acquire(cpus, GIB, gpu, False, cancel, rank=rank) and got.append(name))
    t.start()
    return t


def _settle() -> None:
    time.sleep(0.5)  # long enough for a waiting thread to take what it may (it polls every 0.2 s)


def test_a_job_that_needs_both_cores_is_not_overtaken_by_smaller_ones():
    """Before: whichever waiting thread woke first took a freed core, so a 2-cpu job could wait for ever."""
    s, cancel, got = Scheduler(Budget(cpus=2, memory=8 * GIB)), threading.Event(), []
    assert s.acquire(1, GIB, None, False, cancel)                      # one core busy
    big = _start(s, got, "big", 2, priority(2, GIB, "big"), cancel)
    _settle()
    small = _start(s, got, "small", 1, priority(1, GIB, "small"), cancel)
    _settle()
    assert got == []                   # a core is free, but the 2-cpu job is ahead: the small one waits
    s.release(1, GIB, None, False)
    big.join(2)
    _settle()
    assert got == ["big"]              # alone on both cores
    s.release(2, GIB, None, False)
    small.join(2)
    assert got == ["big", "small"]


def test_a_job_waiting_for_its_gpu_does_not_hold_back_cpu_jobs():
    s, cancel, got = Scheduler(Budget(cpus=4, memory=8 * GIB, gpus=("0",), gpu_share=1)), threading.Event(), []
    assert s.acquire(1, GIB, "0", False, cancel)                       # the GPU is taken
    gpu_job = _start(s, got, "gpu", 1, priority(1, 4 * GIB, "gpu"), cancel, gpu="0")
    _settle()
    cpu_job = _start(s, got, "cpu", 1, priority(1, GIB, "cpu"), cancel)
    cpu_job.join(2)
    assert got == ["cpu"]
    cancel.set()
    gpu_job.join(2)
    assert got == ["cpu"] and not s._waiting   # a cancelled wait gives its place up


def test_chain_cost_is_the_job_plus_its_costliest_readers():
    ups = {"cut": [], "camera": ["cut"], "temporal": ["camera", "audio"], "audio": [], "big": []}
    cost = {"cut": 1, "camera": 1, "temporal": 1, "audio": 2, "big": 4}
    assert chain_costs(ups, cost) == {"cut": 3, "camera": 2, "temporal": 1, "audio": 3, "big": 4}
    assert sorted(ups, key=lambda n: priority(1, chain_costs(ups, cost)[n], n)) == [
        "big", "audio", "cut", "camera", "temporal"]


class _Timed(Backend):
    """Each job sleeps for its time; start and end are recorded."""

    def __init__(self, seconds: dict[str, float]):
        self.seconds, self.times = seconds, {}

    def launch(self, spec, cancel: threading.Event):
        t0 = time.monotonic()
        time.sleep(self.seconds[spec.name])
        spec.out_dir.joinpath("result.json").write_text(Envelope(
            analyzer=spec.name, analyzer_version="1.0.0", status=Status.ok,
            result={"message": "m", "frames_seen": 0}).model_dump_json())
        self.times[spec.name] = (t0, time.monotonic())
        return RawOutcome(0, self.seconds[spec.name])


def _entry(tmp_path, name: str, after: list[str] = (), memory: str = "256m") -> Entry:
    return Entry(Manifest(name=name, version="1.0.0", description="x", env="core", after=list(after),
                          result="shared_schema.results.testing:ToyResult", inputs={"frames": ["sampled"]},
                          resources={"memory": memory}), path=tmp_path)


def _run(tmp_path, cpus: float, seconds: dict[str, float]) -> _Timed:
    reg = {"toy_slow": _entry(tmp_path, "toy_slow", memory="1g"), "toy_fast": _entry(tmp_path, "toy_fast"),
           "toy_reader": _entry(tmp_path, "toy_reader", after=["toy_fast"])}
    backend = _Timed(seconds)
    made = Extracted(frame_dirs={"sampled": "frames/sampled"}, audio=None, seconds=0.0)
    ctx = ExecContext("r", Workdir(tmp_path / "wd"), reg, plan(reg, Facts()), None, inputs=RunInputs(lambda: made))
    out = Executor(backend, Budget(cpus, 8 * GIB)).run(ctx)
    assert {n: e.status for n, e in out.items()} == dict.fromkeys(reg, Status.ok)
    return backend


def test_a_reader_starts_when_what_it_reads_is_done_not_when_its_stage_is(tmp_path):
    """toy_fast -> toy_reader runs beside toy_slow: before, toy_reader waited for the whole first stage."""
    times = _run(tmp_path, 2, {"toy_slow": 1.5, "toy_fast": 0.1, "toy_reader": 0.1}).times
    assert times["toy_reader"][1] < times["toy_slow"][1] - 0.5


def test_on_one_core_the_costliest_chain_goes_first(tmp_path):
    """The queue's order, not the threads' wake-up order: toy_slow (1g) before toy_fast (256m + its reader's 256m)."""
    times = _run(tmp_path, 1, {"toy_slow": 0.2, "toy_fast": 0.05, "toy_reader": 0.05}).times
    assert sorted(times, key=lambda n: times[n][0]) == ["toy_slow", "toy_fast", "toy_reader"]
