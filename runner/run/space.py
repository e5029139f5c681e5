"""A run whose disk fills up: tell it from other failures, free what it wrote, say so in one error.

The workdir's filesystem can fill while a run writes: the input copy, the extraction (ffmpeg in
the media sandbox), an analyzer's output (in its container), the runner's own envelopes and
report. The runner sees ENOSPC only for its own writes; a sandbox that hit it shows up as a
failed extraction or a crashed analyzer. So a run is judged out of space when its failure carries
ENOSPC/EDQUOT, or when it failed (an error, or an analyzer not ok) and the filesystem has less
than :data:`FULL_BELOW` left for an unprivileged writer (what a sandbox's user sees).

Such a run ends with :class:`runner.core.errors.DiskFull`: its input copy, frames, audio, analyzer
outputs and temporary files are removed first (the space comes back for the next run; the
envelopes, logs and job specs, which are small, stay), and the message names the folder, the
free space before and after, and what filled it.
"""
from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from runner.core.errors import DiskFull, RunnerError

__all__ = ["FULL_BELOW", "diagnose", "free_bytes", "is_full", "release"]

FULL_BELOW = 1 << 20          # bytes left for an unprivileged writer under which the disk counts as full
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
#: what a run may drop when its disk is full: the bulky parts, never its envelopes or logs
BULKY = ("input", "frames", "audio", "out", "tmp")


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def free_bytes(path: Path) -> tuple[int, int]:
    """(bytes an unprivileged writer may still use, total bytes) of the filesystem holding ``path``."""
    st = os.statvfs(_existing(Path(path)))
    return st.f_bavail * st.f_frsize, st.f_blocks * st.f_frsize


def is_full(path: Path) -> bool:
    return free_bytes(path)[0] < FULL_BELOW


def _no_space(exc: BaseException | None) -> OSError | None:
    """The ENOSPC/EDQUOT error in ``exc``'s chain (raised from, or during, another), if any."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in _NO_SPACE:
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def _size(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_blocks * 512
            except OSError:
                pass
    return total


def _largest(workdir: Path) -> str | None:
    """The biggest thing the run wrote, e.g. ``out/toy_diskfill (47.7 MiB)``."""
    parts = [p for p in (workdir / "out").glob("*") if p.is_dir() and not p.is_symlink()]
    parts += [workdir / n for n in ("frames", "audio", "input") if (workdir / n).is_dir()]
    sized = sorted(((_size(p), p) for p in parts), key=lambda t: t[0], reverse=True)
    if not sized or sized[0][0] == 0:
        return None
    size, path = sized[0]
    return f"{path.relative_to(workdir).as_posix()} ({_mib(size)})"


def release(workdir: Path) -> None:
    """Remove the run's bulky files and its temporary files (envelopes, logs and job specs stay)."""
    for name in BULKY:
        shutil.rmtree(workdir / name, ignore_errors=True)
    for tmp in [*workdir.glob(".*.tmp"), *workdir.glob("results/.*.tmp"), *workdir.glob("jobs/*.tmp")]:
        try:
            tmp.unlink()
        except OSError:
            pass


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def diagnose(workdir: Path | None, work_root: Path, exc: BaseException | None) -> DiskFull | None:
    """A :class:`DiskFull` for a run that failed (``exc``, or None: an analyzer not ok) because a disk
    filled up, after releasing the run's bulky files; None when the failure was something else."""
    hit = _no_space(exc)
    where = Path(hit.filename) if hit is not None and isinstance(hit.filename, str) else (workdir or work_root)
    if hit is None:
        if exc is not None and not isinstance(exc, (RunnerError, OSError)):
            return None  # e.g. a cancel: not the disk's doing
        if not is_full(workdir or work_root):
            return None
    free_then, total = free_bytes(where)
    what = None
    if workdir is not None and workdir.is_dir():
        what = _largest(workdir)
        release(workdir)
    free_now, _ = free_bytes(where)
    shown = _existing(where)
    cause = f" ({hit.strerror}: {hit.filename})" if hit is not None and hit.filename else ""
    largest = f"; the largest part: {what}" if what else ""
    message = (f"no space left on the disk of {shown} ({_mib(free_then)} free of {_mib(total)}) while this run "
               f"wrote{cause}{largest}. Its input copy, frames, audio and analyzer outputs were removed: "
               f"{_mib(free_now)} free now")
    return DiskFull(str(shown), free_then, total, message,
                    fix="free space on that filesystem, or point RUNNER_WORK_ROOT at a larger one; then run it again")
