"""Probe and the single decode pass, on real media made with ffmpeg."""
import json
import wave

import pytest

from runner.core.errors import InputError
from runner.media.extract import build_command, extract, target_size
from runner.media.probe import probe_file
from shared_schema.paths import FRAME_SETS, Workdir
from tests import media


def probe(src, wd=None):
    """Admit ``src`` into a workdir (its ``input/`` copy) and probe that copy: (workdir, admitted, media)."""
    wd = Workdir(wd or src.parent / f"wd-{src.stem}-{id(src)}")
    admitted, m = probe_file(src, wd.root)
    return wd, admitted, m


def test_target_size_never_upscales_and_is_even():
    assert target_size(1080, 1920, 640) == (360, 640)
    assert target_size(320, 240, 640) == (320, 240)
    assert target_size(721, 1281, 192) == (108, 192)


def test_probe_reads_display_geometry_and_audio(tmp_path, sample_video):
    wd, adm, m = probe(sample_video, tmp_path / "wd")
    assert adm.rel == "input/video.mp4" and adm.demuxer == "mov" and wd.input_video("mp4").is_file()
    assert (m.video.width, m.video.height) == (360, 640)
    assert m.video.fps == pytest.approx(30)
    assert m.duration_s == pytest.approx(4, abs=0.1)
    assert m.audio is not None and m.audio.sample_rate > 0
    assert len(m.sha256) == 64


def test_one_decode_pass_writes_every_set_and_audio(tmp_path, sample_video):
    wd, adm, m = probe(sample_video, tmp_path)
    sets = [FRAME_SETS["sampled"], FRAME_SETS["dense"], FRAME_SETS["hires"]]
    call, _ = build_command(adm, m, wd, sets, with_audio=True)
    cmd = call.argv
    assert cmd.count("-i") == 1 and "split=3" in " ".join(cmd)  # decoded once, split in the graph
    # the input is named as a workdir-relative file: input under both whitelists and a forced demuxer
    i = cmd.index("-i")
    assert cmd[i + 1] == "file:input/video.mp4" and cmd[i - 4:i] == ("-f", "mov", "-enable_drefs", "0")
    assert cmd[cmd.index("-protocol_whitelist") + 1] == "file" and "-format_whitelist" in cmd
    assert set(call.writable) == {"frames/sampled", "frames/dense", "frames/hires", "audio"}
    assert not any(a.startswith("/") for a in cmd[1:])               # nothing absolute
    res = extract(wd, adm, m, sets, with_audio=True)
    sampled, dense, hires = (res.frame_sets[s] for s in ("sampled", "dense", "hires"))
    assert len(sampled.frames) == 8          # 2 fps x 4 s
    assert len(dense.frames) == 120          # every frame at 30 fps
    assert len(hires.frames) == 4
    assert [f.t for f in sampled.frames[:3]] == [0.0, 0.5, 1.0]
    assert dense.frames[30].t == pytest.approx(1.0)
    assert (sampled.width, sampled.height) == (360, 640)
    assert (dense.width, dense.height) == (108, 192) and dense.gray
    on_disk = json.loads(wd.frame_index("dense").read_text())
    assert len(on_disk["frames"]) == 120 and (wd.frames_dir("dense") / on_disk["frames"][-1]["file"]).is_file()
    with wave.open(str(res.audio)) as w:
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (1, 16000, 2)
        assert w.getnframes() / 16000 == pytest.approx(4, abs=0.1)


def test_rotation_metadata_is_honoured(tmp_path):
    src = media.testsrc(tmp_path / "land.mp4", seconds=1, size="320x180", audio=False)
    rot = tmp_path / "rot.mp4"
    media.ffmpeg("-i", str(src), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(rot))
    wd, adm, m = probe(rot, tmp_path / "wd")
    assert m.video.rotation in (90, 270)
    assert (m.video.width, m.video.height) == (180, 320)   # displayed upright: portrait
    res = extract(wd, adm, m, [FRAME_SETS["sampled"]], with_audio=False)
    import struct
    jpg = (tmp_path / "wd" / "frames" / "sampled" / res.frame_sets["sampled"].frames[0].file).read_bytes()
    i = 2  # walk JPEG markers to the SOF0 header and read the real pixel size
    while i < len(jpg):
        marker, length = jpg[i + 1], struct.unpack(">H", jpg[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC2):
            h, w = struct.unpack(">HH", jpg[i + 5:i + 9])
            break
        i += 2 + length
    assert (w, h) == (180, 320)


def test_video_without_audio_extracts_no_audio(tmp_path, silent_video):
    wd, adm, m = probe(silent_video, tmp_path)
    assert m.audio is None
    res = extract(wd, adm, m, [FRAME_SETS["sampled"]], with_audio=True)
    assert res.audio is None and not (tmp_path / "audio" / "main.wav").exists()


def test_truncated_video_is_refused_with_one_line(tmp_path):
    src = media.testsrc(tmp_path / "full.mp4", seconds=6, audio=False)
    fast = tmp_path / "fast.mp4"
    media.ffmpeg("-i", str(src), "-c", "copy", "-movflags", "+faststart", str(fast))
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(fast.read_bytes()[: fast.stat().st_size // 3])
    wd, adm, m = probe(cut, tmp_path / "wd")  # the header is intact: only decoding finds the damage
    with pytest.raises(InputError, match="truncated or corrupt"):
        extract(wd, adm, m, [FRAME_SETS["dense"]], with_audio=False)


def test_the_frame_index_never_follows_what_the_decoder_left(tmp_path, silent_video):
    """A (compromised) decoder that plants frames/<set>/index.json -> a host file: the runner replaces
    the link, the target keeps its content."""
    from runner.media.tools import HostMediaExec

    canary = tmp_path / "canary.txt"
    canary.write_text("keep me")
    wd, adm, m = probe(silent_video, tmp_path / "wd")

    class Planting(HostMediaExec):
        def run(self, workdir, call):
            res = super().run(workdir, call)
            (wd.frames_dir("sampled") / "index.json").symlink_to(canary)
            (wd.frames_dir("sampled") / "999999.jpg").symlink_to(canary)   # not a regular file: not indexed
            return res

    res = extract(wd, adm, m, [FRAME_SETS["sampled"]], with_audio=False, media_exec=Planting())
    assert canary.read_text() == "keep me"
    assert not wd.frame_index("sampled").is_symlink() and json.loads(wd.frame_index("sampled").read_text())
    assert "999999.jpg" not in {f.file for f in res.frame_sets["sampled"].frames}


def test_a_frame_shows_the_time_its_index_says(tmp_path):
    """Each sampled/hires frame is the picture at its index time (the last source frame at or before
    it), not up to half a slot later: a clip whose grey level encodes the frame number (8 levels per
    frame at 30 fps) is read back frame by frame."""
    import subprocess

    from PIL import Image, ImageStat

    src = tmp_path / "numbered.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "nullsrc=s=64x64:r=30:d=1,geq=lum='16+N*7':cb=128:cr=128",
                    "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv444p", str(src)], check=True)
    wd, adm, m = probe(src, tmp_path)
    res = extract(wd, adm, m, [FRAME_SETS["sampled"], FRAME_SETS["hires"]], with_audio=False)
    for name in ("sampled", "hires"):
        for f in res.frame_sets[name].frames:
            level = ImageStat.Stat(Image.open(wd.frames_dir(name) / f.file).convert("L")).mean[0]
            y = level * 219 / 255 + 16             # the JPEGs are full range (yuvj420p)
            shown = (y - 16) / 7 / 30              # the source frame's time, from its grey level
            assert shown == pytest.approx(f.t, abs=0.5 / 30), (name, f.t, shown)
