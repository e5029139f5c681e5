"""Local-backend environments, one per group (``cpu``, ``torch``), like the images.

A group's environment gets the union of its analyzers' pinned requirements,
so a fresh machine installs torch once, not once per analyzer.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from runner.errors import RunnerError
from runner.registry import Registry

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
    return target


def _run(argv: list[str]) -> None:
    proc = subprocess.run(argv)
    if proc.returncode != 0:
        raise RunnerError(f"command failed ({proc.returncode}): {' '.join(argv[:6])} ...")
