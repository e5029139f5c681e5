"""runner.run.space: a run that fills its disk is told from other failures and frees what it wrote."""
from __future__ import annotations

import errno
import os

import pytest

from runner.core.errors import DiskFull, ExtractionError
from runner.run import space


def _workdir(tmp_path):
    wd = tmp_path / "run-1"
    for rel, size in {"input/video.mp4": 3000, "frames/sampled/000001.jpg": 2000, "audio/main.wav": 1000,
                      "out/big/fill.bin": 2 * 2**20, "out/small/result.json": 10, "results/small.json": 10,
                      "logs/big.txt": 10, "jobs/big.json": 10, "media.json": 10, ".report.json.7.tmp": 0,
                      "results/.big.json.tmp": 0}.items():
        p = wd / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(os.urandom(size))
    return wd


def _full(monkeypatch, free: int):
    monkeypatch.setattr(space, "free_bytes", lambda path: (free, 48 * 2**20))


def test_enospc_anywhere_in_the_chain_is_a_full_disk(tmp_path, monkeypatch):
    wd = _workdir(tmp_path)
    _full(monkeypatch, 0)
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device", str(wd / "report.json"))
        except OSError as inner:
            raise RuntimeError("while merging") from inner
    except RuntimeError as exc:
        full = space.diagnose(wd, tmp_path, exc)
    assert isinstance(full, DiskFull)
    assert "No space left on device" in full.message and str(wd / "report.json") in full.message
    assert "the largest part: out/big (2.0 MiB)" in full.message and "RUNNER_WORK_ROOT" in full.fix
    assert full.free_bytes == 0 and full.total_bytes == 48 * 2**20
    # the bulky parts and the temp files are gone; envelopes, logs, job specs stay
    left = sorted(p.relative_to(wd).as_posix() for p in wd.rglob("*") if p.is_file())
    assert left == ["jobs/big.json", "logs/big.txt", "media.json", "results/small.json"]


def test_a_sandbox_that_hit_the_full_disk_is_seen_by_the_free_space(tmp_path, monkeypatch):
    """ffmpeg in the media sandbox or an analyzer in its container: the runner sees no errno, only a
    failure while the filesystem has nothing left for an unprivileged writer."""
    wd = _workdir(tmp_path)
    _full(monkeypatch, space.FULL_BELOW - 4096)
    assert isinstance(space.diagnose(wd, tmp_path, ExtractionError("ffmpeg failed")), DiskFull)
    wd = _workdir(tmp_path / "b")
    assert isinstance(space.diagnose(wd, tmp_path, None), DiskFull)  # an analyzer not ok


def test_other_failures_are_left_alone(tmp_path, monkeypatch):
    wd = _workdir(tmp_path)
    _full(monkeypatch, 10 * 2**30)
    assert space.diagnose(wd, tmp_path, ExtractionError("ffmpeg failed")) is None
    assert space.diagnose(wd, tmp_path, None) is None
    assert space.diagnose(wd, tmp_path, OSError(errno.EACCES, "Permission denied")) is None
    _full(monkeypatch, 0)

    class Stopped(Exception):  # an API cancel is not the disk's doing, full or not
        pass

    assert space.diagnose(wd, tmp_path, Stopped("cancelled")) is None
    assert (wd / "out" / "big" / "fill.bin").is_file()  # nothing was removed


def test_a_run_refused_before_its_workdir_exists_names_the_work_root(tmp_path, monkeypatch):
    _full(monkeypatch, 0)
    full = space.diagnose(None, tmp_path / "runs", OSError(errno.ENOSPC, "No space left on device"))
    assert isinstance(full, DiskFull) and full.path == str(tmp_path)  # the nearest folder that exists


def test_free_bytes_reads_the_real_filesystem(tmp_path):
    free, total = space.free_bytes(tmp_path / "not" / "yet")
    assert 0 <= free <= total and total > 0


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_quota_and_enospc(tmp_path, monkeypatch, code):
    _full(monkeypatch, 2**30)
    assert isinstance(space.diagnose(None, tmp_path, OSError(code, os.strerror(code))), DiskFull)
