"""Local-backend environments, one per group (``cpu``, ``torch``), like the images.

A group's environment gets the union of its analyzers' pinned requirements,
so a fresh machine installs torch once, not once per analyzer.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from runner.core.errors import RunnerError
from runner.core.registry import Registry

SDK_REQUIREMENTS = ["pydantic>=2.7,<3"]


def group_requirements(registry: Registry, group: str) -> list[Path]:
    return [e.path / "requirements.txt" for e in sorted(registry.values(), key=lambda e: e.name)
            if e.manifest.env == group and (e.path / "requirements.txt").is_file()]


def groups(registry: Registry) -> list[str]:
    return sorted({e.manifest.env for e in registry.values()} - {"core"})


def build(registry: Registry, group: str, envs_dir: Path, python: str = sys.executable,
          echo=print) -> Path:
    """Create or update ``envs_dir/group`` (idempotent: pip skips what is installed)."""
    if group == "core":
        echo("group 'core' runs in the runner's own environment; nothing to build")
        return Path(sys.prefix)
    reqs = group_requirements(registry, group)
    target = envs_dir / group
    py = target / "bin" / "python"
    if not py.exists():
        echo(f"creating {target}")
        _run([python, "-m", "venv", str(target)])
    args = [str(py), "-m", "pip", "install", "--disable-pip-version-check", "-q", *SDK_REQUIREMENTS]
    for r in reqs:
        args += ["-r", str(r)]
    echo(f"installing {len(reqs)} requirement file(s) into {target}")
    _run(args)
    warm(registry, group, envs_dir, echo=echo)
    return target


def warm(registry: Registry, group: str, envs_dir: Path, echo=print) -> list[str]:
    """Run each analyzer's ``warmup.py`` in the group's environment, as the image build does.

    An image runs it at build time into ``<prefix>/numba-cache`` (its root is read-only at run time);
    a local environment is writable, so the analyzer lets numba cache beside the library
    (``NUMBA_CACHE_DIR`` unset: ``__pycache__`` next to librosa), and the warmup fills that same place.
    Then the first run costs what a second one does. Returns the analyzers warmed.
    """
    import os
    import tempfile
    import time

    py = envs_dir / group / "bin" / "python"
    done = []
    for e in sorted(registry.values(), key=lambda e: e.name):
        script = e.path / "warmup.py"
        if e.manifest.env != group or not script.is_file() or not py.exists():
            continue
        env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
        t0 = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=f"warm-{e.name}-") as tmp:
            proc = subprocess.run([str(py), str(script)], cwd=tmp, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or [""]
            raise RunnerError(f"warmup of {e.name} failed in {envs_dir / group}: {tail[0]}",
                              fix=f"{py} {script}")
        echo(f"warmed {e.name} in {time.monotonic() - t0:.1f}s ({script.name})")
        done.append(e.name)
    return done


def _run(argv: list[str]) -> None:
    proc = subprocess.run(argv)
    if proc.returncode != 0:
        raise RunnerError(f"command failed ({proc.returncode}): {' '.join(argv[:6])} ...")
