"""Settings, resolved once at the edge into a frozen object.

:func:`Settings.from_env` is the only place the runner reads the environment.
Variables (all optional):

- ``RUNNER_ANALYZERS_DIR``  analyzer folders, ``os.pathsep``-separated (default: the repo's ``analyzers/``)
- ``RUNNER_MODELS_DIR``     the model store, mounted read-only at ``/models`` (default: ``~/.cache/tiktok-runner/models``)
- ``RUNNER_WORK_ROOT``      where run workdirs are made (default: ``~/.cache/tiktok-runner/runs``)
- ``RUNNER_CACHE_DIR``      the result cache (default: ``~/.cache/tiktok-runner/cache``)
- ``RUNNER_ENVS_DIR``       local-backend environments per group (default: the repo's ``.venvs/``)
- ``RUNNER_BACKEND``        ``auto`` | ``local`` | ``docker`` (default ``auto``)
- ``RUNNER_CPU_BUDGET``     CPUs the executor may hand out at once (default: all cores)
- ``RUNNER_MEMORY_BUDGET``  host memory it may hand out, e.g. ``16g`` (default: 75 % of RAM)
- ``RUNNER_GPUS``           comma-separated GPU ids to use (default: none; ``all`` = every GPU nvidia-smi lists)
- ``RUNNER_IMAGE_PREFIX``   image names are ``<prefix>/<analyzer>:<version>`` (default ``tiktok-runner``)
- ``RUNNER_SAMPLE_FPS``     rate of the ``sampled`` frame set (default 2)
- ``RUNNER_TEST_ANALYZERS`` ``1`` also loads analyzers marked ``test_only`` (the test suite's toys)
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field, replace
from pathlib import Path

from shared_schema.manifest import parse_memory

REPO_ROOT = Path(__file__).resolve().parents[1]


def _mem_total() -> int:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 * 1024**3


def _detect_gpus(spec: str) -> tuple[str, ...]:
    if not spec:
        return ()
    if spec != "all":
        return tuple(g.strip() for g in spec.split(",") if g.strip())
    if not shutil.which("nvidia-smi"):
        return ()
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(line.strip() for line in out.splitlines() if line.strip())


@dataclass(frozen=True)
class Settings:
    analyzers_dirs: tuple[Path, ...] = (REPO_ROOT / "analyzers",)
    models_dir: Path = Path.home() / ".cache" / "tiktok-runner" / "models"
    work_root: Path = Path.home() / ".cache" / "tiktok-runner" / "runs"
    envs_dir: Path = REPO_ROOT / ".venvs"
    cache_dir: Path = Path.home() / ".cache" / "tiktok-runner" / "cache"
    backend: str = "auto"
    cpu_budget: float = float(os.cpu_count() or 1)
    memory_budget: int = field(default_factory=lambda: int(_mem_total() * 0.75))
    gpus: tuple[str, ...] = ()
    image_prefix: str = "tiktok-runner"
    sample_fps: float | None = None
    include_test_only: bool = False
    repo_root: Path = REPO_ROOT

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        s = cls()
        kw: dict = {}
        if env.get("RUNNER_ANALYZERS_DIR"):
            kw["analyzers_dirs"] = tuple(Path(p).resolve() for p in env["RUNNER_ANALYZERS_DIR"].split(os.pathsep) if p)
        for var, key in (("RUNNER_MODELS_DIR", "models_dir"), ("RUNNER_WORK_ROOT", "work_root"),
                         ("RUNNER_ENVS_DIR", "envs_dir"), ("RUNNER_CACHE_DIR", "cache_dir")):
            if env.get(var):
                kw[key] = Path(env[var]).expanduser().resolve()
        if env.get("RUNNER_BACKEND"):
            kw["backend"] = env["RUNNER_BACKEND"]
        if env.get("RUNNER_CPU_BUDGET"):
            kw["cpu_budget"] = float(env["RUNNER_CPU_BUDGET"])
        if env.get("RUNNER_MEMORY_BUDGET"):
            kw["memory_budget"] = parse_memory(env["RUNNER_MEMORY_BUDGET"])
        kw["gpus"] = _detect_gpus(env.get("RUNNER_GPUS", ""))
        if env.get("RUNNER_IMAGE_PREFIX"):
            kw["image_prefix"] = env["RUNNER_IMAGE_PREFIX"]
        if env.get("RUNNER_SAMPLE_FPS"):
            kw["sample_fps"] = float(env["RUNNER_SAMPLE_FPS"])
        kw["include_test_only"] = env.get("RUNNER_TEST_ANALYZERS", "") == "1"
        return replace(s, **kw)

    def with_(self, **kw) -> "Settings":
        return replace(self, **kw)
