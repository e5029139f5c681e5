"""The live terminal view (issue 18): rich rows on a TTY (through a pty), plain lines when piped or --quiet."""
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from runner.core.config import REPO_ROOT
from tests import media

RUNNER = [sys.executable, "-m", "runner.commands.main"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return media.testsrc(tmp_path_factory.mktemp("live") / "clip.mp4", seconds=2, size="160x284")


def _env(tmp_path, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR", "COLUMNS", "LINES")}
    return {**env, "RUNNER_ANALYZERS_DIR": str(REPO_ROOT / "tests" / "toy_analyzers"), "RUNNER_TEST_ANALYZERS": "1",
            "RUNNER_WORK_ROOT": str(tmp_path / "w"), "RUNNER_CACHE_DIR": str(tmp_path / "cache"),
            "RUNNER_BACKEND": "local", "TERM": "xterm-256color", **extra}


def run_in_pty(args: list[str], env: dict[str, str], timeout: float = 240) -> tuple[int, str]:
    """Run ``args`` with stdin/stdout/stderr on a pty (120x40); (exit code, everything it drew)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: its stdio is the pty's slave side
        try:
            os.execvpe(args[0], args, env)
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:   # EIO: the child closed its side
                break
            if not data:
                break
            chunks.append(data)
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode("utf-8", "replace")


def test_tty_shows_the_live_view(tmp_path, clip):
    code, out = run_in_pty([*RUNNER, "analyze", str(clip), "--only", "toy_good,toy_invalid,toy_final"],
                           _env(tmp_path))
    text = ANSI.sub("", out)
    assert code == 1, text                        # toy_invalid is not ok
    assert "\x1b[" in out                          # drawn with escape codes: the live view, not lines
    assert "Traceback" not in text
    for word in ("probe", "extract", "toy_good", "toy_final", "toy_invalid", "running", "analyzers",
                 "3/3 done", "INVALID", "1 not ok"):
        assert word in text, word
    assert "queued" in text and "waiting for toy_good" in text  # toy_final, a later stage, names what it waits for
    assert not re.search(r"\[ ?\d/3\] toy_good", text)  # none of the plain line format
    assert "report: " in text and "workdir kept: " in text


def test_tty_marks_cached_results(tmp_path, clip):
    env = _env(tmp_path)
    first, _ = run_in_pty([*RUNNER, "analyze", str(clip), "--only", "toy_good"], env)
    code, out = run_in_pty([*RUNNER, "analyze", str(clip), "--only", "toy_good"], env)
    text = ANSI.sub("", out)
    assert (first, code) == (0, 0), text
    assert "[cached]" in text and "1/1 done" in text


def test_piped_output_is_plain_lines(tmp_path, clip):
    p = subprocess.run([*RUNNER, "analyze", str(clip), "--only", "toy_good,toy_final"], env=_env(tmp_path),
                       capture_output=True, text=True, timeout=240)
    assert p.returncode == 0, p.stderr
    assert "\x1b[" not in p.stderr
    lines = p.stderr.splitlines()
    assert any(re.match(r"  \[ ?\d/2\] toy_good\s+ok\s", ln) for ln in lines), p.stderr
    assert any(re.match(r"  \[ ?\d/2\] toy_final started", ln) for ln in lines), p.stderr
    assert any(ln.startswith("  probe ") for ln in lines) and lines[-1].startswith("report: ")


def test_quiet_on_a_tty_draws_nothing(tmp_path, clip):
    code, out = run_in_pty([*RUNNER, "analyze", str(clip), "--only", "toy_good", "--quiet"], _env(tmp_path))
    text = ANSI.sub("", out)
    assert code == 0, text
    assert "running" not in text and "toy_good" not in text and "probe" not in text
    assert "report: " in text


def test_dumb_terminal_gets_lines(tmp_path, clip):
    code, out = run_in_pty([*RUNNER, "analyze", str(clip), "--only", "toy_good"], _env(tmp_path, TERM="dumb"))
    text = out.replace("\r", "")
    assert code == 0, text
    assert re.search(r"  \[ ?1/1\] toy_good\s+ok\s", text), text


def test_batch_on_a_tty_shows_counts_rate_and_eta(tmp_path, clip):
    folder = tmp_path / "videos"
    folder.mkdir()
    for name in ("a.mp4", "b.mp4"):
        (folder / name).write_bytes(clip.read_bytes())
    (folder / "corrupt.mp4").write_text("not a video\n" * 50)
    out = tmp_path / "out"
    code, drawn = run_in_pty([*RUNNER, "batch", str(folder), "--serial", "--out", str(out), "--only", "toy_good"],
                             _env(tmp_path))
    text = ANSI.sub("", drawn)
    assert code == 1, text                                   # the corrupt video is an error row
    assert "\x1b[" in drawn and "Traceback" not in text
    assert "3/3 done" in text and "2 ok" in text and "1 failed" in text and "videos/hour" in text
    assert "ETA" in text and "1 running" in text            # serial: one video at a time, named while it runs
    assert "[3/3] " in text and "batch: 3 videos" in text    # the per-video lines and the summary stay
    assert (out / "summary.jsonl").read_text().count("\n") == 3


def test_batch_piped_keeps_the_plain_lines(tmp_path, clip):
    p = subprocess.run([*RUNNER, "batch", str(clip), "--serial", "--out", str(tmp_path / "out"), "--only", "toy_good"],
                       env=_env(tmp_path), capture_output=True, text=True, timeout=240)
    assert p.returncode == 0, p.stderr
    lines = p.stderr.splitlines()
    assert "\x1b[" not in p.stderr
    assert lines[0].startswith("batch: 1 videos, serial") and re.match(r"\[1/1\] clip-\w+ ok \(1 ok; 0 cached\)", lines[1])
    assert lines[-1].startswith("batch: 1 videos (1 ok") and "videos/hour" in lines[-1]


def _three_hanging_videos(tmp_path: Path) -> tuple[Path, list[str]]:
    """Three different clips (no result is shared) and toy_hang cut at 3 s: each video takes seconds."""
    folder = tmp_path / "videos"
    folder.mkdir()
    for i in range(3):
        media.testsrc(folder / f"v{i}.mp4", seconds=1, size=f"{160 + 2 * i}x284", rate=10)
    return folder, ["--only", "toy_hang", "--set", "toy_hang.timeout_s=3"]


@pytest.mark.slow
def test_batch_on_ray_tells_queued_from_running(tmp_path):
    """A local Ray with 1 CPU and 3 videos of 1 CPU each: one runs, two wait in Ray's queue. The view
    and the lines say so (a video is running only once its task reported its start), never 2 running."""
    pytest.importorskip("ray")
    folder, args = _three_hanging_videos(tmp_path)
    env = _env(tmp_path, RUNNER_CPU_BUDGET="1")
    code, drawn = run_in_pty([*RUNNER, "batch", str(folder), "--out", str(tmp_path / "out"), *args], env)
    text = ANSI.sub("", drawn)
    assert code == 1, text                                   # toy_hang times out: partial rows
    assert "Traceback" not in text and "batch: 3 videos on local Ray" in text
    assert "1 running" in text and "2 queued" in text, text  # one in hand, two held by Ray for the CPU
    assert "2 running" not in text and "3 running" not in text
    assert "queued: submitted, waiting for a worker with room" in text

    p = subprocess.run([*RUNNER, "batch", str(folder), "--out", str(tmp_path / "out2"), *args],
                       env={**env, "RUNNER_CACHE_DIR": str(tmp_path / "cache2")}, capture_output=True, text=True,
                       timeout=240)
    assert p.returncode == 1 and "\x1b[" not in p.stderr, p.stderr
    flight = [(int(k), int(r), int(q)) for k, r, q in
              re.findall(r"^\[(\d)/3\] .* \[(\d) running, (\d) queued\]$", p.stderr, re.MULTILINE)]
    # after the first video: two left, at most one of them started (1 CPU); after the second: one left
    assert [k for k, _, _ in flight] == [1, 2], p.stderr
    assert all(r <= 1 and r + q == 3 - k for k, r, q in flight) and flight[0][2] >= 1, flight
    assert re.search(r"^\[3/3\] .*\ds$", p.stderr, re.MULTILINE), p.stderr   # nothing left in flight
