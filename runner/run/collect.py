"""Turn what a backend saw plus what the analyzer wrote into one envelope.

The analyzer's own envelope is trusted only after validation: the envelope
model, then the result model its manifest names. Statuses the analyzer can't
report itself (oom, timeout, crashed) are decided here.
"""
from __future__ import annotations

import signal
from pathlib import Path

from pydantic import ValidationError

from shared_schema.exit_codes import EXIT_HARNESS, EXIT_MEMORY
from runner.backends.base import RawOutcome
from runner.core.outbox import Limits, OutboxError, load_json, read_file
from runner.core.registry import Entry
from shared_schema.envelope import Envelope, ErrorInfo, SkipReason, Status
from shared_schema.results import resolve_result_model

LOG_TAIL_LINES = 25
#: nesting of result.json past which it is refused (json.loads itself stops near 1000)
MAX_JSON_DEPTH = 128


def read_result(result_path: Path, limits: Limits) -> tuple[object | None, str | None]:
    """``(parsed envelope or None when there is none, why it is invalid or None)``: read as data
    (no link followed, regular single-link file, at most ``limits.max_result_bytes``), its values
    and depth counted on the bytes before any object is built (:func:`runner.core.outbox.load_json`)."""
    try:
        data = read_file(result_path, limits.max_result_bytes)
    except OutboxError as exc:
        if exc.why == "missing":
            return None, None
        return None, f"result.json was not read: {exc.why}"
    try:
        return load_json(data, limits.max_json_nodes, MAX_JSON_DEPTH), None
    except OutboxError as exc:
        kind, _, why = exc.why.partition(": ")
        return None, (f"result.json is too large: {why}" if kind == "too large" else f"result.json is not JSON: {why}")


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str | None:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(0, fh.tell() - 16384))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return None
    return "\n".join(text.splitlines()[-lines:]) or None


def _signame(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def runner_envelope(entry: Entry, status: Status, *, error: ErrorInfo | None = None,
                    skip_reason: SkipReason | None = None, duration_s: float = 0.0,
                    exit_code: int | None = None, device: str = "cpu", log: str | None = None) -> Envelope:
    return Envelope(analyzer=entry.name, analyzer_version=entry.manifest.version, status=status,
                    skip_reason=skip_reason, error=error, duration_s=duration_s,
                    exit_code=exit_code, device=device, log_tail=log)


def skipped(entry: Entry, reason: SkipReason, message: str, fix: str | None = None) -> Envelope:
    return runner_envelope(entry, Status.skipped, skip_reason=reason,
                           error=ErrorInfo(type="Skipped", message=message, fix=fix))


def classify(entry: Entry, outcome: RawOutcome, result_path: Path, log_path: Path,
             memory_limit: int, timeout_s: float, device: str, limits: Limits | None = None) -> Envelope:
    """The envelope for one finished attempt (``result_path``: what the sandbox wrote, read as data)."""
    limits = limits or Limits()
    tail = log_tail(log_path)
    common = dict(duration_s=outcome.duration_s, exit_code=outcome.exit_code, device=device, log=tail)
    if outcome.cancelled:
        return runner_envelope(entry, Status.skipped, skip_reason=SkipReason.interrupted,
                               error=ErrorInfo(type="Interrupted", message="the run was interrupted"), **common)
    if outcome.timed_out:
        return runner_envelope(entry, Status.timeout, error=ErrorInfo(
            type="Timeout", message=f"still running after its {timeout_s:g}s limit; killed",
            fix=f"raise it: --set {entry.name}.timeout_s=<seconds> or resources.timeout_s"), **common)
    if outcome.oom_killed or outcome.exit_code == EXIT_MEMORY:
        return runner_envelope(entry, Status.oom, error=ErrorInfo(
            type="OutOfMemory", message=f"exceeded its memory limit of {memory_limit / 2**20:.0f} MiB",
            fix="raise resources.memory in its analyzer.toml or lower its params"), **common)
    raw, bad = read_result(result_path, limits)
    if bad is not None:
        return runner_envelope(entry, Status.invalid_output, error=ErrorInfo(
            type="InvalidEnvelope", message=bad[:4000]), **common)
    if raw is None:
        if outcome.signal:
            why = f"killed by {_signame(outcome.signal)}"
        elif outcome.exit_code == EXIT_HARNESS:
            why = "the harness could not start (see log)"
        else:
            why = f"exited with code {outcome.exit_code} without writing result.json"
        return runner_envelope(entry, Status.crashed, error=ErrorInfo(type="Crashed", message=why), **common)
    try:
        env = Envelope.model_validate(raw)
    except ValidationError as exc:
        return runner_envelope(entry, Status.invalid_output, error=ErrorInfo(
            type="InvalidEnvelope", message=str(exc)[:4000]), **common)
    if env.analyzer != entry.name:
        return runner_envelope(entry, Status.invalid_output, error=ErrorInfo(
            type="InvalidEnvelope", message=f"envelope names analyzer {env.analyzer!r}"), **common)
    if env.status is Status.ok:
        try:
            model = resolve_result_model(entry.manifest.result)
            model.model_validate(env.result if env.result is not None else {})
            if env.result is None:
                raise ValueError("status ok without a result")
        except (ValidationError, ValueError) as exc:
            return runner_envelope(entry, Status.invalid_output, error=ErrorInfo(
                type="ValidationError", message=str(exc)[:4000]), **common)
    elif env.status in (Status.oom, Status.timeout, Status.crashed):
        # only the runner may claim these
        return runner_envelope(entry, Status.invalid_output, error=ErrorInfo(
            type="InvalidEnvelope", message=f"analyzer claimed runner-only status {env.status.value}"), **common)
    # ``dropped`` is the runner's to fill (Executor): what an analyzer claims there is discarded
    return env.model_copy(update={"exit_code": outcome.exit_code, "log_tail": tail if not env.ok else None,
                                  "dropped": []})
