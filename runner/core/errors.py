"""One exception root; subclasses carry the facts and say what to do next.

Each class has the CLI exit code it maps to: 2 bad usage or bad input,
3 backend unavailable.
"""
from __future__ import annotations


class RunnerError(Exception):
    exit_code = 1

    def __init__(self, message: str, *, fix: str | None = None):
        self.message = message
        self.fix = fix
        super().__init__(message + (f" ({fix})" if fix else ""))


class UsageError(RunnerError):
    exit_code = 2


class InputError(RunnerError):
    """The input video is missing, empty, not a video, truncated, ..."""

    exit_code = 2

    def __init__(self, path: str, problem: str, *, fix: str | None = None):
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}", fix=fix)


class PlanError(RunnerError):
    """Bad analyzer selection or graph (unknown names, cycles)."""

    exit_code = 2

    def __init__(self, message: str, names: list[str] | None = None, *, fix: str | None = None):
        self.names = names or []
        super().__init__(message, fix=fix)


class RegistryError(RunnerError):
    """An analyzer.toml is invalid; the message names the file and the field."""

    exit_code = 2


class BackendUnavailable(RunnerError):
    exit_code = 3

    def __init__(self, backend: str, reason: str, *, fix: str | None = None):
        self.backend = backend
        self.reason = reason
        super().__init__(f"backend {backend!r} unavailable: {reason}", fix=fix)


class ExtractionError(RunnerError):
    exit_code = 2


class DownloadError(RunnerError):
    """A URL could not be fetched; ``kind`` is one of not_found, private, geo_blocked,
    rate_limited, unsupported_url, refused, network."""

    exit_code = 2

    def __init__(self, url: str, kind: str, message: str, *, fix: str | None = None):
        self.url = url
        self.kind = kind
        super().__init__(f"{url}: {kind}: {message}", fix=fix)


class AdmissionError(InputError):
    """The input was refused before any decoder saw it (or by a cap on what the probe found);
    ``code`` is machine-readable: not_found, not_regular_file, outside_roots, empty, too_large,
    playlist_refused, not_a_video, too_long, too_many_pixels, frame_rate_too_high, too_many_streams."""

    def __init__(self, path: str, code: str, problem: str, *, fix: str | None = None):
        self.code = code
        super().__init__(path, problem, fix=fix)


class DiskFull(RunnerError):
    """A run's disk filled up while it wrote (:mod:`runner.run.space`); ``path`` is the folder whose
    filesystem is full, ``free_bytes``/``total_bytes`` what it had when the run failed."""

    def __init__(self, path: str, free_bytes: int, total_bytes: int, message: str, *, fix: str | None = None):
        self.path = path
        self.free_bytes = free_bytes
        self.total_bytes = total_bytes
        super().__init__(message, fix=fix)
