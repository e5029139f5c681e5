"""The runner's own log of one analyzer: ``<workdir>/logs/<name>.txt``, capped.

The file lives outside every folder a sandbox can write and is opened without
following a link. What a sandbox prints past the cap is discarded (the reader
keeps draining so the child never blocks on a full pipe), with one line saying
where the log was cut.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

_READ = 1 << 20


class CappedLog:
    """Append-only writer that keeps at most ``cap`` bytes of sandbox output (runner notes always)."""

    def __init__(self, path: Path, cap: int):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        self.cap = cap
        self.written = 0
        self.seen = 0
        self.truncated = False

    def note(self, text: str) -> None:
        """A line of the runner's own (not counted against the cap)."""
        os.write(self.fd, text.encode("utf-8", "replace"))

    def write(self, data: bytes) -> None:
        self.seen += len(data)
        if self.truncated:
            return
        room = self.cap - self.written
        if len(data) > room:
            data = data[:room]
            self.truncated = True
        if data:
            os.write(self.fd, data)
            self.written += len(data)
        if self.truncated:
            self.note(f"\n--- log truncated at {self.cap} bytes (RUNNER_MAX_LOG_BYTES); the rest was discarded\n")

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> "CappedLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def pump(read_fd: int, log: CappedLog) -> threading.Thread:
    """A daemon thread draining ``read_fd`` (a pipe) into ``log`` until EOF, then closing both."""
    def run() -> None:
        try:
            while True:
                try:
                    b = os.read(read_fd, _READ)
                except InterruptedError:
                    continue
                except OSError:
                    break
                if not b:
                    break
                try:
                    log.write(b)
                except OSError:  # a full disk costs the log, never the drain
                    log.truncated = True
        finally:
            os.close(read_fd)
            if log.truncated:
                log.note(f"--- {log.seen} bytes of output in all\n")
            log.close()

    t = threading.Thread(target=run, name="log-pump", daemon=True)
    t.start()
    return t
