"""The Docker SDK as every docker module here uses it: the guarded import, the labels, the retry
policy for daemon hiccups, and the process start time that tells a live runner from a reused pid.

A leaf: the analyzer backend (:mod:`runner.backends.docker`), the one-shot sandboxes
(:mod:`runner.backends.oneshot`) and the image builder import it; it imports none of them.
"""
from __future__ import annotations

from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

try:  # optional at import time so `runner doctor` can say what is missing
    import docker
    import docker.errors
    import requests.exceptions
except ImportError:  # pragma: no cover - docker is a core dependency
    docker = None

LABEL = "org.tiktok-runner"
PROJECT_LABEL = f"{LABEL}.project"
PROJECT = "tiktok-sandbox-runner"
KILL_WAIT_S = 10.0


def _transient(exc: BaseException) -> bool:
    """Daemon hiccups worth another try: connection trouble and 5xx other than 'no such ...'."""
    if docker is None:
        return False
    if isinstance(exc, (docker.errors.NotFound, docker.errors.ImageNotFound)):
        return False
    if isinstance(exc, docker.errors.APIError):
        return exc.is_server_error() and "No such" not in str(exc)
    return isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout))


_retry = retry(retry=retry_if_exception(_transient), stop=stop_after_attempt(4),
               wait=wait_exponential(multiplier=0.2, max=3.0), reraise=True)


def _start_ticks(pid: int) -> str:
    """The process's start time (clock ticks since boot): tells a live runner from a reused pid."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def create_named(client, kw: dict):
    """``containers.create(**kw)`` that is safe to retry and leaves nothing behind when it fails.

    A create whose answer is lost (the client's timeout on a busy daemon) may still have made the
    container; the retry then finds its own name taken (409) and adopts that container, instead of
    leaving it behind, created and never started, for as long as this runner lives. ``kw["name"]``
    must be unique to this call (run, analyzer and attempt, or a random token)."""
    name = kw["name"]

    def once():
        try:
            return client.containers.create(**kw)
        except docker.errors.APIError as exc:
            if exc.status_code == 409:  # our own name: the try whose answer was lost made it
                return client.containers.get(name)
            raise

    try:
        return _retry(once)()
    except (docker.errors.ImageNotFound, docker.errors.NotFound):
        raise
    except BaseException:
        try:  # a try may have made it after all: remove it rather than leave it
            client.containers.get(name).remove(force=True)
        except Exception:
            pass
        raise
