"""Units of the live view (issue 18): the scheduler's waiting hook, rate/ETA, the view's rows."""
import io
import threading

from runner.run.execute import Budget
from runner.run.schedule import Scheduler
from runner.run.live import LiveProgress, clock
from runner.batch.live import rate_and_eta
from runner.run.progress import LineProgress, for_stream, is_live_terminal


def test_scheduler_says_what_a_job_waits_for():
    s = Scheduler(Budget(cpus=2, memory=4 * 2**30))
    cancel = threading.Event()
    assert s.acquire(2, 2**30, None, False, cancel)
    said: list[str] = []
    got: list[bool] = []
    t = threading.Thread(target=lambda: got.append(s.acquire(1, 2**30, None, False, cancel, said.append)))
    t.start()
    for _ in range(50):
        if said:
            break
        threading.Event().wait(0.05)
    s.release(2, 2**30, None, False)
    t.join(5)
    assert got == [True] and said == ["CPU budget (2 of 2 in use, needs 1)"]


def test_why_waiting_names_memory_and_gpu():
    s = Scheduler(Budget(cpus=8, memory=2 * 2**30, gpus=("0",)))
    s.running, s.mem, s.gpu_use["0"] = 1, 2**30, 1
    s.gpu_heavy.add("0")
    assert s.why_waiting(1, 2 * 2**30, None, False).startswith("memory budget (1.0 of 2.0 GiB in use")
    assert s.why_waiting(1, 1, "0", True).startswith("GPU 0")


def test_rate_and_eta():
    assert rate_and_eta(0, 10, 5.0) == (0.0, None)
    per_hour, eta = rate_and_eta(2, 10, 60.0)
    assert per_hour == 120 and eta == 240


def test_clock():
    assert clock(3.25).strip() == "3.2s" and clock(75) == "1m15s" and clock(3700) == "1h01m"


def test_plain_unless_a_terminal():
    buf = io.StringIO()
    assert not is_live_terminal(buf) and isinstance(for_stream(buf), LineProgress)
    assert isinstance(for_stream(buf, quiet=True), LineProgress) and for_stream(buf, quiet=True).quiet


def test_live_rows_without_a_terminal_loop():
    from rich.console import Console

    from shared_schema.envelope import Envelope, Status

    view = LiveProgress(io.StringIO())
    view.planned([["a", "b"], ["c"]], {"a": [], "b": [], "c": ["a"]})
    view.waiting("b", "CPU budget (2 of 2 in use, needs 1)")
    view.started("a", 1)
    env = Envelope.model_construct(status=Status.ok, duration_s=0.5, cache=None, degraded=True, error=None,
                                   skip_reason=None)
    view.finished("a", env)
    out = io.StringIO()
    Console(file=out, width=120).print(view._render())
    text = out.getvalue()
    assert "a" in text and "[degraded]" in text and "waiting for CPU budget" in text
    assert "waiting for stage 1" in text and "1/3 done" in text   # c: a is done, so it waits for the stage
