"""Local backend: one subprocess per analyzer, same harness and contract as a container.

Each analyzer runs in its group's environment (``<envs_dir>/<group>/bin/python``;
the ``core`` group is the runner's own interpreter), in its own process group,
with a memory limit (RLIMIT_DATA, set by the harness before anything loads)
and a wall-clock timeout kept here that kills the whole group. stdout and
stderr are piped into the runner's own ``logs/<name>.txt`` (capped; the rest is
drained and discarded). It does not isolate the network or the filesystem: the
docker backend does.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from runner.backends.base import Backend, LaunchSpec, RawOutcome
from runner.backends.logcap import CappedLog, pump
from runner.backends.analyzer_env import analyzer_environment
from runner.core.registry import Entry
from shared_schema.envelope import SkipReason

TERM_GRACE_S = 2.0
PUMP_JOIN_S = 5.0  # after the child is gone: a grandchild outside its group may hold the pipe


class LocalBackend(Backend):
    name = "local"

    def __init__(self, envs_dir: Path, repo_root: Path):
        self.envs_dir = envs_dir
        self.repo_root = repo_root
        self._procs: dict[int, subprocess.Popen] = {}
        self._identities: dict[str, str] = {}
        self._lock = threading.Lock()

    def python_for(self, entry: Entry) -> Path:
        group = entry.manifest.env
        if group == "core":
            return Path(sys.executable)
        return self.envs_dir / group / "bin" / "python"

    def identity(self, entry: Entry) -> str | None:
        """What runs this analyzer, for the result cache: its sources (code, requirements, SDK,
        schema) and its environment's Python."""
        if entry.name not in self._identities:
            from runner.core.sources import source_digest

            py = self.python_for(entry)
            cfg = py.parent.parent / "pyvenv.cfg"
            if entry.manifest.env == "core" or not cfg.is_file():
                version = sys.version.split()[0]
            else:
                version = next((ln.split("=", 1)[1].strip() for ln in cfg.read_text().splitlines()
                                if ln.replace(" ", "").startswith("version")), "?")
            self._identities[entry.name] = f"local:{source_digest(entry)}:py{version}"
        return self._identities[entry.name]

    def unavailable(self, entry: Entry):
        py = self.python_for(entry)
        if not py.exists():
            group = entry.manifest.env
            return (SkipReason.env_missing, f"local environment {group!r} is not built ({py} missing)",
                    f"make envs (or: runner envs build {group})")
        return None

    def launch(self, spec: LaunchSpec, cancel: threading.Event) -> RawOutcome:
        tmp = spec.workdir / "tmp" / f"{spec.name}-{spec.attempt}"
        tmp.mkdir(parents=True, exist_ok=True)
        env = analyzer_environment(threads=max(1, int(round(spec.cpus))), tmp=str(tmp))
        env["PATH"] = f"{Path(sys.executable).parent}:{os.environ.get('PATH', env['PATH'])}"
        env["PYTHONPATH"] = str(self.repo_root)
        argv = [str(self.python_for(spec.entry)), "-m", "analyzers.harness",
                "--analyzer-dir", str(spec.entry.path), "--input", str(spec.workdir),
                "--job", str(spec.job_path), "--out", str(spec.out_dir),
                "--memory-limit", str(spec.memory_bytes)]
        if spec.models_dir is not None:
            argv += ["--models", str(spec.models_dir)]
        log = CappedLog(spec.log_file, spec.log_cap)
        log.note(f"--- attempt {spec.attempt}: {' '.join(argv)}\n")
        t0 = time.monotonic()
        r, w = os.pipe()
        try:
            proc = subprocess.Popen(argv, stdout=w, stderr=w, stdin=subprocess.DEVNULL,
                                    env=env, cwd=str(tmp), start_new_session=True)
        except BaseException:
            os.close(r)
            log.close()
            raise
        finally:
            os.close(w)
        pumper = pump(r, log)
        with self._lock:
            self._procs[proc.pid] = proc
        timed_out = cancelled = False
        try:
            deadline = t0 + spec.timeout_s
            while True:
                try:
                    proc.wait(timeout=0.1)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if cancel.is_set():
                    cancelled = True
                    self._kill_group(proc)
                    break
                if time.monotonic() >= deadline:
                    timed_out = True
                    self._kill_group(proc)
                    break
        finally:
            with self._lock:
                self._procs.pop(proc.pid, None)
            pumper.join(PUMP_JOIN_S)
            shutil.rmtree(tmp, ignore_errors=True)
        if cancel.is_set() and not timed_out:
            cancelled = True  # killed by Executor.interrupt(), not by its own fault
        rc = proc.returncode
        sig = -rc if rc is not None and rc < 0 else None
        return RawOutcome(exit_code=rc, duration_s=round(time.monotonic() - t0, 4),
                          timed_out=timed_out, cancelled=cancelled, signal=sig,
                          detail=f"pid {proc.pid}")

    @staticmethod
    def _kill_group(proc: subprocess.Popen) -> None:
        for sig, wait in ((signal.SIGTERM, TERM_GRACE_S), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=wait)
                # the leader is gone; make sure nothing it forked survives
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                return
            except subprocess.TimeoutExpired:
                continue

    def stop_all(self) -> None:
        with self._lock:
            procs = list(self._procs.values())
        for p in procs:
            self._kill_group(p)

    def describe(self) -> str:
        return f"local (subprocesses; environments in {self.envs_dir})"
