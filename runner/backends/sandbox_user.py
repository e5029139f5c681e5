"""Which user a sandbox runs as, and how the folders it may write are prepared.

No folder is world-writable. As root on the host, sandboxes run as ``nobody``
(65534) and the runner chowns each writable folder to it (mode 0700); as an
unprivileged host user, sandboxes run as that same uid and gid (never root),
so a 0700 folder of the runner's is theirs to write and nobody else's.
"""
from __future__ import annotations

import os
from pathlib import Path

NOBODY = 65534


def container_user() -> str:
    """The ``user`` of every sandbox container: ``"65534:65534"`` as root, else the host's uid:gid."""
    if os.geteuid() == 0:
        return f"{NOBODY}:{NOBODY}"
    return f"{os.geteuid()}:{os.getegid()}"


def prepare_writable(path: Path) -> Path:
    """Create ``path`` (if needed) as a 0700 folder owned by the sandbox user."""
    path.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        if os.geteuid() == 0:
            os.fchown(fd, NOBODY, NOBODY)
        os.fchmod(fd, 0o700)
    finally:
        os.close(fd)
    return path
