"""The runner's own handling of a sandbox's ``out/<name>/`` and of its logs.

A fresh, non-world-writable ``out/<name>/`` for every attempt, the list of what the runner
does not keep of it, and appends to the runner-owned log (never a path a sandbox could plant).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from runner.backends.permissions import prepare_writable
from runner.core.outbox import Limits, walk
from shared_schema.envelope import DroppedOutput


def fresh_out_dir(path: Path) -> Path:
    """An empty sandbox-writable ``out/<name>/`` (0700, the sandbox user's): whatever an earlier
    attempt left there is removed first (``rmtree`` follows no link)."""
    def force(func, p, _exc):  # a folder the sandbox made unwritable (non-root host): reopen it
        try:
            os.chmod(os.path.dirname(p), 0o700)
            func(p)
        except OSError:
            pass

    if os.path.lexists(path):
        if path.is_symlink() or not path.is_dir():
            path.unlink()
        else:
            shutil.rmtree(path, onerror=force)
    return prepare_writable(path)


def dropped_outputs(out_dir: Path, limits: Limits) -> list[DroppedOutput]:
    """What the runner does not keep of ``out_dir`` (links, FIFOs, over a cap, ...)."""
    return [DroppedOutput(path=d.path, why=d.why) for d in walk(out_dir, limits).report()]


def append_log(path: Path, text: str) -> None:
    """Append a line of the runner's own to a runner-owned log."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)
