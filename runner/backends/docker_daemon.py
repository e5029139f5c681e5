"""Why no Docker daemon answers, in one readable line (no raw ``DockerException`` text).

Used where the runner falls back to, or refuses, the local backend: the run's placement and
the servers' (:mod:`runner.placement`). It looks at the address the Docker SDK would use (``DOCKER_HOST``, else the
default unix socket) and tries it once, so the message names the daemon and what is wrong with it.
"""
from __future__ import annotations

import errno
import os
import socket
import stat
from urllib.parse import urlsplit

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
LOCAL_IS_NOT_A_SANDBOX = ("the local backend is NOT a sandbox: analyzers run as plain processes of this user "
                          "with CPU, memory and time limits only, no network or filesystem isolation")


def daemon_address(environ=None) -> str:
    env = os.environ if environ is None else environ
    return env.get("DOCKER_HOST") or DEFAULT_SOCKET


def _why(err: OSError) -> str:
    return {errno.ECONNREFUSED: "connection refused", errno.ENOENT: "no such socket",
            errno.EACCES: "permission denied", errno.EPERM: "permission denied",
            errno.ETIMEDOUT: "timed out", errno.EHOSTUNREACH: "host unreachable",
            errno.ENETUNREACH: "network unreachable"}.get(err.errno or 0,
                                                          (err.strerror or type(err).__name__).lower())


def daemon_reason(environ=None, timeout: float = 2.0) -> str:
    """``"no Docker daemon at unix:///var/run/docker.sock (connection refused)"`` and the like."""
    addr = daemon_address(environ)
    parts = urlsplit(addr)
    try:
        if parts.scheme in ("unix", ""):
            path = parts.path or addr
            try:
                mode = os.stat(path).st_mode
            except FileNotFoundError:
                return f"no Docker daemon at {addr} (no such socket: is dockerd installed and started?)"
            except PermissionError:
                return f"no Docker daemon at {addr} (permission denied)"
            if not stat.S_ISSOCK(mode):
                return f"no Docker daemon at {addr} (not a socket)"
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(timeout)
                s.connect(path)
        elif parts.scheme in ("tcp", "http", "https"):
            with socket.create_connection((parts.hostname or "localhost", parts.port or 2375), timeout=timeout):
                pass
        else:
            return f"no Docker daemon at {addr} (an address this runner cannot check)"
    except PermissionError:
        return (f"no access to the Docker daemon at {addr} (permission denied: this user is not in the "
                "socket's group)")
    except OSError as exc:
        return f"no Docker daemon at {addr} ({_why(exc)})"
    return f"the Docker daemon at {addr} accepts connections but did not answer a ping"
