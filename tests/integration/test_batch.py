"""runner batch on a real local Ray (2 CPUs) and the local backend, with real cheap analyzers.

Execution is counted, never timed: an analyzer ran in a run when its envelope has attempts and no
``cache`` and the run's workdir holds ``jobs/<name>.json`` (the executor writes it only when it
launches the analyzer).
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runner.batch.driver import BatchRequest, executed, run_batch
from runner.core.config import REPO_ROOT
from shared_schema.report import Report
from tests import media
from tests.conftest import TOYS as TOYS_DIR, require_env
from tests.integration.test_docker_sandbox import docker_client, toy_images, toy_registry  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow

ONLY = ["cut_analysis", "scene_segmentation", "color_analysis", "content_quality"]
READERS_OF_CUTS = {"scene_segmentation", "color_analysis"}   # needs / after cut_analysis
RUNNER = [sys.executable, "-m", "runner.commands.main"]


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> Path:
    """A folder: a 3 s test pattern, four 1 s colour shots (cuts at 1, 2, 3 s), both with a tone,
    and random bytes named .mp4."""
    d = tmp_path_factory.mktemp("batch-videos")
    media.testsrc(d / "pattern.mp4", seconds=3)
    silent = media.solid_cuts(tmp_path_factory.mktemp("src") / "shots.mp4", ["red", "green", "blue", "white"])
    media.ffmpeg("-i", str(silent), "-f", "lavfi", "-i", "sine=frequency=300:duration=4", "-c:v", "copy",
                 "-c:a", "aac", "-shortest", str(d / "shots.mp4"))
    (d / "corrupt.mp4").write_bytes(os.urandom(50_000))
    return d


@pytest.fixture(scope="module")
def local_ray():
    """One real local Ray instance for the module; run_batch uses it and leaves it running."""
    ray = pytest.importorskip("ray")
    import logging

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             logging_level=logging.WARNING, object_store_memory=256 * 1024**2)
    yield ray
    ray.shutdown()


def _jobs_launched(report: Report) -> set[str]:
    jobs = Path(report.run.workdir) / "jobs"
    return {p.stem for p in jobs.glob("*.json")} if jobs.is_dir() else set()


def _reports(outcome) -> dict[str, Report]:
    return {Path(r["source"]).name: Report.model_validate_json(Path(r["report"]).read_text())
            for r in outcome.rows if r["report"]}


def _batch(settings, videos, out, **kw):
    req = BatchRequest(inputs=[str(videos)], out=out, only=ONLY, backend="local", **kw)
    return run_batch(req, settings.with_(cpu_budget=2), quiet=True)


def test_batch_records_the_corrupt_video_and_a_rerun_executes_nothing(local_ray, settings, videos, tmp_path):
    require_env(settings, "cpu")
    first = _batch(settings, videos, tmp_path / "out")
    rows = {Path(r["source"]).name: r for r in first.rows}
    assert set(rows) == {"pattern.mp4", "shots.mp4", "corrupt.mp4"}
    assert rows["corrupt.mp4"]["status"] == "error" and rows["corrupt.mp4"]["report"] is None
    assert rows["corrupt.mp4"]["error"]["type"] == "AdmissionError"   # refused before any decoder
    assert first.exit_code == 1 and not first.interrupted
    reports = _reports(first)
    assert set(reports) == {"pattern.mp4", "shots.mp4"}
    for name, rep in reports.items():
        assert rows[name]["status"] == "ok", rep.counts
        assert set(executed(rep)) == set(ONLY) == _jobs_launched(rep)
        assert rows[name]["executed"] == len(ONLY) and rows[name]["cached"] == 0
        assert rows[name]["resources"] == {"cpus": 1.0, "memory": 512 * 1024**2, "gpus": 0}
        wd = Path(rep.run.workdir)   # frames and audio are removed when a video is done; results stay
        assert not (wd / "frames").exists() and not (wd / "audio").exists()
        assert (wd / "results" / "cut_analysis.json").is_file() and (wd / "report.json").is_file()
    summary = [json.loads(line) for line in (tmp_path / "out" / "summary.jsonl").read_text().splitlines()]
    assert summary == first.rows

    again = _batch(settings, videos, tmp_path / "out")
    assert {Path(r["source"]).name: r["status"] for r in again.rows} == {n: r["status"] for n, r in rows.items()}
    for name, rep in _reports(again).items():
        assert executed(rep) == [] and _jobs_launched(rep) == set(), name
        assert all(e.cache is not None for e in rep.analyzers.values())
        assert rep.run.workdir != reports[name].run.workdir
        for n, e in rep.analyzers.items():   # the same results, reused
            assert e.result == reports[name].analyzers[n].result


def test_a_param_change_reruns_only_that_analyzer_and_its_readers(local_ray, settings, videos, tmp_path):
    require_env(settings, "cpu")
    first = _reports(_batch(settings, videos, tmp_path / "out"))
    # shots shorter than 1.5 s are merged: the 1 s shots of shots.mp4 change cut_analysis' result
    changed = _reports(_batch(settings, videos, tmp_path / "out", params={"cut_analysis": {"min_shot_s": 1.5}}))
    for name, rep in changed.items():
        cut_result_changed = rep.analyzers["cut_analysis"].result != first[name].analyzers["cut_analysis"].result
        expected = {"cut_analysis"} | (READERS_OF_CUTS if cut_result_changed else set())
        assert set(executed(rep)) == expected == _jobs_launched(rep), name
        assert rep.analyzers["content_quality"].cache is not None
    assert changed["shots.mp4"].analyzers["cut_analysis"].result != first["shots.mp4"].analyzers["cut_analysis"].result


def test_serial_mode_runs_without_ray(settings, videos, tmp_path):
    out = run_batch(BatchRequest(inputs=[str(videos / "pattern.mp4"), str(videos / "corrupt.mp4")],
                                 out=tmp_path / "out", only=["toy_good"], backend="local", serial=True),
                    settings, quiet=True)
    assert [r["status"] for r in out.rows] == ["ok", "error"] and out.exit_code == 1


def _cli_env(tmp_path, **extra):
    return {**os.environ, "RUNNER_WORK_ROOT": str(tmp_path / "runs"), "RUNNER_CPU_BUDGET": "2",
            "RUNNER_BACKEND": "local", **extra}


def test_cli_exit_code_summary_and_progress(videos, tmp_path, settings):
    require_env(settings, "cpu")
    listing = tmp_path / "batch.txt"
    listing.write_text(f"# three videos\n{videos / 'pattern.mp4'}\n{videos / 'shots.mp4'}  # cuts\n"
                       f"{videos / 'corrupt.mp4'}\n")
    out = tmp_path / "out"
    p = subprocess.run([*RUNNER, "batch", str(listing), "--out", str(out), "--only", ",".join(ONLY[:3]), "--html"],
                       capture_output=True, text=True, env=_cli_env(tmp_path), timeout=600)
    assert p.returncode == 1, p.stderr
    assert p.stdout.strip() == str(out / "summary.jsonl") and "Traceback" not in p.stderr
    rows = [json.loads(line) for line in (out / "summary.jsonl").read_text().splitlines()]
    assert sorted(r["status"] for r in rows) == ["error", "ok", "ok"]
    for r in rows:
        if r["status"] == "ok":
            assert Path(r["report"]).is_file() and Path(r["report"]).with_suffix(".html").is_file()
            assert r["counts"] == {"ok": 3} and r["executed"] == 3
            assert set(r["timings"]) >= {"queue_s", "probe_s", "extract_s", "analyzers_s", "total_s"}
    lines = p.stderr.splitlines()
    assert lines[0].startswith("batch: 3 videos on local Ray")
    assert sum(ln.startswith(("[1/3] ", "[2/3] ", "[3/3] ")) for ln in lines) == 3
    assert "1 error" in lines[-1] and "videos/hour" in lines[-1]


def _wait_for(pred, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    return False


def _hanging_with_good_done(runs: Path) -> bool:
    for wd in runs.glob("*"):
        good = wd / "results" / "toy_good.json"
        if (wd / "jobs" / "toy_hang.json").exists() and good.exists() and '"ok"' in good.read_text():
            return True
    return False


def test_ctrl_c_stops_cleanly_and_a_rerun_continues(videos, tmp_path):
    """Two CPUs, two per video: one video at a time. Ctrl-C while the first hangs: exit 130,
    its row says interrupted, nothing of it keeps running; the rerun reuses its finished analyzer."""
    env = _cli_env(tmp_path, RUNNER_ANALYZERS_DIR=str(REPO_ROOT / "tests" / "toy_analyzers"),
                   RUNNER_TEST_ANALYZERS="1")
    out = tmp_path / "out"
    args = [*RUNNER, "batch", str(videos), "--out", str(out), "--cpus-per-video", "2"]
    # a shell's background job ignores SIGINT; a terminal's Ctrl-C reaches a process that does not
    p = subprocess.Popen([*args, "--only", "toy_good,toy_hang", "--set", "toy_hang.timeout_s=120"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert _wait_for(lambda: _hanging_with_good_done(tmp_path / "runs"), 120), "toy_hang never started"
        t0 = time.monotonic()
        os.killpg(p.pid, signal.SIGINT)          # what Ctrl-C in a terminal does
        _, err = p.communicate(timeout=90)
        stop_s = time.monotonic() - t0
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    assert p.returncode == 130, err
    assert stop_s < 60 and "Traceback" not in err
    rows = [json.loads(line) for line in (out / "summary.jsonl").read_text().splitlines()]
    statuses = {Path(r["source"]).name: r["status"] for r in rows}
    assert statuses.get("corrupt.mp4") == "error"
    stopped = [r for r in rows if r["status"] == "interrupted"]
    assert len(stopped) == 1 and stopped[0]["counts"].get("ok") == 1
    # one row per video: the one queued behind the hung one never started
    assert sorted(statuses.values()) == ["error", "interrupted", "not_started"]
    assert [r["error"]["type"] for r in rows if r["status"] == "not_started"] == ["NotStarted"]
    hung = Path(stopped[0]["workdir"])
    assert _wait_for(lambda: not any(str(hung) in _cmdline(pid) for pid in _pids()), 10), "an analyzer survived"

    rerun = subprocess.run([*args, "--only", "toy_good"], env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 1, rerun.stderr    # the corrupt video
    again = {Path(r["source"]).name: r for r in
             (json.loads(line) for line in (out / "summary.jsonl").read_text().splitlines())}
    assert {n: r["status"] for n, r in again.items()} == {"pattern.mp4": "ok", "shots.mp4": "ok",
                                                         "corrupt.mp4": "error"}
    name = Path(stopped[0]["source"]).name
    assert again[name]["executed"] == 0 and again[name]["cached"] == 1


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@pytest.mark.docker
def test_ray_tasks_run_their_analyzers_in_containers(local_ray, toy_images, toy_registry, videos, tmp_path):
    """Isolation stays the same under Ray: each task launches containers on the node's daemon."""
    from runner.core.config import Settings

    settings = Settings.from_env().with_(analyzers_dirs=(TOYS_DIR,), include_test_only=True, backend="docker",
                                         work_root=tmp_path / "runs", models_dir=tmp_path / "models", cpu_budget=2)
    (tmp_path / "models").mkdir()
    req = BatchRequest(inputs=[str(videos / "pattern.mp4"), str(videos / "shots.mp4")], out=tmp_path / "out",
                       only=["toy_good"], backend="docker")
    first = run_batch(req, settings, registry=toy_registry, quiet=True)
    assert [r["status"] for r in first.rows] == ["ok", "ok"] and first.exit_code == 0
    for rep in _reports(first).values():
        assert rep.run.backend == "docker" and executed(rep) == ["toy_good"]
        assert rep.analyzers["toy_good"].result["frames_seen"] > 0
    again = run_batch(req, settings, registry=toy_registry, quiet=True)
    assert all(executed(rep) == [] for rep in _reports(again).values())
