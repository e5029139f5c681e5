"""The demo's first vs second run on freshly built local environments (issue 18's benchmark).

``make bench BENCH_ARGS=demo`` (or ``python -m tests.bench demo``). Per round:

1. build every local environment group fresh with ``runner envs build`` into a new, empty
   ``RUNNER_ENVS_DIR`` (a temporary folder, removed afterwards): new venvs, pip installs every
   pinned requirement (from the same indexes and pip cache as ``make envs``, so nothing is fetched
   twice from the network; pip compiles the .pyc files as it installs), then the warmup that
   ``make envs`` runs;
2. run 1 and run 2 of the demo's command, ``runner analyze DEMO --out .. --html`` on the demo clip
   (``make``'s own recipe makes it), on the local backend, each with ``--no-cache``, its own empty
   ``RUNNER_CACHE_DIR`` and its own ``RUNNER_WORK_ROOT``: the result cache cannot make run 2 fast.

Figures: wall time and CPU seconds of the whole ``runner`` process tree for each run; per analyzer,
its duration (its envelope) and its CPU seconds (its sandbox's process group, sampled from /proc
every 0.2 s: steadier than wall time on a shared machine, where the schedule of a run also
changes which analyzers overlap); run 1 / run 2 as ratios, and the medians over rounds.
Goal: run 1 / run 2 <= 1.2 (wall). The machine's page cache is not dropped: the files the build
just wrote are as warm for run 1 as for run 2, as they are after ``make envs`` on a new machine.

Settings (environment variables):
  BENCH_DEMO_ROUNDS=N    fresh builds and run pairs (default 1; each build is minutes and ~9 GB)
  BENCH_DEMO_ENVS=DIR    reuse the environments in DIR instead of building fresh ones (not a fresh
                         environment: for checking the harness, or for runs after a hand-made build)
  BENCH_DEMO_KEEP=1      keep the temporary environments and workdirs (their paths are printed)
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from runner.core.config import REPO_ROOT

RUNNER = [sys.executable, "-m", "runner.commands.main"]
GOAL = 1.2


def _demo_clip(root: Path) -> Path:
    """The demo's clip, made by the Makefile's own recipe (``$(WORK)/demo.mp4``)."""
    work = root / "work"
    clip = work / "demo.mp4"
    subprocess.run(["make", "-s", "--no-print-directory", "-C", str(REPO_ROOT), f"WORK={work}", str(clip)],
                   check=True, stdout=subprocess.DEVNULL)
    return clip


def _base_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    # the model store: make's (RUNNER_MODELS_DIR), else the shared assets (as make), else the user config
    assets = (REPO_ROOT.parent / "shared" / "assets" / "models").resolve()
    if "RUNNER_MODELS_DIR" not in env and assets.is_dir():
        env["RUNNER_MODELS_DIR"] = str(assets)
    env["RUNNER_BACKEND"] = "local"
    return env


def _build(envs: Path, env: dict[str, str]) -> tuple[float, list[str]]:
    t0 = time.monotonic()
    p = subprocess.run([*RUNNER, "envs", "build"], env={**env, "RUNNER_ENVS_DIR": str(envs)},
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"runner envs build failed ({p.returncode}): {p.stderr[-2000:]}")
    warmed = [ln.strip() for ln in p.stderr.splitlines() if ln.startswith("warmed ")]
    return time.monotonic() - t0, warmed


class _GroupCPU(threading.Thread):
    """CPU seconds per analyzer: each local sandbox is led by ``python -m analyzers.harness
    --analyzer-dir .../NAME``; its utime + stime + the CPU of the children it reaped (cutime,
    cstime), as last seen (up to 0.2 s before it exits is missed)."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, marker: str):
        super().__init__(daemon=True)
        self.marker = marker.encode()          # in the argv of this run's sandboxes (their --input)
        self.names: dict[int, str | None] = {}  # pid -> analyzer (None: not one of ours)
        self.cpu: dict[int, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self.sample()
        self.sample()

    def sample(self) -> None:
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            pid = int(d)
            try:
                if pid not in self.names:
                    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                    if not any(self.marker in a for a in argv):
                        self.names[pid] = None          # never ours
                        continue
                    if b"analyzers.harness" not in argv or b"--analyzer-dir" not in argv:
                        continue                        # the runner, or its fork before the exec: look again
                    self.names[pid] = Path(argv[argv.index(b"--analyzer-dir") + 1].decode()).name
                if self.names[pid] is None:
                    continue
                stat = Path(f"/proc/{pid}/stat").read_text()
                fields = stat[stat.rindex(")") + 2:].split()
                self.cpu[pid] = sum(int(x) for x in fields[11:15]) / self.TICK
            except (OSError, ValueError, IndexError):
                continue

    def per_analyzer(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for pid, cpu in self.cpu.items():
            name = self.names[pid]
            out[name] = out.get(name, 0.0) + cpu
        return out


def _run(clip: Path, envs: Path, root: Path, tag: str, env: dict[str, str]) -> dict:
    out = root / tag / "report.json"
    out.parent.mkdir(parents=True)
    run_env = {**env, "RUNNER_ENVS_DIR": str(envs), "RUNNER_CACHE_DIR": str(root / tag / "cache"),
               "RUNNER_WORK_ROOT": str(root / tag / "runs")}
    sampler = _GroupCPU(str(root / tag))
    sampler.start()
    t0 = time.monotonic()
    proc = subprocess.Popen([*RUNNER, "analyze", str(clip), "--backend", "local", "--no-cache", "--quiet",
                             "--out", str(out), "--html"],
                            env=run_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # wait4 gives the CPU of the runner and every child it waited for (the analyzers)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    sampler.stop.set()
    sampler.join()
    if proc.returncode not in (0, 1) or not out.is_file():
        raise RuntimeError(f"{tag}: runner analyze exited {proc.returncode}: {err.decode(errors='replace')[-2000:]}")
    report = json.loads(out.read_text())
    cpu = sampler.per_analyzer()
    per = {name: (e["status"], float(e.get("duration_s") or 0.0), cpu.get(name, 0.0))
           for name, e in report["analyzers"].items()}
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rc": proc.returncode, "analyzers": per,
            "extract": report["run"]["timings"].get("extract_s", 0.0)}


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("inf")


def bench() -> list[str]:
    rounds = int(os.environ.get("BENCH_DEMO_ROUNDS", "1"))
    reuse = os.environ.get("BENCH_DEMO_ENVS")
    keep = os.environ.get("BENCH_DEMO_KEEP") == "1"
    (REPO_ROOT / ".work").mkdir(exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="bench-demo-", dir=REPO_ROOT / ".work"))
    lines: list[str] = []
    pairs: list[tuple[dict, dict]] = []
    try:
        env = _base_env(root)
        clip = _demo_clip(root)
        for i in range(rounds):
            if reuse:
                envs = Path(reuse)
                lines.append(f"round {i + 1}: environments reused from {envs} (NOT fresh)")
            else:
                envs = root / f"envs-{i}"
                build_s, warmed = _build(envs, env)
                lines.append(f"round {i + 1}: fresh build of every group into {envs}: {build_s:.0f}s "
                             f"({'; '.join(warmed) or 'nothing warmed'})")
            r1 = _run(clip, envs, root, f"r{i}-run1", env)
            r2 = _run(clip, envs, root, f"r{i}-run2", env)
            pairs.append((r1, r2))
            lines.append(f"  run1 {r1['wall']:6.1f}s wall {r1['cpu']:6.1f} CPU s (exit {r1['rc']})   "
                         f"run2 {r2['wall']:6.1f}s wall {r2['cpu']:6.1f} CPU s (exit {r2['rc']})   "
                         f"run1/run2 {_ratio(r1['wall'], r2['wall']):.2f}x wall, {_ratio(r1['cpu'], r2['cpu']):.2f}x CPU")
            if not reuse and not keep:
                shutil.rmtree(envs, ignore_errors=True)
        names = sorted(pairs[0][0]["analyzers"])
        lines.append(f"per analyzer, median of {rounds} round(s):  duration_s run1 run2 ratio | "
                     f"CPU s run1 run2 ratio")
        for n in names:
            a, b = (statistics.median(p[k]["analyzers"][n][1] for p in pairs) for k in (0, 1))
            ca, cb = (statistics.median(p[k]["analyzers"][n][2] for p in pairs) for k in (0, 1))
            st = "/".join(sorted({p[k]["analyzers"][n][0] for p in pairs for k in (0, 1)}))
            flag = "  <- first-run cost?" if ca - cb > 1.0 and _ratio(ca, cb) > GOAL else ""
            lines.append(f"  {n:<28} {a:6.1f} {b:6.1f} {_ratio(a, b):5.2f}x | {ca:6.1f} {cb:6.1f} "
                         f"{_ratio(ca, cb):5.2f}x  {st}{flag}")
        w1 = statistics.median(p[0]["wall"] for p in pairs)
        w2 = statistics.median(p[1]["wall"] for p in pairs)
        c1 = statistics.median(p[0]["cpu"] for p in pairs)
        c2 = statistics.median(p[1]["cpu"] for p in pairs)
        ratio = statistics.median(_ratio(p[0]["wall"], p[1]["wall"]) for p in pairs)
        lines.append(f"median over {rounds} round(s): run1 {w1:.1f}s, run2 {w2:.1f}s wall; "
                     f"run1/run2 {ratio:.2f}x wall ({_ratio(c1, c2):.2f}x CPU); "
                     f"goal <= {GOAL}x: {'met' if ratio <= GOAL else 'NOT met'}")
        if keep:
            lines.append(f"kept: {root}")
        return lines
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    print("\n".join(bench()))
