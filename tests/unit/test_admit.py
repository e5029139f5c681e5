"""Admission: the sniffing table, every refusal, the one-descriptor copy and its hash."""
import hashlib
import os
import struct

import pytest

from runner.media.admit import FAMILIES, Limits, admit, check, sniff
from runner.core.errors import AdmissionError, InputError

TS = bytes([0x47] + [0] * 187) * 3
M2TS = (b"\0\0\0\0" + bytes([0x47] + [0] * 187)) * 3


@pytest.mark.parametrize("head, family", [
    (struct.pack(">I", 24) + b"ftypisom" + b"\0" * 12, "mp4"),
    (struct.pack(">I", 8) + b"moov", "mp4"),
    (struct.pack(">I", 8) + b"mdat", "mp4"),
    (struct.pack(">I", 8) + b"free", "mp4"),
    (struct.pack(">I", 8) + b"wide", "mp4"),
    (struct.pack(">I", 8) + b"skip", "mp4"),
    (struct.pack(">I", 20) + b"pnot", "mp4"),
    (b"\x1a\x45\xdf\xa3" + b"\x9f\x42\x86\x81\x01", "matroska"),
    (b"RIFF\x10\0\0\0AVI LIST", "avi"),
    (b"FLV\x01\x05\0\0\0\x09", "flv"),
    (TS, "mpegts"),
    (M2TS, "mpegts"),
])
def test_sniffing_table(head, family):
    assert sniff(head) == family
    assert FAMILIES[family][0] in {"mov", "matroska", "avi", "mpegts", "flv"}


@pytest.mark.parametrize("head, code, words", [
    (b"#EXTM3U\n#EXTINF:2,\nfile:///etc/secret.ts\n", "playlist_refused", "HLS playlist"),
    (b"\xef\xbb\xbf  #EXTM3U\n", "playlist_refused", "HLS playlist"),
    (b'<MPD xmlns="urn:mpeg:dash:schema:mpd:2011">', "playlist_refused", "DASH manifest"),
    (b'<?xml version="1.0"?><MPD>', "playlist_refused", "XML"),
    (b"ffconcat version 1.0\nfile /etc/secret.mp4\n", "playlist_refused", "ffconcat"),
    (b"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\n", "playlist_refused", "SDP"),
    (b"this is not a video\n" * 20, "not_a_video", "not a recognised video container"),
    (b"\x00" * 4096, "not_a_video", "not a recognised"),
    (b"\x47" + b"\0" * 200, "not_a_video", "not a recognised"),        # one sync byte is not a TS
    (b"", "empty", "empty"),
])
def test_refusals_are_named(head, code, words):
    with pytest.raises(AdmissionError) as err:
        sniff(head, "clip.mp4")
    assert err.value.code == code and words in err.value.message and "clip.mp4" in err.value.message
    assert isinstance(err.value, InputError) and err.value.exit_code == 2


def _mp4ish(path, size=10_000):
    path.write_bytes(struct.pack(">I", 24) + b"ftypisom" + os.urandom(size))
    return path


def test_admit_copies_from_one_descriptor_and_hashes(tmp_path):
    src = _mp4ish(tmp_path / "clip.mov")
    a = admit(src, tmp_path / "wd" / "input", display="clip.mov")
    assert a.rel == "input/video.mp4" and a.demuxer == "mov" and a.family == "mp4"
    assert a.path.read_bytes() == src.read_bytes() and a.size_bytes == src.stat().st_size
    assert a.sha256 == hashlib.sha256(src.read_bytes()).hexdigest()


def test_size_cap_before_and_while_copying(tmp_path):
    src = _mp4ish(tmp_path / "big.mp4", 5000)
    with pytest.raises(AdmissionError) as err:
        admit(src, tmp_path / "wd" / "input", Limits(max_bytes=1000))
    assert err.value.code == "too_large" and not list((tmp_path / "wd" / "input").glob("*"))


@pytest.mark.parametrize("kind", ["fifo", "dir", "device"])
def test_non_regular_files_are_refused(tmp_path, kind):
    p = {"fifo": tmp_path / "f.mp4", "dir": tmp_path / "d.mp4", "device": "/dev/zero"}[kind]
    if kind == "fifo":
        os.mkfifo(p)
    elif kind == "dir":
        p.mkdir()
    with pytest.raises(AdmissionError) as err:   # a FIFO must not block the open
        admit(p, tmp_path / "wd" / "input")
    assert err.value.code == "not_regular_file"


def test_missing_file(tmp_path):
    with pytest.raises(AdmissionError) as err:
        admit(tmp_path / "nope.mp4", tmp_path / "wd" / "input")
    assert err.value.code == "not_found" and "no such file" in err.value.message


def test_roots_are_walked_without_following_symlinks(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    secret = _mp4ish(outside / "secret.mp4")
    inside = _mp4ish(root / "sub" / "ok.mp4")
    (root / "link.mp4").symlink_to(secret)
    (root / "inner_link.mp4").symlink_to(inside)
    (root / "dirlink").symlink_to(outside)
    assert check(inside, roots=(root,)) == "mp4"
    for p in (root / "link.mp4", root / "inner_link.mp4", root / "dirlink" / "secret.mp4", secret,
              root / "sub" / ".." / ".." / "outside" / "secret.mp4"):
        with pytest.raises(AdmissionError) as err:
            admit(p, tmp_path / "wd" / "input", roots=(root,))
        assert err.value.code == "outside_roots", p
    assert not (tmp_path / "wd" / "input").exists() or not any((tmp_path / "wd" / "input").iterdir())


def test_a_root_given_through_a_symlink_still_works(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "alias").symlink_to(real)
    _mp4ish(real / "a.mp4")
    assert check(tmp_path / "alias" / "a.mp4", roots=(tmp_path / "alias",)) == "mp4"
    assert check(real / "a.mp4", roots=(tmp_path / "alias",)) == "mp4"


def test_caps_are_settings_with_defaults():
    from runner.core.config import Settings

    d = Limits.from_settings(Settings())
    assert (d.max_bytes, d.max_duration_s, d.max_pixels, d.max_fps, d.max_streams) == \
        (2 * 2**30, 1200.0, 4096 * 4096, 240.0, 16)
    s = Settings.from_env({"RUNNER_MAX_INPUT_BYTES": "10m", "RUNNER_MAX_DURATION_S": "60", "RUNNER_MAX_PIXELS": "100",
                           "RUNNER_MAX_FPS": "30", "RUNNER_MAX_STREAMS": "2"})
    assert Limits.from_settings(s) == Limits(10 * 2**20, 60.0, 100, 30.0, 2)


# ---- issue 23: what is sniffed is the copy; the copy is the runner's and the sandbox's only --------
MP4_HEAD = struct.pack(">I", 24) + b"ftypisom" + b"\0" * 12
PLAYLIST = b"#EXTM3U\n#EXTINF:2,\nfile:///etc/secret.ts\n#EXT-X-ENDLIST\n"


def test_a_file_rewritten_after_a_sniff_cannot_be_admitted_as_something_else(tmp_path, monkeypatch):
    """An uploader rewrites the file while it is admitted: the moment its bytes are first read, its
    head becomes a playlist. Sniffing a separate read of the source (before the copy) passed the mp4
    and copied the playlist; the copy's own head is what is sniffed now."""
    src = tmp_path / "clip.mp4"
    src.write_bytes(MP4_HEAD + b"\0" * 100_000)
    real_read = os.read
    rewritten = []

    def read(fd, n):
        if not rewritten and os.fstat(fd).st_ino == src.stat().st_ino:
            with open(src, "r+b") as fh:  # the attacker's write, timed between sniff and copy
                fh.write(PLAYLIST)
            rewritten.append(True)
        return real_read(fd, n)

    monkeypatch.setattr(os, "read", read)
    try:
        got = admit(src, tmp_path / "wd" / "input")
    except AdmissionError as exc:
        assert exc.code == "playlist_refused"
        assert not list((tmp_path / "wd" / "input").iterdir())
    else:
        assert sniff(got.path.read_bytes()[:4096]) == got.family, "the copy is not what was sniffed"
    assert rewritten


def test_the_copy_is_readable_by_the_runner_and_the_sandbox_user_only(tmp_path):
    src = tmp_path / "clip.mp4"
    src.write_bytes(MP4_HEAD + b"\0" * 1000)
    got = admit(src, tmp_path / "input")
    st = got.path.stat()
    assert st.st_mode & 0o007 == 0, oct(st.st_mode)         # no other local user
    if os.geteuid() == 0:   # root: the sandboxes run as nobody (65534) and read through the group
        assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (0, 65534, 0o640)
    else:                   # the sandboxes run as this uid
        assert (st.st_uid, st.st_mode & 0o777) == (os.geteuid(), 0o600)
    assert got.path.read_bytes() == src.read_bytes()
