"""Containers a killed worker left behind, removed when the next one starts.

A worker that is SIGKILLed (or loses its host) mid-job cannot stop the containers it started; they
carry its pid, the pid's start time and its host name as labels. The next worker on the same host
removes every one whose runner is gone before it takes a job (``DockerBackend.cleanup_stale``; a
run also does it, but only when it runs on docker), so a restart leaves no container behind even
when no job follows.
"""
from __future__ import annotations

import logging

from runner.config import Settings

log = logging.getLogger("runner.api")


def remove_orphans(settings: Settings) -> int:
    """How many containers of dead runners on this host were removed (0 off the docker backend). The
    Docker client is the placement's (:mod:`runner.placement`, one per decision), closed here."""
    if settings.backend != "docker":
        return 0
    from runner.errors import BackendUnavailable
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
