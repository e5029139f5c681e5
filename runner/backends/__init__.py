"""Execution backends: ``local`` (subprocesses) and ``docker`` (one container per analyzer)."""
from runner.backends.base import Backend, LaunchSpec, RawOutcome

__all__ = ["Backend", "LaunchSpec", "RawOutcome"]
