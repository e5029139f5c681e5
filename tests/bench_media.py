"""What the media sandbox costs: admission + sandboxed probe + extraction against host extraction.

On a made 30 s 720x1280 clip (30 fps, with audio), the same extraction argv (every frame set:
sampled, dense, hires, and the 16 kHz mono audio; ``file:`` input under the protocol and demuxer
whitelists) runs

  (a) on the host as a plain ffmpeg subprocess (what the runner did before the sandbox), and
  (b) after admission (open once, sniff, hash + copy into the workdir), with ffprobe and then
      ffmpeg each in its own media container (``DockerMediaExec``),

plus the bare cost of one media container (create, start, ``ffprobe -version``, wait, remove).
Goal: (b) within 1.3x of (a) plus one container start.

    python -m tests.bench media        (or: make bench BENCH_ARGS=media)
"""
from __future__ import annotations

import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from runner.core.config import Settings
from tests.media import ffmpeg

CLIP_S = 30
REPEAT = 3
PROBE = ("ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
         "-protocol_whitelist", "file", "-f", "mov", "-i", "file:input/video.mp4")


def _clip(path: Path) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=720x1280:rate=30:duration={CLIP_S}",
           "-f", "lavfi", "-i", f"sine=frequency=440:duration={CLIP_S}",
           "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path))
    return path


def _extract_call(fps: float = 30.0, width: int = 720, height: int = 1280):
    """The runner's one-pass extraction (every frame set + audio) with workdir-relative paths."""
    from runner.media.extract import target_size
    from runner.media.tools import MediaCall
    from shared_schema.paths import FRAME_SETS

    sets = list(FRAME_SETS.values())
    branches = [f"[0:v:0]split={len(sets)}" + "".join(f"[v{i}]" for i in range(len(sets)))]
    outs: list[str] = []
    for i, spec in enumerate(sets):
        w, h = target_size(width, height, spec.max_side)
        branches.append(f"[v{i}]fps={min(spec.fps, fps):.6g},scale={w}:{h}:flags=area,"
                        + ("format=gray" if spec.gray else "format=yuvj420p") + f"[o{i}]")
        outs += ["-map", f"[o{i}]", "-q:v", str(spec.quality), "-start_number", "1", f"frames/{spec.name}/%06d.jpg"]
    argv = ("ffmpeg", "-hide_banner", "-nostdin", "-v", "warning", "-y",
            "-protocol_whitelist", "file", "-format_whitelist", "mov,mp4,m4a,3gp,3g2,mj2", "-f", "mov",
            "-i", "file:input/video.mp4", "-filter_complex", ";".join(branches), *outs,
            "-map", "0:a:0", "-vn", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", "audio/main.wav")
    return MediaCall(argv=argv, writable=tuple(f"frames/{s.name}" for s in sets) + ("audio",), timeout_s=600)


def _fresh(root: Path, clip: Path | None) -> Path:
    shutil.rmtree(root, ignore_errors=True)
    (root / "input").mkdir(parents=True)
    if clip is not None:
        shutil.copyfile(clip, root / "input" / "video.mp4")
    return root


def _host(wd: Path, call) -> float:
    for w in call.writable:
        (wd / w).mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    subprocess.run(list(call.argv), cwd=wd, check=True, stdin=subprocess.DEVNULL, capture_output=True)
    return time.perf_counter() - t0


def _sandboxed(wd: Path, clip: Path, dexec, call) -> tuple[float, float, float, float]:
    """Seconds of admission, probe, extraction, and in all."""
    from runner.media.admit import admit

    t0 = time.perf_counter()
    admitted = admit(clip, wd / "input")
    assert admitted.rel == "input/video.mp4", admitted.rel
    t1 = time.perf_counter()
    probe = dexec.run(wd, _probe_call())
    if probe.returncode != 0:
        raise RuntimeError(f"sandboxed ffprobe failed: {probe.stderr[-300:]} {probe.notes}")
    t2 = time.perf_counter()
    res = dexec.run(wd, call)
    if res.returncode != 0:
        raise RuntimeError(f"sandboxed ffmpeg failed: {res.stderr[-300:]} {res.notes}")
    t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2, t3 - t0


def _probe_call():
    from runner.media.tools import MediaCall

    return MediaCall(argv=PROBE, timeout_s=60)


def bench() -> list[str]:
    from runner.backends.docker import connect
    from runner.media.docker_exec import DockerMediaExec
    from runner.media.tools import MediaCall
    from runner.images.runner_images import MEDIA

    settings = Settings.from_env()
    client = connect()
    if MEDIA.state(client, settings) == "missing":
        return [f"the media image {MEDIA.tag(settings)} is not built: runner images build media"]
    dexec = DockerMediaExec(client, MEDIA.tag(settings), run_id="bench-media")
    call = _extract_call()
    with tempfile.TemporaryDirectory(prefix="bench-media-") as d:
        tmp = Path(d)
        clip = _clip(tmp / "clip.mp4")
        bare_wd = _fresh(tmp / "bare", None)
        bare = MediaCall(argv=("ffprobe", "-version"), timeout_s=60)
        dexec.run(bare_wd, bare)  # warm the daemon and the page cache
        starts = []
        for _ in range(5):
            t0 = time.perf_counter()
            dexec.run(bare_wd, bare)
            starts.append(time.perf_counter() - t0)
        host_s, box = [], []
        for _ in range(REPEAT):  # interleaved, so load changes hit both alike
            host_s.append(_host(_fresh(tmp / "host", clip), call))
            box.append(_sandboxed(_fresh(tmp / "box", None), clip, dexec, call))
        n_files = sum(1 for p in (tmp / "box").rglob("*.jpg"))
    start = statistics.median(starts)
    a = statistics.median(host_s)
    adm, prb, ext, total = (statistics.median(x[i] for x in box) for i in range(4))
    return [
        f"clip: {CLIP_S} s 720x1280 @30 fps + audio; extraction: sampled + dense + hires + 16 kHz audio "
        f"({n_files} JPEGs); median of {REPEAT}",
        f"bare media container (create+start+ffprobe -version+wait+remove): {start:.3f} s (median of 5)",
        f"(a) host extraction, plain ffmpeg subprocess: {a:.2f} s",
        f"(b) admission {adm:.3f} s + sandboxed probe {prb:.3f} s + sandboxed extraction {ext:.2f} s = {total:.2f} s",
        f"sandboxed extraction / host extraction: {ext / a:.2f}x",
        f"(b) / (a): {total / a:.2f}x;  (b) / ((a) + one container start): {total / (a + start):.2f}x (goal <= 1.3x)",
        f"sandboxed extraction / ((a) + one container start): {ext / (a + start):.2f}x",
    ]
