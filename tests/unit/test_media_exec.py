"""HostMediaExec: workdir-relative calls with a memory limit, a wall-clock timeout and capped output."""
import subprocess
import time

import pytest

import runner.media.tools as me
from runner.media.tools import HostMediaExec, MediaCall, input_args


def test_calls_run_in_the_workdir_and_say_they_are_not_a_sandbox(tmp_path):
    ex = HostMediaExec()
    assert ex.name == "host" and ex.sandboxed is False
    (tmp_path / "out").mkdir()
    res = ex.run(tmp_path, MediaCall(argv=("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=s=16x16:d=0.1",
                                           "-frames:v", "1", "file:out/one.jpg"), writable=("out",)))
    assert res.returncode == 0 and (tmp_path / "out" / "one.jpg").is_file(), res.stderr


def test_timeout_kills_the_process_group(tmp_path):
    t0 = time.monotonic()
    res = HostMediaExec().run(tmp_path, MediaCall(argv=("ffmpeg", "-v", "error", "-re", "-f", "lavfi", "-i",
                                                        "testsrc=d=60", "-f", "null", "-"), timeout_s=1.0))
    assert res.timed_out and res.returncode is None and time.monotonic() - t0 < 10


def test_memory_limit_applies(tmp_path):
    res = HostMediaExec().run(tmp_path, MediaCall(argv=("ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                                                        "testsrc=s=4096x4096:d=1", "-f", "null", "-"),
                                                  memory_bytes=32 * 2**20))
    assert res.returncode not in (0, None)


def test_output_is_capped(tmp_path, monkeypatch, sample_video):
    monkeypatch.setattr(me, "OUTPUT_CAP", 1000)
    res = HostMediaExec().run(sample_video.parent, MediaCall(argv=("ffprobe", "-v", "error", "-show_packets",
                                                                   f"file:{sample_video.name}")))
    assert res.returncode == 0 and len(res.stdout) == 1000


def test_only_media_tools_and_relative_inputs(tmp_path):
    with pytest.raises(ValueError):
        HostMediaExec().run(tmp_path, MediaCall(argv=("sh", "-c", "true")))
    for bad in ("/etc/passwd", "../x.mp4", "-i"):
        with pytest.raises(ValueError):
            input_args(bad, "mov")
    args = input_args("input/video.mp4", "mov")
    assert args[-2:] == ["-i", "file:input/video.mp4"] and args[args.index("-f") + 1] == "mov"
    assert args[args.index("-protocol_whitelist") + 1] == "file"


def test_enable_drefs_goes_only_where_the_mov_demuxer_is_forced():
    """issue 23: the mov/mp4 demuxer is told never to open a data reference's external file; other
    demuxers do not know the option (ffmpeg 5.1 exits with "Option enable_drefs not found")."""
    mov = input_args("input/video.mp4", "mov")
    assert mov[mov.index("-enable_drefs") + 1] == "0" and mov.index("-enable_drefs") < mov.index("-i")
    assert mov[mov.index("-f") + 1] == "mov"
    for demuxer in ("matroska", "avi", "mpegts", "flv"):
        assert "-enable_drefs" not in input_args("input/video.x", demuxer), demuxer


@pytest.mark.parametrize("ext,codec", [("mp4", "libx264"), ("mkv", "libx264"), ("avi", "mpeg4"), ("ts", "mpeg2video"),
                                       ("flv", "flv")])
def test_every_admitted_family_decodes_with_its_input_args(tmp_path, ext, codec):
    """The real ffmpeg and ffprobe accept the argv of every family (a demuxer option given to the
    wrong demuxer would fail the decode)."""
    from runner.media.admit import DEMUXER_BY_EXT

    (tmp_path / "input").mkdir()
    clip = tmp_path / "input" / f"video.{ext}"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=d=0.5:s=64x64:r=10", "-c:v", codec,
                    str(clip)], check=True, capture_output=True, timeout=60)
    args = input_args(f"input/video.{ext}", DEMUXER_BY_EXT[ext])
    decode = HostMediaExec().run(tmp_path, MediaCall(argv=("ffmpeg", "-v", "error", *args, "-f", "null", "-")))
    assert decode.returncode == 0, decode.stderr
    probed = HostMediaExec().run(tmp_path, MediaCall(argv=("ffprobe", "-v", "error", *args, "-show_format")))
    assert probed.returncode == 0 and "format_name=" in probed.stdout, probed.stderr
