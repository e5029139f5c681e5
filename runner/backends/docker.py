"""Docker backend: one locked-down container per analyzer attempt.

Each attempt runs the analyzer's image (``<prefix>/<name>:<version>``, built by
``runner images build``) with no network, a read-only root, a tmpfs ``/tmp``,
an unprivileged user, no capabilities, and memory (= memory + swap), CPU and
pids limits. The workdir is mounted read-only at ``/input``, the analyzer's own
``out/<name>/`` read-write at ``/out``, the model store read-only at ``/models``.

The container is created and started (never ``containers.run``, which pulls a
missing image). The runner keeps its own clock (the SDK's wait timeout is only
an HTTP timeout), kills on expiry or cancel, reads ``State.OOMKilled``, streams
the logs into its own ``logs/<name>.txt`` (outside ``/out``, capped; the
daemon's copy is capped by ``log_config``), then removes the container. Every container carries labels (project, run id,
analyzer, runner pid and host) so an interrupted run's leftovers can be found:
``stop_all()`` removes this run's, ``cleanup_stale()`` those of dead runners.
"""
from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

from runner.backends.base import Backend, LaunchSpec, RawOutcome
from runner.backends.docker_api import (  # noqa: F401  (re-exported: LABEL, PROJECT*, KILL_WAIT_S, _retry)
    KILL_WAIT_S, LABEL, PROJECT, PROJECT_LABEL, _retry, _start_ticks, create_named, docker, requests)
from runner.backends.oneshot import exited, final_state, kill
from runner.backends.logcap import CappedLog
from runner.backends.permissions import container_user
from runner.backends.analyzer_env import analyzer_environment
from runner.core.errors import BackendUnavailable
from runner.core.registry import Entry, Registry
from shared_schema.envelope import SkipReason

TMP = "/tmp"
POLL_S = 0.25
STOP_GRACE_S = 10.0
START_FIX = ("start the daemon: setsid nohup dockerd --bridge=none --iptables=false "
             "--storage-driver=overlay2 >/var/log/dockerd.log 2>&1 & (see docs/docker.md), "
             "or use --backend local")


def image_name(prefix: str, entry: Entry) -> str:
    return f"{prefix}/{entry.name}:{entry.manifest.version}"


def connect(timeout: int = 10):
    """A client whose daemon answered a ping, or :class:`BackendUnavailable` with the fix."""
    if docker is None:
        raise BackendUnavailable("docker", "the `docker` Python package is not installed",
                                 fix="pip install 'docker>=7.1,<8'")
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except Exception as exc:  # DockerException, connection refused, permission denied, ...
        raise BackendUnavailable("docker", f"no Docker daemon answers ({type(exc).__name__}: {exc})",
                                 fix=START_FIX) from None
    return client


def daemon_status() -> tuple[bool, str]:
    """``(True, "docker 20.10.24 (API 1.41)")`` or ``(False, why + fix)``; for ``runner doctor``."""
    try:
        client = connect(timeout=5)
    except BackendUnavailable as exc:
        return False, f"{exc.reason}; {exc.fix}"
    v = client.version()
    return True, f"docker {v.get('Version')} (API {v.get('ApiVersion')})"


def _runner_alive(pid: int, start: str) -> bool:
    if pid <= 0:
        return False
    now = _start_ticks(pid)
    return bool(now) and (not start or now == start)


class DockerBackend(Backend):
    name = "docker"

    def __init__(self, client, image_prefix: str, registry: Registry | None = None):
        self.client = client
        self.prefix = image_prefix
        self.registry = registry or {}
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.pid_start = _start_ticks(self.pid)
        self._running: dict[str, object] = {}   # container id -> container
        self._lock = threading.Lock()
        self._images: dict[str, str | None] = {}   # tag -> image id (None: not built)

    # -- construction -------------------------------------------------------
    @classmethod
    def from_settings(cls, settings, registry: Registry | None = None) -> "DockerBackend":
        return cls(connect(), settings.image_prefix, registry)

    # -- Backend interface ----------------------------------------------------
    def _image_id(self, entry: Entry) -> str | None:
        tag = image_name(self.prefix, entry)
        if tag not in self._images:
            try:
                self._images[tag] = _retry(self.client.images.get)(tag).id
            except docker.errors.ImageNotFound:
                self._images[tag] = None
        return self._images[tag]

    def image_status(self, names: list[str]) -> dict[str, str]:
        """``{name: "built" | "stale" | "missing"}`` of the registry's analyzers: an image is stale
        when its source-digest label differs from the analyzer's sources now."""
        from runner.core.sources import source_digest

        out = {}
        for name in names:
            entry = self.registry[name]
            try:
                img = _retry(self.client.images.get)(image_name(self.prefix, entry))
            except docker.errors.ImageNotFound:
                out[name] = "missing"
                continue
            built_from = (img.labels or {}).get(f"{LABEL}.source-digest")
            out[name] = "built" if built_from in (None, source_digest(entry)) else "stale"
        return out

    def _has_image(self, entry: Entry) -> bool:
        return self._image_id(entry) is not None

    def identity(self, entry: Entry) -> str | None:
        """What runs this analyzer, for the result cache: its image id (a rebuild changes it)."""
        image_id = self._image_id(entry)
        return f"image:{image_id}" if image_id else None

    def unavailable(self, entry: Entry):
        if not self._has_image(entry):
            tag = image_name(self.prefix, entry)
            return (SkipReason.image_missing, f"image {tag} is not built",
                    f"runner images build {entry.name} (or: make image-{entry.name})")
        return None

    def container_config(self, spec: LaunchSpec) -> dict:
        """The keyword arguments of ``containers.create`` for one attempt (no I/O)."""
        job_rel = spec.job_path.relative_to(spec.workdir).as_posix()
        threads = max(1, int(round(spec.cpus)))
        env = analyzer_environment(threads, TMP)
        env["PYTHONPATH"] = "/app"
        command = ["python", "-m", "analyzers.harness", "--analyzer-dir", f"/app/analyzers/{spec.entry.name}",
                   "--input", "/input", "--job", f"/input/{job_rel}", "--out", "/out"]
        volumes = {str(spec.workdir): {"bind": "/input", "mode": "ro"},
                   str(spec.out_dir): {"bind": "/out", "mode": "rw"}}
        if spec.models_dir is not None:
            volumes[str(spec.models_dir)] = {"bind": "/models", "mode": "ro"}
            command += ["--models", "/models"]
        # tmpfs pages are charged to the container's memory cgroup, so /tmp can use at most
        # what the analyzer leaves free; half the limit keeps a runaway cache from being the OOM.
        tmp_size = max(64 * 2**20, spec.memory_bytes // 2)
        kw = dict(
            image=image_name(self.prefix, spec.entry), command=command, environment=env,
            network_mode="none", read_only=True,
            tmpfs={TMP: f"rw,exec,nosuid,nodev,size={tmp_size},mode=1777"},
            user=container_user(), cap_drop=["ALL"], security_opt=["no-new-privileges"],
            # the daemon's own copy of the output is bounded too: one json-file, rotated at twice the
            # runner's cap (so a flood still reaches the runner's cap and is marked truncated, unless
            # the rotation just happened: then the log holds only the tail)
            log_config={"type": "json-file", "config": {"max-size": str(2 * spec.log_cap + 2**20),
                                                        "max-file": "1"}},
            pids_limit=spec.pids, mem_limit=spec.memory_bytes, memswap_limit=spec.memory_bytes,
            nano_cpus=int(spec.cpus * 1e9), init=True, volumes=volumes, working_dir=TMP,
            name=self._container_name(spec),
            labels={PROJECT_LABEL: PROJECT, f"{LABEL}.run": spec.run_id,
                    f"{LABEL}.analyzer": spec.name, f"{LABEL}.attempt": str(spec.attempt),
                    f"{LABEL}.runner-pid": str(self.pid), f"{LABEL}.runner-start": self.pid_start,
                    f"{LABEL}.runner-host": self.host})
        if spec.device.startswith("cuda:"):
            kw["device_requests"] = [docker.types.DeviceRequest(
                device_ids=[spec.device.split(":", 1)[1]], capabilities=[["gpu"]])]
        return kw

    @staticmethod
    def _container_name(spec: LaunchSpec) -> str:
        safe = "".join(c if c.isalnum() or c in "_.-" else "-" for c in spec.run_id)[:80]
        return f"trr-{safe}-{spec.name}-{spec.attempt}"

    def launch(self, spec: LaunchSpec, cancel: threading.Event) -> RawOutcome:
        log_path = spec.log_file
        kw = self.container_config(spec)
        with CappedLog(log_path, spec.log_cap) as log:
            log.note(f"--- attempt {spec.attempt}: {kw['image']} {' '.join(kw['command'])}\n")
        t0 = time.monotonic()
        try:
            self._remove_by_name(kw["name"])  # a leftover from a crashed attempt with the same name
            container = self._create_and_start(kw)
        except docker.errors.DockerException as exc:
            # e.g. the image vanished or the daemon went away: this analyzer fails, the run goes on
            with CappedLog(log_path, spec.log_cap) as log:
                log.note(f"docker could not start the container: {exc}\n")
            return RawOutcome(exit_code=None, duration_s=round(time.monotonic() - t0, 4),
                              detail=f"docker error: {exc}")
        with self._lock:
            self._running[container.id] = container
        timed_out = cancelled = False
        state: dict = {}
        try:
            deadline = t0 + spec.timeout_s
            while not self._exited(container):
                if cancel.is_set():
                    cancelled = True
                    break
                if time.monotonic() >= deadline:
                    timed_out = True
                    break
            duration = time.monotonic() - t0
            # stop_all() may have killed it first: an exit during a cancel is the cancel's doing
            cancelled = cancelled or (cancel.is_set() and not timed_out)
            if timed_out or cancelled:
                self._kill(container)
            state = final_state(container)
            self._save_logs(container, log_path, spec.log_cap)
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            # the daemon went away mid-run (or stop_all() removed it): no exit code to trust
            duration = time.monotonic() - t0
            cancelled = cancel.is_set()
            with CappedLog(log_path, spec.log_cap) as log:
                log.note(f"lost the container to a docker error: {exc}\n")
        finally:
            with self._lock:
                self._running.pop(container.id, None)
            try:
                self._remove(container)
            except (docker.errors.DockerException, requests.exceptions.RequestException):
                pass  # cleanup_stale() of the next run removes it
        code = state.get("ExitCode")
        oom = bool(state.get("OOMKilled"))
        # 128+N: the process died of signal N (with init=True, tini passes it on: 134 = SIGABRT)
        sig = code - 128 if code is not None and 128 < code < 160 and not (timed_out or cancelled) else None
        return RawOutcome(exit_code=code, duration_s=round(duration, 4), timed_out=timed_out,
                          oom_killed=oom and not (timed_out or cancelled), cancelled=cancelled,
                          signal=sig, detail=f"container {container.id[:12]}")

    def _exited(self, container) -> bool:
        """Wait up to one poll interval; True once the container has stopped."""
        return exited(container, POLL_S)

    def _kill(self, container) -> None:
        kill(container)

    def _create_and_start(self, kw: dict):
        """``containers.create`` + ``start``: a missing image is an error, never an implicit pull."""
        container = create_named(self.client, kw)
        try:
            _retry(container.start)()
        except BaseException:
            try:
                self._remove(container)
            except (docker.errors.DockerException, requests.exceptions.RequestException):
                pass
            raise
        return container

    @staticmethod
    def _save_logs(container, log_path: Path, cap: int) -> None:
        """Stream the container's output into the runner's log; stop reading at the cap."""
        with CappedLog(log_path, cap) as log:
            try:
                chunks = _retry(container.logs)(stdout=True, stderr=True, stream=True, follow=False)
                try:
                    for chunk in chunks:
                        log.write(chunk)
                        if log.truncated:
                            break
                finally:
                    close = getattr(chunks, "close", None)
                    if close is not None:
                        close()
            except docker.errors.APIError as exc:
                log.note(f"(could not read the container's logs: {exc})\n")

    @staticmethod
    def _remove(container) -> None:
        try:
            _retry(container.remove)(force=True)
        except docker.errors.NotFound:
            pass

    def _remove_by_name(self, name: str) -> None:
        try:
            self._remove(self.client.containers.get(name))
        except docker.errors.NotFound:
            pass

    def stop_all(self) -> None:
        """Kill this run's containers and see them removed.

        Each launch() reads its container's state and removes it; what is still
        there after a grace period (a stuck thread) is removed here.
        """
        with self._lock:
            running = list(self._running.values())
        for c in running:
            self._kill(c)
        deadline = time.monotonic() + STOP_GRACE_S
        while self._running and time.monotonic() < deadline:
            time.sleep(0.1)
        with self._lock:
            left = list(self._running.values())
        for c in left:
            try:
                self._remove(c)
            except (docker.errors.DockerException, requests.exceptions.RequestException):
                pass  # cleanup_stale() of the next run removes it

    def _ours(self) -> list:
        return self.client.containers.list(all=True, filters={"label": f"{PROJECT_LABEL}={PROJECT}"},
                                          ignore_removed=True)

    def cleanup_stale(self) -> int:
        """Remove containers whose runner (same host, recorded pid) is gone; returns how many."""
        removed = 0
        for c in self._ours():
            labels = c.labels or {}
            if labels.get(f"{LABEL}.runner-host") != self.host:
                continue  # another host's runner shares this daemon: not ours to judge
            try:
                pid = int(labels.get(f"{LABEL}.runner-pid", "0"))
            except ValueError:
                pid = 0
            if pid == self.pid or _runner_alive(pid, labels.get(f"{LABEL}.runner-start", "")):
                continue
            try:
                self._remove(c)
            except (docker.errors.DockerException, requests.exceptions.RequestException):
                # another runner on this host is removing it right now (409 "removal already in
                # progress"), or the daemon hiccupped: housekeeping never fails the run that does it
                continue
            removed += 1
        return removed

    def describe(self) -> str:
        return f"docker (images {self.prefix}/<analyzer>:<version>)"
