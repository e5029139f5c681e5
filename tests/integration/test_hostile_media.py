"""Hostile media (issue 14): refused before any decoder, on the CLI, through the API and in a batch.

Playlists and manifests named ``.mp4`` point at a video outside the roots and at a loopback HTTP
listener: no ffprobe/ffmpeg process may run on them (a spy ``ffprobe``/``ffmpeg`` first on PATH logs
every call), the listener must see no request, and no byte of the outside file may reach a workdir.
Caps (pixels, duration, streams), a FIFO, garbage, a symlink out of a root and a file swapped after
submission are refused with one clear line, and the server keeps serving other jobs.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from runner.media.admit import Admitted
from runner.core.config import REPO_ROOT
from runner.core.errors import InputError
from runner.media.tools import HostMediaExec
from runner.media.probe import probe
from shared_schema.paths import Workdir
from tests import media
from tests.integration.test_api import ApiServer, hang_then_queue, wait_state
from tests.integration.test_download import LoopbackServer

RUNNER = [sys.executable, "-m", "runner.commands.main"]
KINDS = ("hls", "dash", "ffconcat")


# ---------------------------------------------------------------------------------- fixtures
@pytest.fixture
def spy(tmp_path) -> tuple[Path, Path]:
    """(a folder to put first on PATH, the log): ``ffprobe``/``ffmpeg`` there log argv, then run the real tool."""
    folder, log = tmp_path / "spy-bin", tmp_path / "spy.log"
    folder.mkdir()
    for tool in ("ffprobe", "ffmpeg"):
        script = folder / tool
        script.write_text(f'#!/bin/sh\necho "{tool} $*" >> {log}\nexec /usr/bin/{tool} "$@"\n')
        script.chmod(0o755)
    return folder, log


def spy_calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


@pytest.fixture
def outside(tmp_path) -> Path:
    """A real video outside every root (mpegts: what an HLS playlist would fetch)."""
    d = tmp_path / "outside"
    d.mkdir()
    media.ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x64:rate=10:duration=2", "-c:v", "mpeg2video",
                 str(d / "secret.ts"))
    return d / "secret.ts"


@pytest.fixture
def listener():
    with LoopbackServer({"/seg.ts": b"\x47" * 188 * 10, "/x.mp4": b"x"}) as srv:
        yield srv


def hostile(kind: str, folder: Path, secret: Path, url: str) -> Path:
    """A playlist/manifest named .mp4 that lists ``secret`` and the listener."""
    text = {
        "hls": f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:2,\nfile://{secret}\n#EXTINF:2,\n{url}/seg.ts\n"
               "#EXT-X-ENDLIST\n",
        "dash": '<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" '
                'mediaPresentationDuration="PT2S"><Period><AdaptationSet><Representation id="1" bandwidth="1">'
                f"<BaseURL>file://{secret}</BaseURL><BaseURL>{url}/seg.ts</BaseURL>"
                "</Representation></AdaptationSet></Period></MPD>\n",
        "ffconcat": f"ffconcat version 1.0\nfile 'file:{secret}'\nfile '{url}/x.mp4'\n",
    }[kind]
    path = folder / f"{kind}.mp4"
    path.write_text(text)
    return path


def no_file_holds(root: Path, secret: Path) -> bool:
    head = secret.read_bytes()[:4096]
    return not any(p.is_file() and head in p.read_bytes() for p in root.rglob("*")) if root.exists() else True


def cli(*args, env_extra=None, timeout=120):
    env = {**os.environ, "RUNNER_ANALYZERS_DIR": str(REPO_ROOT / "tests" / "toy_analyzers"),
           "RUNNER_TEST_ANALYZERS": "1", "RUNNER_BACKEND": "local", **(env_extra or {})}
    return subprocess.run([*RUNNER, *args], capture_output=True, text=True, env=env, timeout=timeout)


def one_error(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    errors = [ln for ln in stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, stderr
    return errors[0]


# ---------------------------------------------------------------------------------- cap media
def huge_header(path: Path, side: int) -> Path:
    """A 256x256 rawvideo mkv whose PixelWidth/PixelHeight (2-byte EBML values) now claim ``side``."""
    src = path.with_suffix(".src.mkv")
    media.ffmpeg("-f", "lavfi", "-i", "color=c=red:s=256x256:r=1", "-t", "1", "-c:v", "rawvideo",
                 "-pix_fmt", "gray", str(src))
    data = src.read_bytes()
    new = side.to_bytes(2, "big")
    for elem in (b"\xb0\x82", b"\xba\x82"):
        assert data.count(elem + b"\x01\x00") == 1
        data = data.replace(elem + b"\x01\x00", elem + new)
    path.write_bytes(data)
    return path


def ten_hours(path: Path) -> Path:
    """10 h of 2x2 frames at one frame a minute: 17 kB, and it would be 1 080 000 dense frames."""
    media.ffmpeg("-f", "lavfi", "-i", "color=s=2x2:r=1/60", "-t", "36000", "-c:v", "libx264",
                 "-pix_fmt", "yuv420p", str(path))
    return path


def many_streams(path: Path, n: int = 20) -> Path:
    args = ["-f", "lavfi", "-i", "testsrc2=size=64x64:rate=10:duration=1",
            "-f", "lavfi", "-i", "sine=duration=1", "-map", "0:v"]
    for _ in range(n):
        args += ["-map", "1:a"]
    media.ffmpeg(*args, "-c:v", "libx264", "-c:a", "aac", str(path))
    return path


@pytest.fixture
def capped(tmp_path) -> dict[str, tuple[Path, str]]:
    d = tmp_path / "capped"
    d.mkdir()
    fifo = d / "fifo.mp4"
    os.mkfifo(fifo)
    (d / "garbage.mp4").write_bytes(os.urandom(64_000))
    return {"pixels": (huge_header(d / "h16k.mkv", 16000), "16000x16000 pixels"),
            "invalid_size": (huge_header(d / "h65k.mkv", 65535), "no picture size"),
            "ten_hours": (ten_hours(d / "long.mp4"), "36000 s, over the 1200 s cap"),
            "streams": (many_streams(d / "streams.mkv"), "21 streams, over the 16 cap"),
            "fifo": (fifo, "is a FIFO, not a regular file"),
            "garbage": (d / "garbage.mp4", "not a recognised video container")}


# ---------------------------------------------------------------------------------- CLI
@pytest.mark.parametrize("kind", KINDS)
def test_cli_refuses_playlists_before_any_decoder(kind, tmp_path, spy, outside, listener):
    path = hostile(kind, tmp_path, outside, listener.url(""))
    if kind == "hls":  # the fixture really is hostile: an unrestricted ffprobe follows it
        raw = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=format_name", "-of", "csv=p=0",
                              str(path)], capture_output=True, text=True, timeout=30)
        assert raw.stdout.strip() == "hls"
    work = tmp_path / "w"
    p = cli("analyze", str(path), "--only", "toy_good",
            env_extra={"PATH": f"{spy[0]}:{os.environ['PATH']}", "RUNNER_WORK_ROOT": str(work)})
    assert p.returncode == 2, p.stderr
    line = one_error(p.stderr)
    assert "playlists and manifests are refused" in line and path.name in line
    assert spy_calls(spy[1]) == [] and listener.requests == []
    assert no_file_holds(work, outside) and not [f for f in work.rglob("*") if f.is_file()]


@pytest.mark.parametrize("case", ["pixels", "invalid_size", "ten_hours", "streams", "fifo", "garbage"])
def test_cli_refuses_capped_and_odd_inputs(case, capped, tmp_path, spy):
    path, expected = capped[case]
    p = cli("analyze", str(path), "--only", "toy_good",
            env_extra={"PATH": f"{spy[0]}:{os.environ['PATH']}", "RUNNER_WORK_ROOT": str(tmp_path / "w")})
    assert p.returncode == 2, p.stderr
    assert expected in one_error(p.stderr)
    calls = spy_calls(spy[1])
    if case in ("fifo", "garbage"):
        assert calls == []                                   # refused at admission
    else:
        assert calls and all(c.startswith("ffprobe") for c in calls)  # the probe refused: nothing decoded
        assert all("-protocol_whitelist file" in c and "file:input/video." in c for c in calls)


def test_the_whitelists_hold_even_if_admission_were_bypassed(tmp_path, outside, listener):
    """A playlist copied into the workdir and probed as if sniffing had chosen its demuxer."""
    wd = Workdir(tmp_path / "wd")
    wd.input_dir.mkdir(parents=True)
    hostile(kind="hls", folder=tmp_path, secret=outside, url=listener.url("")).rename(wd.input_video("mp4"))
    for demuxer, words in (("hls", "not on whitelist"), ("mov", "not a video ffmpeg can read")):
        adm = Admitted(path=wd.input_video("mp4"), rel="input/video.mp4", family="mp4", demuxer=demuxer,
                       size_bytes=1, sha256="0" * 64, display="clip.mp4")
        with pytest.raises(InputError) as err:
            probe(wd, adm, HostMediaExec())
        assert "clip.mp4" in str(err.value), err.value
    assert listener.requests == []


# ---------------------------------------------------------------------------------- API
@pytest.fixture
def server(tmp_path, spy):
    srv = ApiServer(tmp_path / "srv", extra_env={"PATH": f"{spy[0]}:{os.environ['PATH']}"}).start()
    yield srv
    srv.cleanup()


@pytest.fixture
def api(server):
    with server.client() as c:
        yield c


def test_api_refuses_hostile_media_at_submit_and_keeps_serving(server, api, spy, outside, listener, capped,
                                                                tmp_path):
    for kind in KINDS:
        path = hostile(kind, server.videos, outside, listener.url(""))
        r = api.post("/analyze", json={"video_path": str(path), "analyzers": ["toy_good"]})
        assert (r.status_code, r.json()["error"]["code"]) == (400, "playlist_refused"), r.text
    (server.videos / "garbage.mp4").write_bytes(os.urandom(10_000))
    os.mkfifo(server.videos / "fifo.mp4")
    (server.videos / "out.mp4").symlink_to(outside)
    for name, want in (("garbage.mp4", (400, "not_a_video")), ("fifo.mp4", (400, "not_regular_file")),
                       ("out.mp4", (403, "path_outside_roots"))):
        r = api.post("/analyze", json={"video_path": str(server.videos / name), "analyzers": ["toy_good"]})
        assert (r.status_code, r.json()["error"]["code"]) == want, (name, r.text)
    assert spy_calls(spy[1]) == [] and listener.requests == [] and api.get("/jobs").json()["total"] == 0
    # caps found by the probe: a failed job with the code; the next job still runs
    for name, code in (("h16k.mkv", "too_many_pixels"), ("long.mp4", "too_long")):
        path = server.videos / name
        path.write_bytes(capped["pixels" if name == "h16k.mkv" else "ten_hours"][0].read_bytes())
        job = api.post("/analyze", json={"video_path": str(path), "analyzers": ["toy_good"]}).json()["id"]
        done = wait_state(api, job, {"failed", "completed"})
        assert done["state"] == "failed" and done["error"]["code"] == code, done
    good = api.post("/analyze", json={"video_path": str(server.video()), "analyzers": ["toy_good"]}).json()["id"]
    assert wait_state(api, good, {"failed", "completed"})["state"] == "completed"
    assert no_file_holds(server.root / "runs", outside)


def test_api_file_swapped_after_submission(server, api, outside, tmp_path):
    """Replaced by a symlink to an outside file: the worker refuses it. Replaced by another video: the
    report's sha256 is that of the bytes actually analyzed."""
    hang_video = server.video("hang.mp4")
    slow, queued = hang_then_queue(api, hang_video)          # ``queued`` waits behind the hanging job
    victim = server.videos / "victim.mp4"
    media.testsrc(victim, seconds=1)
    swapped = api.post("/analyze", json={"video_path": str(victim), "analyzers": ["toy_good"]}).json()["id"]
    other = server.videos / "other.mp4"
    media.testsrc(other, seconds=1, size="320x240")
    replaced = api.post("/analyze", json={"video_path": str(other), "analyzers": ["toy_good"]}).json()["id"]
    victim.unlink()
    victim.symlink_to(outside)                               # after the submit-time check
    third = media.testsrc(tmp_path / "third.mp4", seconds=1, size="240x320")
    os.replace(third, other)
    expected = hashlib.sha256(other.read_bytes()).hexdigest()
    api.delete(f"/jobs/{slow}")
    job = wait_state(api, swapped, {"failed", "completed"}, timeout=120)
    assert job["state"] == "failed" and job["error"]["code"] == "path_outside_roots", job
    job = wait_state(api, replaced, {"failed", "completed"}, timeout=120)
    assert job["state"] == "completed", job
    report = api.get(f"/jobs/{replaced}/report").json()
    assert report["media"]["sha256"] == expected and report["media"]["video"]["width"] == 240
    assert wait_state(api, queued, {"failed", "completed"}, timeout=120)["state"] == "completed"
    assert no_file_holds(server.root / "runs", outside)


# ---------------------------------------------------------------------------------- batch
def test_batch_rows_for_hostile_media(tmp_path, settings, spy, outside, listener, monkeypatch):
    from runner.batch.driver import BatchRequest, run_batch

    inputs = [hostile(k, tmp_path, outside, listener.url("")) for k in KINDS]
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(os.urandom(20_000))
    good = media.testsrc(tmp_path / "good.mp4", seconds=1)
    monkeypatch.setenv("PATH", f"{spy[0]}:{os.environ['PATH']}")   # from here on, every media call is logged
    out = run_batch(BatchRequest(inputs=[str(p) for p in [*inputs, garbage, good]], out=tmp_path / "out",
                                 only=["toy_good"], backend="local", serial=True), settings)
    rows = {Path(r["source"]).name: r for r in map(json.loads, out.summary_path.read_text().splitlines())}
    for p in inputs:
        row = rows[p.name]
        assert row["status"] == "error" and row["error"]["type"] == "AdmissionError", row
        assert "playlists and manifests are refused" in row["error"]["message"]
    assert rows["garbage.mp4"]["error"]["type"] == "AdmissionError"
    assert rows["good.mp4"]["status"] == "ok"
    assert listener.requests == []
    calls = spy_calls(spy[1])
    assert calls and all("file:input/video.mp4" in c for c in calls)   # only the good video was decoded
    assert no_file_holds(settings.work_root, outside)


def test_a_fifo_never_blocks_admission(tmp_path):
    """Opening a FIFO with no writer must not hang (O_NONBLOCK), and nothing is read from it."""
    from runner.media.admit import admit
    from runner.core.errors import AdmissionError

    fifo = tmp_path / "clip.mp4"
    os.mkfifo(fifo)
    result: list = []
    t = threading.Thread(target=lambda: result.append(_try(admit, fifo, tmp_path / "wd" / "input")), daemon=True)
    t.start()
    t.join(5)
    assert not t.is_alive() and isinstance(result[0], AdmissionError) and result[0].code == "not_regular_file"


def _try(fn, *args):
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001
        return exc
