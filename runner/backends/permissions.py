"""Which user a sandbox runs as, and how the folders it may write are prepared.

No folder is world-writable. As root on the host, sandboxes run as ``nobody``
(65534) and the runner chowns each writable folder to it (mode 0700); as an
unprivileged host user, sandboxes run as that same uid and gid (never root),
so a 0700 folder of the runner's is theirs to write and nobody else's.

Nor is a run world-readable: the workdir and the admitted copy of the input are
readable by the runner and the sandbox user only (:func:`share_with_sandbox`). As
root that is the sandbox's group (``root:65534``, 0750 and 0640: a bare 0700 would
lock out the sandboxes, which read the workdir as ``nobody``); as another user,
0700 and 0600 (the sandboxes run as that same uid).
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


def share_with_sandbox(fd: int, *, folder: bool) -> None:
    """Make the open folder or file ``fd`` readable by the runner and the sandbox user, and by no
    other local user: as root, group ``65534`` with mode 0750 (folder) / 0640 (file); otherwise
    0700 / 0600 (the sandbox runs as this same uid)."""
    if os.geteuid() == 0:
        os.fchown(fd, -1, NOBODY)
        os.fchmod(fd, 0o750 if folder else 0o640)
    else:
        os.fchmod(fd, 0o700 if folder else 0o600)


def share_folder_with_sandbox(path: Path) -> Path:
    """:func:`share_with_sandbox` on the folder ``path`` (opened without following a link)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        share_with_sandbox(fd, folder=True)
    finally:
        os.close(fd)
    return path
