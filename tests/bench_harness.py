"""For benchmarks: one analyzer's harness alone on an existing workdir, with its peak RSS from wait4."""
from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from runner.core.config import REPO_ROOT


@dataclass
class Alone:
    rss_mib: float
    wall_s: float
    cpu_s: float
    envelope: dict


def run_alone(python: Path, workdir: Path, name: str, out: Path, models_dir: Path, threads: int) -> Alone:
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": str(threads)}
    argv = [str(python), "-m", "analyzers.harness", "--analyzer-dir", str(REPO_ROOT / "analyzers" / name),
            "--input", str(workdir), "--job", f"jobs/{name}.json", "--out", str(out), "--models", str(models_dir)]
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0  # reaped by wait4
    wall = time.monotonic() - t0
    return Alone(rss_mib=usage.ru_maxrss / 1024, wall_s=wall, cpu_s=usage.ru_utime + usage.ru_stime,
                 envelope=json.loads((out / "result.json").read_text()))
