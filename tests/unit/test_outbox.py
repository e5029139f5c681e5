"""runner.core.outbox: sandbox output is read as data, one kind of entry at a time."""
from __future__ import annotations

import os
import socket
import time

import pytest

from runner.core.outbox import MAX_REPORTED, Limits, OutboxError, copy_tree, read_file, walk


@pytest.fixture
def canary(tmp_path):
    p = tmp_path / "canary"
    p.write_text("CANARY")
    return p


@pytest.fixture
def out(tmp_path):
    d = tmp_path / "out"
    d.mkdir()
    return d


def _why(box, rel):
    return {d.path: d.why for d in box.report()}.get(rel)


def test_regular_files_are_kept_and_copied(out, tmp_path):
    (out / "a.txt").write_text("a")
    (out / "sub" / "deep").mkdir(parents=True)
    (out / "sub" / "deep" / "b.bin").write_bytes(b"\0" * 10)
    box = copy_tree(out, tmp_path / "dest", Limits())
    assert box.files == {"a.txt": 1, "sub/deep/b.bin": 10} and box.report() == []
    assert (tmp_path / "dest" / "sub" / "deep" / "b.bin").read_bytes() == b"\0" * 10


def test_symlinks_to_files_and_folders_are_dropped_not_followed(out, tmp_path, canary):
    (out / "loot").symlink_to(canary)
    (out / "dir").symlink_to(tmp_path)
    (out / "dangling").symlink_to(tmp_path / "nowhere")
    box = copy_tree(out, tmp_path / "dest", Limits())
    assert box.files == {}
    for rel in ("loot", "dir", "dangling"):
        assert "symlink" in _why(box, rel)
    assert list((tmp_path / "dest").iterdir()) == []
    with pytest.raises(OutboxError, match="symlink"):
        read_file(out / "loot", 100)


def test_hardlink_is_dropped(out, canary):
    os.link(canary, out / "hard")
    box = walk(out, Limits())
    assert "hard link (2 links)" in _why(box, "hard")
    with pytest.raises(OutboxError, match="hard link"):
        read_file(out / "hard", 100)


def test_fifo_and_socket_are_dropped_without_blocking(out):
    os.mkfifo(out / "result.json")
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(out / "sock"))
    try:
        t0 = time.monotonic()
        box = walk(out, Limits())
        with pytest.raises(OutboxError, match="FIFO"):
            read_file(out / "result.json", 100)
        assert time.monotonic() - t0 < 2
    finally:
        s.close()
    assert "FIFO" in _why(box, "result.json") and "socket" in _why(box, "sock")


def test_device_is_dropped():
    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null")
    with pytest.raises(OutboxError, match="character device"):
        read_file(__import__("pathlib").Path("/dev/null"), 100)


def test_oversized_sparse_file_is_dropped_without_reading(out, tmp_path):
    with open(out / "huge", "wb") as fh:
        fh.truncate(2 * 2**30)
    t0 = time.monotonic()
    box = copy_tree(out, tmp_path / "dest", Limits(max_file_bytes=2**20))
    assert time.monotonic() - t0 < 1
    assert "over the 1048576-byte cap" in _why(box, "huge")
    with pytest.raises(OutboxError, match="cap"):
        read_file(out / "huge", 2**20)


def test_total_bytes_cap_per_analyzer(out):
    for i in range(5):
        (out / f"f{i}").write_bytes(b"x" * 100)
    box = walk(out, Limits(max_total_bytes=250))
    assert len(box.files) == 2 and box.total_bytes == 200 and box.n_dropped == 3
    assert "250-byte cap" in _why(box, "f2")


def test_too_many_files_and_the_report_stays_short(out):
    for i in range(200):
        (out / f"f{i:03d}").write_text("x")
    box = walk(out, Limits(max_files=10))
    assert len(box.files) == 10 and box.n_dropped == 190
    rep = box.report()
    assert len(rep) == MAX_REPORTED + 1 and rep[-1].why == f"and {190 - MAX_REPORTED} more entries dropped"


def test_walk_stops_reading_a_huge_folder(out):
    for i in range(500):
        (out / f"f{i:03d}").write_text("x")
    box = walk(out, Limits(max_files=10))  # budget: 2 * 10 + 1000 entries: all 500 looked at
    assert box.n_dropped == 490
    box = walk(out, Limits(max_files=0))
    assert box.files == {}


def test_too_deep_is_dropped(out):
    d = out
    for i in range(5):
        d = d / f"d{i}"
    d.mkdir(parents=True)
    (d / "f").write_text("x")
    (out / "d0" / "top").write_text("y")
    box = walk(out, Limits(max_depth=3))
    assert box.files == {"d0/top": 1}
    assert "deeper than 3 folders" in _why(box, "d0/d1/d2/d3/")


def test_read_file_caps_and_reads(out):
    (out / "r.json").write_text("{}")
    assert read_file(out / "r.json", 2) == b"{}"
    with pytest.raises(OutboxError, match="cap"):
        read_file(out / "r.json", 1)
    with pytest.raises(OutboxError, match="missing"):
        read_file(out / "absent.json", 1)


def test_missing_root_is_empty(tmp_path):
    box = walk(tmp_path / "absent", Limits())
    assert box.files == {} and box.report() == []


def test_copy_never_writes_through_a_planted_destination_link(out, tmp_path, canary):
    (out / "f").write_text("attacker")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "f").symlink_to(canary)  # O_EXCL|O_NOFOLLOW: refused, the canary is untouched
    with pytest.raises(FileExistsError):
        copy_tree(out, dest, Limits())
    assert canary.read_text() == "CANARY"
