"""What a killed worker left behind, removed when the next one starts: containers, and media.

A worker that is SIGKILLed (or loses its host) mid-job cannot stop the containers it started; they
carry its pid, the pid's start time and its host name as labels. The next worker on the same host
removes every one whose runner is gone before it takes a job (``DockerBackend.cleanup_stale``; a
run also does it, but only when it runs on docker), so a restart leaves no container behind even
when no job follows.

Nor can it remove its job's media (the input copy, frames and audio: tens of MB a video), which a
finished API job never keeps. The job's row records its workdir (``JobStore.set_workdir``); once
the job is marked interrupted, :func:`remove_media` empties that workdir as the end of a run would
(``cleanup_workdir(wd, keep_media=False)``): its envelopes, logs and job specs stay, they explain
the failure. The recorded path is data: only a real directory directly inside the work root is
touched, reached without following a symlink; any other path removes nothing and is logged.
"""
from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from runner.core.config import Settings

log = logging.getLogger("runner.api")


def remove_orphans(settings: Settings) -> int:
    """How many containers of dead runners on this host were removed (0 off the docker backend). The
    Docker client is the placement's (:mod:`runner.placement`, one per decision), closed here."""
    if settings.backend != "docker":
        return 0
    from runner.core.errors import BackendUnavailable
    from runner.placement import place

    where = place(settings)
    try:
        try:
            backend = where.backend({}, [])  # on docker: the daemon answers, or BackendUnavailable
        except BackendUnavailable as exc:  # the first job will say so too; starting must not fail here
            log.warning("could not look for containers left by a stopped worker: %s", exc.reason)
            return 0
        return backend.cleanup_stale()
    finally:
        where.close()


def remove_media(work_root: Path, job_id: str, recorded: str | None) -> bool:
    """Empty the media of the interrupted job ``job_id``'s workdir ``recorded`` (its row's text);
    True if it did. Anything but a real directory directly inside ``work_root`` is left alone, and
    the log says why."""
    from runner.run.pipeline import cleanup_workdir
    from shared_schema.paths import Workdir

    if not recorded:
        return False  # killed before its workdir existed: nothing of it is on disk
    where, why = _inside(work_root, recorded)
    if where is None:
        log.warning("job %s: its workdir %.300r was not cleaned: %s", job_id, recorded, why)
        return False
    try:  # pinned: what is emptied is the directory checked, whatever is renamed in the meantime
        fd = os.open(where, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except FileNotFoundError:
        log.info("job %s: its workdir %s is gone already", job_id, where)
        return False
    except OSError as exc:  # a symlink put there since the check (ELOOP), or not a directory
        log.warning("job %s: its workdir %s was not cleaned: %s", job_id, where, exc.strerror)
        return False
    try:
        pinned = Path(f"/proc/self/fd/{fd}")
        cleanup_workdir(Workdir(pinned if pinned.is_dir() else where), keep_media=False)
    finally:
        os.close(fd)
    log.warning("job %s: removed the input copy, frames and audio its killed worker left in %s "
                "(its logs and envelopes stay)", job_id, where)
    return True


def _inside(work_root: Path, recorded: str) -> tuple[Path | None, str]:
    """(the real directory ``recorded`` names directly inside ``work_root``, "") or (None, why not)."""
    if "\0" in recorded:
        return None, "it holds a NUL byte"
    path = Path(recorded)
    if not path.is_absolute():
        return None, "not an absolute path"
    if any(part in (".", "..") for part in recorded.split(os.sep)) or path.name in ("", ".", ".."):
        return None, "it holds a '.' or '..' component"
    root = Path(os.path.realpath(work_root))
    if Path(os.path.realpath(path.parent)) != root:
        return None, f"not directly inside the work root {root}"
    where = root / path.name
    try:
        st = os.lstat(where)
    except FileNotFoundError:
        return where, ""  # gone: remove_media says so
    except OSError as exc:
        return None, exc.strerror or str(exc)
    if stat.S_ISLNK(st.st_mode):
        return None, "it is a symlink (never followed)"
    if not stat.S_ISDIR(st.st_mode):
        return None, "not a directory"
    return where, ""
