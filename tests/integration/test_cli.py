"""The real CLI in a subprocess: bad inputs, exit codes, plan, and a validated report."""
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from runner.core.config import REPO_ROOT
from tests import media

RUNNER = [sys.executable, "-m", "runner.commands.main"]


def cli(*args, env_extra=None, cwd=None, timeout=300):
    env = {**os.environ, "RUNNER_ANALYZERS_DIR": str(REPO_ROOT / "tests" / "toy_analyzers"),
           "RUNNER_TEST_ANALYZERS": "1", **(env_extra or {})}
    return subprocess.run([*RUNNER, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)


@pytest.fixture
def bad_inputs(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 20)
    empty = tmp_path / "empty.mp4"
    empty.touch()
    audio_only = tmp_path / "voice.mp4"
    media.ffmpeg("-f", "lavfi", "-i", "sine=frequency=300:duration=1", "-c:a", "aac", str(audio_only))
    full = media.testsrc(tmp_path / "full.mp4", seconds=6)
    fast = tmp_path / "fast.mp4"
    media.ffmpeg("-i", str(full), "-c", "copy", "-movflags", "+faststart", str(fast))
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(fast.read_bytes()[: fast.stat().st_size // 3])
    tail_cut = tmp_path / "no_moov.mp4"
    tail_cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    return {"missing": (tmp_path / "nope.mp4", "no such file"),
            "text": (text, "not a recognised video container"),
            "empty": (empty, "empty"),
            "audio_only": (audio_only, "no video stream"),
            "truncated": (truncated, "truncated or corrupt"),
            "no_moov": (tail_cut, "not a video ffmpeg can read")}


@pytest.mark.parametrize("case", ["missing", "text", "empty", "audio_only", "truncated", "no_moov"])
def test_bad_input_one_line_exit_2_no_traceback(bad_inputs, tmp_path, case):
    path, expected = bad_inputs[case]
    p = cli("analyze", str(path), "--only", "toy_good", env_extra={"RUNNER_WORK_ROOT": str(tmp_path / "w")})
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr
    errors = [ln for ln in p.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and expected in errors[0] and str(path.name) in errors[0]


def test_unknown_analyzer_is_usage_error(sample_video):
    p = cli("analyze", str(sample_video), "--only", "no_such_thing")
    assert p.returncode == 2 and "unknown analyzer(s): no_such_thing" in p.stderr


def test_plan_prints_stages(sample_video):
    p = cli("plan", str(sample_video))
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "stage 1:" in out and "toy_final" in out.split("stage 3:")[1]
    assert "toy_dependent" in out.split("stage 2:")[1].split("stage 3:")[0]


def test_analyze_ok_exit_0_and_report_validates_against_exported_schema(tmp_path, sample_video):
    schema_dir = tmp_path / "schema"
    s = cli("schema", "--out", str(schema_dir))
    assert s.returncode == 0, s.stderr
    out = tmp_path / "r.json"
    p = cli("analyze", str(sample_video), "--only", "toy_good", "--out", str(out), "--set", "toy_good.greeting=\"hi\"",
            env_extra={"RUNNER_WORK_ROOT": str(tmp_path / "w")})
    assert p.returncode == 0, p.stderr
    report = json.loads(out.read_text())
    jsonschema.validate(report, json.loads((schema_dir / "report.schema.json").read_text()))
    env = report["analyzers"]["toy_good"]
    jsonschema.validate(env["result"], json.loads((schema_dir / "results" / "toy_good.schema.json").read_text()))
    assert env["status"] == "ok" and env["result"]["message"] == "hi"
    assert env["result"]["frames_seen"] == 8 and env["result"]["audio_seconds"] == pytest.approx(4, abs=0.1)
    assert report["run"]["input"]["sha256"] == report["media"]["sha256"]
    assert set(report["run"]["timings"]) >= {"probe_s", "extract_s", "analyzers_s", "merge_s"}
    assert "toy_good" in report["run"]["timings"]["analyzers_s"]
    assert p.stdout.strip() == str(out)  # --out is where the report went
    assert (Path(report["run"]["workdir"]) / "report.json").is_file()


def test_failed_run_exit_1_keeps_workdir(tmp_path, sample_video):
    p = cli("analyze", str(sample_video), "--only", "toy_abort", env_extra={"RUNNER_WORK_ROOT": str(tmp_path / "w")})
    assert p.returncode == 1
    kept = [ln for ln in p.stderr.splitlines() if ln.startswith("workdir kept:")]
    assert kept and Path(kept[0].split(": ", 1)[1]).is_dir()


def test_video_without_audio_skips_audio_analyzers(tmp_path, silent_video):
    out = tmp_path / "r.json"
    p = cli("analyze", str(silent_video), "--only", "toy_good", "--out", str(out),
            env_extra={"RUNNER_WORK_ROOT": str(tmp_path / "w")})
    env = json.loads(out.read_text())["analyzers"]["toy_good"]
    assert p.returncode == 1
    assert env["status"] == "skipped" and env["skip_reason"] == "no_audio"
    assert "no audio stream" in env["error"]["message"]


def test_doctor_reports_the_cache_and_batch_engine(tmp_path, sample_video):
    cache = tmp_path / "cache"
    run = cli("analyze", str(sample_video), "--only", "toy_good", "-q",
              env_extra={"RUNNER_WORK_ROOT": str(tmp_path / "w"), "RUNNER_CACHE_DIR": str(cache)})
    assert run.returncode == 0, run.stderr
    lines = cli("doctor", env_extra={"RUNNER_CACHE_DIR": str(cache)}).stdout.splitlines()
    line = next(ln for ln in lines if "result cache" in ln)
    assert line.strip().startswith("ok") and f"{cache} (1 entries" in line
    assert any("ray for batch" in ln and ln.strip().startswith("ok") for ln in lines), lines


def test_drop_media_removes_frames_and_audio_but_keeps_results(tmp_path, sample_video):
    p = cli("analyze", str(sample_video), "--only", "toy_good", "-q", "--drop-media",
            env_extra={"RUNNER_WORK_ROOT": str(tmp_path / "w")})
    assert p.returncode == 0, p.stderr
    (wd,) = (tmp_path / "w").iterdir()
    assert not (wd / "frames").exists() and not (wd / "audio").exists()
    assert json.loads((wd / "results" / "toy_good.json").read_text())["status"] == "ok"
    assert (wd / "report.json").is_file() and (wd / "logs" / "toy_good.txt").is_file()
