"""``runner batch`` on a real multi-node Ray cluster on this machine, and a node killed mid-batch.

``ray.cluster_utils.Cluster``: a head with 0 CPUs (the driver only) and two worker nodes of 1 CPU,
each with its own ``RUNNER_WORK_ROOT`` and ``RUNNER_CACHE_DIR`` (nothing shared between nodes but
the input clips). The driver is the real CLI, ``runner batch --ray HOST:PORT``, joining by address.
While the second video of one node runs, that node is killed (its raylet and workers, SIGKILL): the
video is submitted again by the driver and lands on the other node. Asserted on rows, reports and
executions, never on timing: every video has exactly one row, the rows name both nodes, the lost
video's row records the lost attempt, and every report's analyzer results equal a one-node
(``--serial``) run's.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runner.batch.driver import executed
from runner.core.config import REPO_ROOT
from shared_schema.report import Report
from tests import media
from tests.conftest import TOYS
from tests.integration.test_api import procs_mentioning

pytestmark = pytest.mark.slow

RUNNER = [sys.executable, "-m", "runner.commands.main"]
NAP_S = 2
LOST = {"NodeDiedError", "WorkerCrashedError", "LocalRayletDiedError", "ObjectLostError"}

NAP_TOML = f'''name = "toy_nap"
version = "1.0.0"
description = "Test toy: reads its frames and audio, naps, reports what it saw."
result = "shared_schema.results.testing:ToyResult"
env = "core"
test_only = true
[inputs]
frames = ["sampled"]
audio = true
[resources]
memory = "256m"
timeout_s = 60
[params.nap_s]
type = "float"
default = {NAP_S}
min = 0.0
description = "seconds it sleeps"
'''
NAP_PY = '''import time
import wave

from analyzers.base import Analyzer as Base
from shared_schema.results.testing import ToyResult


class Analyzer(Base):
    def analyze(self, ctx):
        frames = ctx.frames("sampled")
        with wave.open(str(ctx.audio_path)) as w:
            seconds = w.getnframes() / w.getframerate()
        time.sleep(ctx.params["nap_s"])
        return ToyResult(message="napped", frames_seen=len(frames), first_t=frames.times[0],
                         last_t=frames.times[-1], audio_seconds=seconds,
                         params={k: str(v) for k, v in ctx.params.items()})
'''


def _env(tmp: Path, toys: Path, where: str) -> dict[str, str]:
    return {"RUNNER_TEST_ANALYZERS": "1", "RUNNER_BACKEND": "local",
            "RUNNER_ANALYZERS_DIR": os.pathsep.join([str(TOYS), str(toys)]),
            "RUNNER_WORK_ROOT": str(tmp / where / "runs"), "RUNNER_CACHE_DIR": str(tmp / where / "cache")}


def _rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "summary.jsonl").read_text().splitlines()]


def _results(row: dict) -> dict:
    report = Report.model_validate_json(Path(row["report"]).read_text())
    return {n: (e.status.value, e.result)
            for n, e in report.analyzers.items()}


def _runs(root: Path) -> list[Path]:
    return sorted(root.glob("*")) if root.is_dir() else []


def _napping(run: Path) -> bool:
    return (run / "jobs" / "toy_nap.json").exists() and not (run / "results" / "toy_nap.json").exists()


def test_a_batch_spreads_over_nodes_and_survives_a_lost_node(tmp_path):
    pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    toys = tmp_path / "toys"
    (toys / "toy_nap").mkdir(parents=True)
    (toys / "toy_nap" / "analyzer.toml").write_text(NAP_TOML)
    (toys / "toy_nap" / "analyzer.py").write_text(NAP_PY)
    clips = tmp_path / "clips"
    clips.mkdir()
    # four different files (different widths: different sha256, so no result is reused from the cache)
    sources = [media.testsrc(clips / f"v{i}.mp4", seconds=1, size=f"{160 + 2 * i}x284", rate=10) for i in range(4)]

    # the one-node reference: the same videos, one after another in one process
    ref_out = tmp_path / "ref"
    p = subprocess.run([*RUNNER, "batch", str(clips), "--serial", "--only", "toy_nap", "--out", str(ref_out), "-q"],
                       env={**os.environ, **_env(tmp_path, toys, "ref")}, cwd=REPO_ROOT, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    reference = {r["source"]: _results(r) for r in _rows(ref_out)}
    assert len(reference) == 4 and all(res["toy_nap"][0] == "ok" for res in reference.values())

    cluster = Cluster(initialize_head=True, connect=False, head_node_args={
        "num_cpus": 0, "object_store_memory": 80 * 1024**2, "include_dashboard": False})
    nodes = {}
    driver = None
    try:
        for name in ("node-a", "node-b"):
            node = cluster.add_node(num_cpus=1, object_store_memory=80 * 1024**2,
                                    env_vars=_env(tmp_path, toys, name))
            nodes[name] = node
        roots = {name: tmp_path / name / "runs" for name in nodes}

        out = tmp_path / "out"   # the driver's folder; no node writes there
        log = tmp_path / "driver.log"
        with open(log, "wb") as fh:
            driver = subprocess.Popen([*RUNNER, "batch", *map(str, sources), "--ray", cluster.address,
                                       "--only", "toy_nap", "--out", str(out)],
                                      env={**os.environ, **_env(tmp_path, toys, "driver")}, cwd=REPO_ROOT,
                                      stdout=subprocess.PIPE, stderr=fh)

        # kill the first node that has finished a video and is napping in its next one
        victim = None
        deadline = time.monotonic() + 240
        while victim is None and time.monotonic() < deadline and driver.poll() is None:
            for name, root in roots.items():
                runs = _runs(root)
                if len(runs) >= 2 and _napping(runs[-1]):
                    victim = name
                    break
            time.sleep(0.1)
        assert victim, f"no node reached its second video: {log.read_text()[-3000:]}"
        victim_id = nodes[victim].node_id
        lost_run = _runs(roots[victim])[-1]
        cluster.remove_node(nodes[victim], allow_graceful=False)
        survivor = next(n for n in nodes if n != victim)

        stdout, _ = driver.communicate(timeout=300)
        stderr = log.read_text()
        assert driver.returncode == 0, stderr[-4000:]
        # Ray's own notice of the lost node goes to stderr: stdout stays the summary's path
        assert stdout.decode().strip() == str(out / "summary.jsonl"), stdout
    finally:
        if driver is not None and driver.poll() is None:
            driver.kill()
            driver.wait(10)
        cluster.shutdown()
        for pid in procs_mentioning(str(tmp_path)):   # analyzers orphaned by the killed node
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    rows = _rows(out)
    # exactly one row per video, each ok, each report written by the driver into its --out
    assert sorted(r["source"] for r in rows) == sorted(map(str, sources))
    assert all(r["status"] == "ok" for r in rows), rows
    assert all(Path(r["report"]).parent == out for r in rows)
    # spread: the rows name both nodes (several nodes share this host name; the Ray node id tells them apart)
    ids = {r["node_id"] for r in rows}
    assert ids == {victim_id, nodes[survivor].node_id}, (ids, victim_id)
    # the video lost with the killed node: one lost attempt recorded, finished on the survivor
    retried = [r for r in rows if r["retries"]]
    assert len(retried) == 1, rows
    row = retried[0]
    assert row["node_id"] == nodes[survivor].node_id
    assert len(row["retries"]) == 1 and row["retries"][0]["type"] in LOST, row["retries"]
    assert f"[retry] {row['name']}" in stderr
    # queued vs running, as each task reported its start: never more running than the 2 nodes' CPUs,
    # and with 4 videos on 2 CPUs the first finished line leaves at least one queued
    flight = [(int(k), int(r), int(q)) for k, r, q in
              re.findall(r"^\[(\d)/4\] .* \[(\d+) running, (\d+) queued\]$", stderr, re.MULTILINE)]
    assert flight and flight[0][0] == 1 and flight[0][2] >= 1, stderr[-3000:]
    assert all(r <= 2 and r + q == 4 - k for k, r, q in flight), flight
    # executions: the lost attempt launched toy_nap on the victim; the final run launched it again on the survivor
    assert (lost_run / "jobs" / "toy_nap.json").exists() and not (lost_run / "report.json").exists()
    report = Report.model_validate_json(Path(row["report"]).read_text())
    assert Path(report.run.workdir).parent == roots[survivor]
    assert Path(report.run.input.path) == Path(row["source"]) and str(lost_run) != report.run.workdir
    for r in rows:
        rep = Report.model_validate_json(Path(r["report"]).read_text())
        assert executed(rep) == ["toy_nap"] and r["executed"] == 1 and r["cached"] == 0
        assert (Path(rep.run.workdir) / "jobs" / "toy_nap.json").exists()
        assert Path(rep.run.workdir).parent == roots[victim if r["node_id"] == victim_id else survivor]
        # the same analyzer results as the one-node run (timings aside)
        assert _results(r) == reference[r["source"]], r["source"]
