"""Retry with degradation on the local backend: an OOM attempt, then an ok attempt with overrides."""
from __future__ import annotations

from shared_schema.envelope import Status


def test_oom_then_degraded_retry_is_ok_and_marked_degraded(run, silent_video):
    outcome = run(silent_video, ["toy_degrade"])
    env = outcome.report.analyzers["toy_degrade"]

    assert [a.status for a in env.attempts] == [Status.oom, Status.ok]
    first, second = env.attempts
    assert first.overrides == {}
    assert first.error is not None and first.error.type == "OutOfMemory"
    assert second.overrides == {"allocate_mb": 16}

    assert env.status is Status.ok
    assert env.degraded is True
    assert any("allocate_mb" in r and "oom" in r for r in env.degraded_reasons)
    # the result really comes from the second, small attempt
    assert env.result["params"] == {"allocate_mb": "16", "attempt": "2"}


def test_no_retry_when_first_attempt_fits(run, silent_video):
    outcome = run(silent_video, ["toy_degrade"], toy_degrade={"allocate_mb": 8})
    env = outcome.report.analyzers["toy_degrade"]

    assert [a.status for a in env.attempts] == [Status.ok]
    assert env.status is Status.ok
    assert env.degraded is False
    assert env.result["params"]["allocate_mb"] == "8"
