"""What every one-shot sandbox container shares: the lockdown, the labels and the runner's clock.

The analyzer containers (:mod:`runner.backends.docker`), the media sandbox
(:mod:`runner.media.docker_exec`) and the download sandbox
(:mod:`runner.download.docker_fetch`) are all created (never ``run``, which pulls a
missing image), started, waited for on the runner's own clock (the SDK's wait timeout
is only an HTTP timeout), killed on expiry and removed. They carry the same labels, so
``DockerBackend.cleanup_stale()`` finds what a dead runner left behind.
"""
from __future__ import annotations

import os
import secrets
import socket
import time
from dataclasses import dataclass, field

from runner.backends.docker_api import (KILL_WAIT_S, LABEL, PROJECT, PROJECT_LABEL, _retry, _start_ticks,
                                        create_named, docker, requests)
from runner.backends.permissions import container_user
from runner.core.errors import BackendUnavailable

TMP = "/tmp"


def exited(container, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds; True once the container has stopped."""
    try:
        container.wait(timeout=timeout)
        return True
    except (requests.exceptions.ConnectionError, requests.exceptions.ReadTimeout):
        return False  # the SDK's way of saying "still running after timeout"


def kill(container) -> None:
    """Kill it and wait (bounded) until the daemon says it stopped."""
    try:
        container.kill()
    except docker.errors.APIError:
        pass  # already stopped
    try:
        container.wait(timeout=KILL_WAIT_S)
    except Exception:
        pass


def run_out(container, timeout_s: float, poll_s: float) -> bool:
    """Wait for it on the runner's own clock, polling every ``poll_s``; kill it at ``timeout_s``.
    True when it was killed."""
    deadline = time.monotonic() + timeout_s
    while not exited(container, min(poll_s, max(0.05, deadline - time.monotonic()))):
        if time.monotonic() >= deadline:
            kill(container)
            return True
    return False


def final_state(container) -> dict:
    """The stopped container's ``State`` (``ExitCode``, ``OOMKilled``), read after ``reload()``."""
    return _retry(lambda: (container.reload(), container.attrs["State"])[1])()


def remove_quietly(container) -> None:
    """Remove it; a daemon error leaves it to ``cleanup_stale()`` of a later run."""
    try:
        _retry(container.remove)(force=True)
    except (docker.errors.DockerException, requests.exceptions.RequestException):
        pass


def lockdown(*, memory: int, cpus: float, pids: int, tmp_size: int, network: str = "none",
             tmp_flags: str = "noexec,nosuid,nodev", log_max: str = "1m") -> dict:
    """The keyword arguments of ``containers.create`` that lock a sandbox down: no network (or the
    one named), read-only root, a small tmpfs ``/tmp``, a non-root user, no capabilities, no new
    privileges, memory = memory + swap, CPU and pids limits, tini as init, a bounded log."""
    return dict(
        network_mode=network, read_only=True, tmpfs={TMP: f"rw,{tmp_flags},size={tmp_size},mode=1777"},
        user=container_user(), cap_drop=["ALL"], security_opt=["no-new-privileges"],
        pids_limit=pids, mem_limit=memory, memswap_limit=memory,
        nano_cpus=int(min(cpus, os.cpu_count() or 1) * 1e9), init=True,
        log_config=docker.types.LogConfig(type="json-file", config={"max-size": log_max, "max-file": "1"}))


@dataclass
class OneShot:
    """A sandbox image run once per call: its image check, its container names and labels."""

    client: object
    image: str
    role: str                       # "media" | "fetch": the label and the name say which
    what: str                       # for the missing-image message, e.g. "ffprobe/ffmpeg run in it"
    fix: str                        # e.g. "runner images build media (or: make images)"
    run_id: str = "oneshot"
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    _checked: bool = False

    def __post_init__(self) -> None:
        self.pid_start = _start_ticks(self.pid)

    def check_image(self, force: bool = False) -> None:
        """Raise :class:`BackendUnavailable` naming the fix when the image is not built."""
        if self._checked and not force:
            return
        try:
            _retry(self.client.images.get)(self.image)
        except docker.errors.ImageNotFound:
            self._checked = False
            raise BackendUnavailable("docker", f"the {self.role} sandbox image {self.image} is not built "
                                     f"({self.what})", fix=self.fix) from None
        self._checked = True

    def name(self) -> str:
        safe = "".join(c if c.isalnum() or c in "_.-" else "-" for c in self.run_id)[:80]
        return f"trm-{safe}-{self.role}-{secrets.token_hex(4)}"

    def labels(self, tool: str) -> dict[str, str]:
        return {PROJECT_LABEL: PROJECT, f"{LABEL}.run": self.run_id, f"{LABEL}.analyzer": self.role,
                f"{LABEL}.attempt": "1", f"{LABEL}.role": self.role, f"{LABEL}.tool": tool,
                f"{LABEL}.runner-pid": str(self.pid), f"{LABEL}.runner-start": self.pid_start,
                f"{LABEL}.runner-host": self.host}

    def create(self, kw: dict):
        """``containers.create``; a missing image is the clear error with the fix, never a pull."""
        try:
            return create_named(self.client, kw)
        except docker.errors.ImageNotFound:
            self.check_image(force=True)
            raise


class Boxed:
    """What the sandboxes built on a :class:`OneShot` (``self.box``) share: the run label their
    containers carry, and the image check."""

    box: OneShot

    @property
    def run_id(self) -> str:
        return self.box.run_id

    @run_id.setter
    def run_id(self, value: str) -> None:
        self.box.run_id = value  # its containers carry the run's label

    def check_image(self) -> None:
        """Raise :class:`BackendUnavailable` naming the fix when the sandbox's image is not built."""
        self.box.check_image()
