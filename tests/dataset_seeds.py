"""Real reports for the dataset tests and the scale benchmark: made clips run through the real runner.

``python -m tests.dataset_seeds [OUT_DIR]`` makes five clips with ffmpeg from the shared assets, runs
``runner analyze`` on each (local backend, every analyzer, a fresh result cache) and writes each
report, gzipped, to ``OUT_DIR`` (default ``tests/data/dataset``). The scale generator
(:mod:`tests.dataset_gen`) builds its 10,000 videos from these files only: their shapes (which
tables a video fills and how many rows) are what real runs produce.

- ``rich``: 10 s, three shots (people walking, a photo with two faces, a handheld tree), JFK's
  speech, a boxed caption in the first 2.5 s and a second caption at 3-7 s.
- ``street``: 20 s of one fixed shot with people walking, music, a caption at 6-10 s (none in the
  first second).
- ``talk``: JFK's 11 s over a flat background, word-by-word captions of what he says.
- ``silent``: five solid-colour shots (hard cuts each second), no audio stream: the audio analyzers
  are ``skipped`` (``no_audio``).
- ``faults``: a 3 s test pattern with the toys that crash, hang, run out of memory and write
  garbage (``tests/toy_analyzers``), one that needs a crashed one, and object_detection against a
  model store whose weights fail their sha256: real ``crashed``, ``timeout``, ``oom``,
  ``invalid_output``, ``skipped`` (``upstream_failed``) and ``failed`` envelopes.

Takes about 3 minutes on 2 cores. Needs the analyzer environments (``make envs``) and the assets.
"""
from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.media import MEDIA, MODELS, ffmpeg, solid_cuts, testsrc

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "tests" / "data" / "dataset"
_FIT = "scale=360:640:force_original_aspect_ratio=decrease,pad=360:640:(ow-iw)/2:(oh-ih)/2,fps=30,setsar=1"
FAULT_TOYS = ["toy_abort", "toy_hang", "toy_memhog", "toy_invalid", "toy_dependent", "toy_good"]


def _text(text: str, y: str, start: float, end: float, extra: str = "") -> str:
    return (f"drawtext=text='{text}':fontcolor=white:fontsize=40:x=(w-tw)/2:y={y}"
            f":enable='between(t,{start},{end})'{extra}")


def make_rich(d: Path) -> Path:
    out = d / "rich.mp4"
    graph = (f"[0:v]{_FIT}[a];[1:v]{_FIT}[b];[2:v]{_FIT}[c];[a][b][c]concat=n=3:v=1:a=0[v0];"
             f"[v0]{_text('FOLLOW FOR MORE', 'h*0.12', 0, 2.5, ':box=1:boxcolor=black@0.6')},"
             f"{_text('ASK NOT', 'h*0.78', 3, 7)}[v]")
    ffmpeg("-ss", "5", "-t", "4", "-i", str(MEDIA / "vtest.avi"), "-loop", "1", "-t", "2",
           "-i", str(MEDIA / "zidane.jpg"), "-t", "4", "-i", str(MEDIA / "tree.avi"),
           "-i", str(MEDIA / "jfk.flac"), "-filter_complex", graph, "-map", "[v]", "-map", "3:a", "-t", "10",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(out))
    return out


def make_street(d: Path) -> Path:
    out = d / "street.mp4"
    ffmpeg("-ss", "30", "-t", "20", "-i", str(MEDIA / "vtest.avi"), "-i", str(MEDIA / "macroform-cold_day.wav"),
           "-filter_complex", f"[0:v]{_FIT},{_text('PART 2', 'h*0.8', 6, 10)}[v]", "-map", "[v]", "-map", "1:a",
           "-t", "20", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(out))
    return out


def make_talk(d: Path) -> Path:
    out = d / "talk.mp4"
    pops = [("AND SO", 0.2, 1.0), ("MY FELLOW", 1.0, 2.0), ("AMERICANS", 2.0, 3.0), ("ASK NOT", 3.2, 4.4),
            ("YOUR COUNTRY", 5.0, 6.5)]
    graph = ",".join(_text(t, "h*0.5", a, b) for t, a, b in pops)
    ffmpeg("-f", "lavfi", "-i", "color=c=0x203040:size=360x640:rate=30:duration=11", "-i", str(MEDIA / "jfk.flac"),
           "-filter_complex", f"[0:v]{graph}[v]", "-map", "[v]", "-map", "1:a", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(out))
    return out


def make_silent(d: Path) -> Path:
    return solid_cuts(d / "silent.mp4", ["red", "green", "blue", "white", "navy"], size="360x640")


def _bad_store(d: Path) -> Path:
    """The shared model store, except the detector's weights: a copy with one byte flipped."""
    store = d / "store"
    store.mkdir()
    for entry in MODELS.iterdir():
        if entry.name != "yolov8n_int8_tflite":
            (store / entry.name).symlink_to(entry)
    shutil.copytree(MODELS / "yolov8n_int8_tflite", store / "yolov8n_int8_tflite")
    weights = store / "yolov8n_int8_tflite" / "yolov8n_full_integer_quant.tflite"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    return store


def _analyze(video: Path, out: Path, env: dict[str, str], only: list[str] | None = None) -> dict:
    cmd = [sys.executable, "-m", "runner.commands.main", "analyze", str(video), "--backend", "local", "-q",
           "--out", str(out)]
    if only:
        cmd += ["--only", ",".join(only)]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    if p.returncode not in (0, 1) or not out.is_file():
        raise RuntimeError(f"runner analyze {video.name}: exit {p.returncode}\n{p.stderr[-3000:]}")
    return json.loads(out.read_text())


def make_seeds(out_dir: Path = OUT) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="dataset-seeds-"))
    env = {**os.environ, "RUNNER_CACHE_DIR": str(work / "cache"), "RUNNER_WORK_ROOT": str(work / "runs"),
           "RUNNER_MODELS_DIR": os.environ.get("RUNNER_MODELS_DIR", str(MODELS))}
    jobs: list[tuple[str, Path, dict[str, str], list[str] | None]] = [
        (name, make(work), env, None) for name, make in
        [("rich", make_rich), ("street", make_street), ("talk", make_talk), ("silent", make_silent)]]
    faults_env = {**env, "RUNNER_TEST_ANALYZERS": "1", "RUNNER_MODELS_DIR": str(_bad_store(work)),
                  "RUNNER_ANALYZERS_DIR": os.pathsep.join([str(REPO / "analyzers"), str(REPO / "tests" / "toy_analyzers")])}
    jobs.append(("faults", testsrc(work / "faults.mp4", seconds=3), faults_env, FAULT_TOYS + ["object_detection"]))
    written = []
    for name, video, job_env, only in jobs:
        report = _analyze(video, work / f"{name}.json", job_env, only)
        path = out_dir / f"{name}.report.json.gz"
        path.write_bytes(gzip.compress(json.dumps(report, indent=1).encode(), mtime=0))
        written.append(path)
        print(f"{path}: {report['counts']}", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    return written


if __name__ == "__main__":
    make_seeds(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
