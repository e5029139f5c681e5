"""The sandbox or the host: where the media executor and the downloader run, given the requested backend.

Used by :func:`runner.media.choose.media_exec_for` and :func:`runner.download.choose.fetcher_for`
(one rule, one warning text for both).
"""
from __future__ import annotations

from runner.errors import BackendUnavailable


def sandbox_or_host(backend, make, host, host_note: str, say):
    """``make(client)`` on docker (its errors raised), ``host`` on local, and on auto the sandbox
    when the daemon answers and its image is built, else ``host`` with one warning naming the fix."""
    name = backend if isinstance(backend, str) else getattr(backend, "name", "local")
    if name == "local":
        return host
    client = getattr(backend, "client", None)
    try:
        if client is None:
            from runner.backends.docker import connect

            client = connect()
        return make(client)
    except ImportError as exc:
        if name == "docker":
            raise BackendUnavailable("docker", f"not available in this install ({exc})") from None
        why, fix = f"the docker backend is not installed ({exc})", "pip install 'docker>=7.1,<8'"
    except BackendUnavailable as exc:
        if name == "docker":
            raise
        why, fix = exc.reason, exc.fix
    say(f"WARNING: {host_note}: {why}. Fix: {fix}")
    return host
