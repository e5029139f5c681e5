"""The Ray side of ``runner batch``: start or join Ray quietly, one task per video, cancel on Ctrl-C.

Ray is imported here only, and only when a batch runs, so ``runner analyze`` never pays for it.
A local instance (no address) is started with the settings' CPU and memory budgets and the GPUs
in ``RUNNER_GPUS``; ``auto`` or ``ray://host:port`` joins a cluster, where each task builds its
settings from its own node's environment (paths differ per node; see docs/batch.md).

A video is *queued* from its submission until its task starts on a worker, then *running*: each
task tells a small actor of the driver's (:class:`StartLog`, no CPU) when it starts, and the
driver drains that actor as it polls (:attr:`RayEngine.started`).
"""
from __future__ import annotations

import itertools
import logging
import math
import socket
import time
from dataclasses import dataclass, replace
from typing import Any, Callable

from runner.core.config import Settings
from runner.core.errors import BackendUnavailable

__all__ = ["Capacity", "RayEngine", "StartLog", "forwarded_env", "import_ray"]

#: Ray's object store holds only the per-video reports on their way to the driver
OBJECT_STORE_BYTES = 256 * 1024**2
#: after Ctrl-C, how long running videos get to stop their analyzers and return what finished
GRACE_S = 60.0
CONNECT_TIMEOUT_S = 5.0
#: a video whose node or worker died (or whose returned report was lost with its node) is submitted
#: again, up to this many times, wherever Ray has room; then it is an ``error`` row
LOST_RETRIES = 2

INSTALL_FIX = "make setup (installs requirements/runner.lock, Ray included); " \
              "or run without Ray: runner batch --serial ..."


def import_ray():
    try:
        import ray
    except ImportError as exc:
        raise BackendUnavailable("ray", f"ray is not installed ({exc})", fix=INSTALL_FIX) from None
    return ray


def forwarded_env(settings: Settings) -> dict[str, str]:
    """``RUNNER_*`` values a cluster's tasks get from the driver: the portable ones it changed from
    the defaults. Paths and budgets are per node (each node's own environment), GPUs are Ray's."""
    default = Settings()
    env: dict[str, str] = {}
    if settings.backend != default.backend:
        env["RUNNER_BACKEND"] = settings.backend
    if settings.image_prefix != default.image_prefix:
        env["RUNNER_IMAGE_PREFIX"] = settings.image_prefix
    if settings.sample_fps:
        env["RUNNER_SAMPLE_FPS"] = str(settings.sample_fps)
    if settings.include_test_only:
        env["RUNNER_TEST_ANALYZERS"] = "1"
    return env


@dataclass(frozen=True)
class Capacity:
    """The largest node: a task asking for more than this could never be scheduled."""

    cpus: float
    memory: int
    gpus: int


def ray_amount(cpus: float) -> float:
    """Ray takes fractions below one CPU and whole numbers above."""
    return cpus if cpus <= 1 else float(math.ceil(cpus))


class StartLog:
    """A Ray actor (no CPU, on the driver's node): tasks report here when they start on a worker."""

    def __init__(self):
        self._events: list[tuple[int, int, float]] = []

    def started(self, index: int, token: int, at: float) -> None:
        self._events.append((index, token, at))

    def take(self) -> list[tuple[int, int, float]]:
        events, self._events = self._events, []
        return events


def run_task(fn: Callable[..., Any], start_log, index: int, token: int, job, settings: Settings, where: str):
    """One video's Ray task: say that it started (to the driver's StartLog), then ``fn(job, settings, where)``."""
    if start_log is not None:
        try:
            start_log.started.remote(index, token, time.time())   # fire and forget
        except Exception:  # noqa: BLE001 - the start report is for the view; the video runs anyway
            pass
    return fn(job, settings, where)


class RayEngine:
    """Submit ``fn(job, settings, where)`` per video; poll what finished; cancel the rest.

    ``started`` maps a video's index to when its current attempt started on a worker (the task's
    clock); a submitted video without an entry is still queued. Without the StartLog actor (it could
    not be made, or was lost) ``starts_known`` is False and nothing tells queued from running.
    """

    def __init__(self, address: str | None, settings: Settings, fn: Callable[..., Any]):
        self.address = None if address in (None, "", "local") else address
        self.settings = settings
        self.ray = import_ray()
        self.started_here = False
        self._fn = fn
        self._remote = None
        self._pending: dict[Any, Any] = {}   # ObjectRef -> job
        self._lost: dict[int, list[dict[str, Any]]] = {}   # job.index -> the attempts lost with a node
        self._cancelling = False
        #: called as ``on_retry(job, lost)`` when a video is submitted again (``lost``: its lost attempts)
        self.on_retry: Callable[[Any, list[dict[str, Any]]], None] | None = None
        self.startup_s = 0.0
        self.started: dict[int, float] = {}    # job.index -> when its current attempt started
        self._token: dict[int, int] = {}       # job.index -> its current attempt's token
        self._tokens = itertools.count(1)
        self._start_log = None
        self._start_take = None                # the outstanding StartLog.take() call

    @property
    def cluster(self) -> bool:
        return self.address is not None

    def start(self) -> None:
        ray = self.ray
        t0 = time.monotonic()
        # Ray warns about its token authentication on every local start; the instance listens on
        # this host only and lives as long as the batch.
        logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
        common = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING,
                      configure_logging=True)
        self._reachable()
        try:
            if ray.is_initialized():          # e.g. a test's instance: use it, leave it running
                pass
            elif self.cluster:
                ray.init(address=self.address, runtime_env={"env_vars": forwarded_env(self.settings)}, **common)
                self.started_here = True
            else:
                ray.init(address="local", num_cpus=max(1, int(self.settings.cpu_budget)),
                         num_gpus=len(self.settings.gpus), _memory=self.settings.memory_budget,
                         object_store_memory=OBJECT_STORE_BYTES, **common)
                self.started_here = True
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"join the Ray cluster at {self.address}" if self.cluster else "start a local Ray instance"
            fix = "check the address (`ray status` on the head node), or run with --serial"
            if self.cluster and self.address != "auto":
                fix += ("; a cluster with token authentication (Ray's default) also needs RAY_AUTH_MODE=token "
                        "and its token in ~/.ray/auth_token or RAY_AUTH_TOKEN")
            raise BackendUnavailable("ray", f"could not {where}: {str(exc).splitlines()[0] if str(exc) else exc!r}",
                                     fix=fix) from None
        _ray_notices_to_stderr(ray)
        self._remote = ray.remote(run_task)
        self._start_log = self._make_start_log()
        self.startup_s = time.monotonic() - t0

    def _make_start_log(self):
        ray = self.ray
        opts: dict[str, Any] = dict(num_cpus=0, max_restarts=0)
        try:
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            opts["scheduling_strategy"] = NodeAffinitySchedulingStrategy(
                node_id=ray.get_runtime_context().get_node_id(), soft=True)
        except Exception:  # noqa: BLE001 - anywhere will do
            pass
        try:
            return ray.remote(StartLog).options(**opts).remote()
        except Exception:  # noqa: BLE001 - the batch runs without it; nothing tells queued from running
            return None

    @property
    def starts_known(self) -> bool:
        return self._start_log is not None

    def drain_starts(self) -> None:
        """Take the start reports that have arrived (never waits); a stale attempt's is ignored."""
        if self._start_log is None:
            return
        ray = self.ray
        if self._start_take is None:
            self._start_take = self._start_log.take.remote()
        ready, _ = ray.wait([self._start_take], timeout=0)
        if not ready:
            return
        ref, self._start_take = self._start_take, None
        try:
            events = ray.get(ref)
        except Exception:  # noqa: BLE001 - the actor died with its node: running is unknown from now on
            self._start_log = None
            return
        for index, token, at in events:
            if self._token.get(index) == token:
                self.started[index] = min(at, time.time())

    def _reachable(self) -> None:
        """Fail fast on a wrong HOST:PORT: ray.init would retry connecting for minutes."""
        if not self.address or self.address == "auto":
            return
        host, _, port = self.address.removeprefix("ray://").rpartition(":")
        if not host or not port.isdigit():
            raise BackendUnavailable("ray", f"--ray {self.address!r}: expected auto, HOST:PORT or ray://HOST:PORT")
        try:
            socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
        except OSError as exc:
            raise BackendUnavailable("ray", f"nothing answers at {self.address} ({exc})",
                                     fix="check the address (`ray status` on the head node), or run with --serial"
                                     ) from None

    def capacity(self) -> Capacity:
        nodes = [n.get("Resources", {}) for n in self.ray.nodes() if n.get("Alive")]
        if not nodes:
            return Capacity(0, 0, 0)
        return Capacity(cpus=max(n.get("CPU", 0.0) for n in nodes), memory=int(max(n.get("memory", 0.0) for n in nodes)),
                        gpus=int(max(n.get("GPU", 0.0) for n in nodes)))

    def describe(self) -> str:
        res = self.ray.cluster_resources()
        nodes = sum(1 for n in self.ray.nodes() if n.get("Alive"))
        where = f"Ray cluster {self.address}" if self.cluster else "local Ray"
        gpus = f", {res.get('GPU', 0):g} GPUs" if res.get("GPU") else ""
        return (f"{where} ({nodes} node{'s' if nodes != 1 else ''}, {res.get('CPU', 0):g} CPUs{gpus}, "
                f"started in {self.startup_s:.1f}s)")

    def submit(self, job, settings: Settings) -> None:
        s = job.shape
        # Ray's own retries are off: a lost video is submitted again by poll(), which records it
        opts = dict(num_cpus=ray_amount(s.cpus), num_gpus=s.gpus, memory=s.memory,
                    max_retries=0, retry_exceptions=False)
        where = "cluster" if self.cluster else "local"
        token = self._token[job.index] = next(self._tokens)
        self.started.pop(job.index, None)       # queued until this attempt reports its start
        ref = self._remote.options(**opts).remote(self._fn, self._start_log, job.index, token, job, settings, where)
        self._pending[ref] = (job, settings)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def poll(self, timeout: float = 0.5) -> list[tuple[Any, Any]]:
        """(job, result or the exception ray.get raised) for each video that finished."""
        if not self._pending:
            return []
        # before the wait only: a start drained here came after its predecessor on that worker was
        # done, so that one is in ``done`` and never counts as running beside it
        self.drain_starts()
        done, _ = self.ray.wait(list(self._pending), num_returns=len(self._pending), timeout=timeout,
                                fetch_local=True)
        return [taken for taken in map(self._take, done) if taken is not None]

    def lost_with_a_node(self, exc: BaseException) -> bool:
        """The video did not fail: its worker or node died under it, or its report was lost with the node."""
        ex = self.ray.exceptions
        return isinstance(exc, (ex.NodeDiedError, ex.WorkerCrashedError, ex.LocalRayletDiedError, ex.ObjectLostError))

    def _take(self, ref) -> tuple[Any, Any] | None:
        job, settings = self._pending.pop(ref)
        try:
            res = self.ray.get(ref)
        except Exception as exc:  # worker died, node lost, cancelled: recorded, never fatal
            if self._cancelling or not self.lost_with_a_node(exc):
                return job, exc
            lost = self._lost.setdefault(job.index, [])
            lost.append({"type": type(exc).__name__, "message": str(exc).strip().splitlines()[0][:300] if str(exc)
                         else repr(exc), "at": time.time()})
            if len(lost) > LOST_RETRIES:
                return job, _gave_up(job, lost)
            if self.on_retry is not None:
                self.on_retry(job, lost)
            self.submit(job, settings)
            return None
        if hasattr(res, "retries"):
            res.retries = list(self._lost.get(job.index, []))
        return job, res

    def cancel(self, grace_s: float = GRACE_S) -> list[tuple[Any, Any]]:
        """Cancel every outstanding video: queued ones never start, running ones get a
        KeyboardInterrupt and stop their analyzers. Returns what came back within ``grace_s``
        (interrupted reports); videos cancelled before they started are dropped."""
        ray = self.ray
        self._cancelling = True
        for ref in list(self._pending):
            ray.cancel(ref, force=False)
        back: list[tuple[Any, Any]] = []
        deadline = time.monotonic() + grace_s
        while self._pending and time.monotonic() < deadline:
            for job, res in self.poll(timeout=0.5):
                if not isinstance(res, ray.exceptions.TaskCancelledError):
                    back.append((job, res))
        for ref in list(self._pending):  # still running after the grace period
            ray.cancel(ref, force=True)
            self._pending.pop(ref)
        return back

    def shutdown(self) -> None:
        if self._start_log is not None and self.ray.is_initialized():
            try:
                self.ray.kill(self._start_log)    # a joined instance outlives the batch; its actor does not
            except Exception:  # noqa: BLE001
                pass
            self._start_log = None
        if self.started_here and self.ray.is_initialized():
            self.ray.shutdown()


def _ray_notices_to_stderr(ray) -> None:
    """Ray prints cluster notices (e.g. "Raylet is terminated" when a node dies) to the driver's
    stdout; ``runner batch`` keeps stdout for the path of summary.jsonl, so they go to stderr."""
    worker = getattr(getattr(ray, "_private", None), "worker", None)
    show = getattr(worker, "print_to_stdstream", None)
    if show is None or getattr(show, "_to_stderr", False):
        return

    def to_stderr(data, ignore_prefix: bool):
        return show({**data, "is_err": True}, ignore_prefix)

    to_stderr._to_stderr = True  # type: ignore[attr-defined]
    worker.print_to_stdstream = to_stderr


def _gave_up(job, lost: list[dict[str, Any]]):
    """The error row of a video lost with a node more than LOST_RETRIES times."""
    from runner.batch.result import VideoResult

    last = lost[-1]
    return VideoResult(retries=lost, error={
        "type": last["type"], "message": f"lost {len(lost)} times with its node or worker; last: {last['message']}",
        "fix": "check the cluster's nodes (`ray status`), then rerun the same command"})


def clamp(shape, cap: Capacity):
    """``shape`` cut down to what the largest node has (else Ray would queue it forever)."""
    if cap.cpus <= 0:
        return shape
    return replace(shape, cpus=min(shape.cpus, cap.cpus), memory=min(shape.memory, cap.memory),
                   gpus=min(shape.gpus, cap.gpus))
