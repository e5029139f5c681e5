"""The media sandbox: ffprobe/ffmpeg on user media in a locked-down container (docker backend).

The container config is checked without a daemon. The rest needs a Docker daemon and the
media image (``runner images build media``; built here from the cpu base when missing, about a
minute): the container gives the same ffprobe JSON and the same frames and audio as the host,
a call past its time limit is killed and its container removed, and the tool can neither reach
the network nor write outside its writable folders.
"""
from __future__ import annotations

import shutil
import socket
import threading
import time
import uuid
from pathlib import Path

import pytest

from runner.media.docker_exec import WORK, DockerMediaExec
from runner.core.config import Settings
from runner.core.errors import RunnerError
from runner.media.tools import HostMediaExec, MediaCall
from tests import media
from tests.docker_sandboxes import connect_or_need, need, sandbox_image

RUN_LABEL = "org.tiktok-runner.run"


# -- no daemon: the container config ----------------------------------------------------------
def test_container_config_is_locked_down(tmp_path):
    ex = DockerMediaExec(client=None, image="localhost/tiktok-runner/media:1", run_id="cfg-test")
    call = MediaCall(argv=("ffmpeg", "-i", "file:input/video.mp4", "frames/sampled/%06d.jpg", "audio/main.wav"),
                     writable=("frames/sampled", "audio"), timeout_s=30, memory_bytes=512 * 2**20, cpus=1.5)
    kw = ex.container_config(tmp_path, call)
    assert kw["image"] == "localhost/tiktok-runner/media:1"
    assert kw["command"] == list(call.argv)
    assert kw["network_mode"] == "none" and kw["read_only"] is True
    assert kw["cap_drop"] == ["ALL"] and kw["security_opt"] == ["no-new-privileges"]
    assert kw["init"] is True and kw["working_dir"] == WORK
    user = kw["user"].split(":")
    assert user[0] not in ("0", "root") and user[1:] != ["0"]
    assert kw["mem_limit"] == kw["memswap_limit"] == 512 * 2**20
    assert kw["nano_cpus"] == int(1.5e9) and 0 < kw["pids_limit"] <= 1024
    assert set(kw["tmpfs"]) == {"/tmp"} and "noexec" in kw["tmpfs"]["/tmp"]
    assert "privileged" not in kw and "devices" not in kw and "cap_add" not in kw
    root = tmp_path.resolve()
    assert kw["volumes"] == {
        str(root / "input"): {"bind": f"{WORK}/input", "mode": "ro"},
        str(root / "frames/sampled"): {"bind": f"{WORK}/frames/sampled", "mode": "rw"},
        str(root / "audio"): {"bind": f"{WORK}/audio", "mode": "rw"},
    }
    assert not any("docker.sock" in src for src in kw["volumes"])
    assert kw["labels"]["org.tiktok-runner.project"] == "tiktok-sandbox-runner"
    assert kw["labels"][RUN_LABEL] == "cfg-test"
    assert kw["log_config"]["Config"]["max-size"]


@pytest.mark.parametrize("bad", ["input", "input/x", "../out", "/etc", ".", "frames/../../x"])
def test_writable_must_be_a_workdir_folder_outside_input(tmp_path, bad):
    ex = DockerMediaExec(client=None, image="x/media:1")
    with pytest.raises(RunnerError):
        ex.container_config(tmp_path, MediaCall(argv=("ffmpeg",), writable=(bad,)))


def test_thumbnails_from_frames_see_frames_read_only(tmp_path):
    ex = DockerMediaExec(client=None, image="x/media:1")
    call = MediaCall(argv=("ffmpeg", "-f", "image2", "-i", "file:frames/sampled/000001.jpg", "file:tmp/th/0.jpg"),
                     writable=("tmp/th",))
    vols = ex.container_config(tmp_path, call)["volumes"]
    root = tmp_path.resolve()
    assert vols[str(root / "frames")] == {"bind": f"{WORK}/frames", "mode": "ro"}
    assert vols[str(root / "tmp/th")] == {"bind": f"{WORK}/tmp/th", "mode": "rw"}
    plain = ex.container_config(tmp_path, MediaCall(argv=PROBE))["volumes"]
    assert list(plain) == [str(root / "input")]


def test_media_exec_for_local_is_the_host():
    from runner.placement import place

    ex = place(Settings.from_env(), "local").media_exec()
    assert ex.name == "host" and ex.sandboxed is False


# -- with a daemon ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client():
    return connect_or_need()


@pytest.fixture(scope="module")
def media_image(client) -> str:
    from runner.images.runner_images import MEDIA

    return sandbox_image(client, MEDIA)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return media.testsrc(tmp_path_factory.mktemp("clip") / "clip.mp4", seconds=4)


def _workdir(root: Path, clip: Path) -> Path:
    (root / "input").mkdir(parents=True)
    shutil.copyfile(clip, root / "input" / "video.mp4")
    (root / "input").chmod(0o755)
    (root / "input" / "video.mp4").chmod(0o644)
    return root


@pytest.fixture
def dexec(client, media_image):
    return DockerMediaExec(client, media_image, run_id=f"media-test-{uuid.uuid4().hex[:8]}")


def _left(client, run_id: str) -> list:
    return client.containers.list(all=True, filters={"label": f"{RUN_LABEL}={run_id}"}, ignore_removed=True)


PROBE = ("ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
         "-protocol_whitelist", "file", "-f", "mov", "-i", "file:input/video.mp4")


@pytest.mark.docker
def test_probe_in_container_equals_host(tmp_path, clip, dexec, client):
    import json

    wd = _workdir(tmp_path / "wd", clip)
    host = HostMediaExec().run(wd, MediaCall(argv=PROBE, timeout_s=60))
    box = dexec.run(wd, MediaCall(argv=PROBE, timeout_s=60))
    assert host.returncode == 0, host.stderr
    assert box.returncode == 0, box.stderr
    assert json.loads(box.stdout) == json.loads(host.stdout)
    assert json.loads(box.stdout)["format"]["format_name"].startswith("mov")
    assert not _left(client, dexec.run_id)


def _extract_argv() -> tuple[str, ...]:
    graph = ("[0:v:0]split=2[v0][v1];[v0]fps=2,scale=180:320:flags=area,format=yuvj420p[o0];"
             "[v1]fps=10,scale=90:160:flags=area,format=gray[o1]")
    return ("ffmpeg", "-hide_banner", "-nostdin", "-v", "warning", "-y", "-threads", "2",
            "-protocol_whitelist", "file", "-f", "mov", "-i", "file:input/video.mp4",
            "-filter_complex", graph,
            "-map", "[o0]", "-q:v", "3", "-start_number", "1", "frames/sampled/%06d.jpg",
            "-map", "[o1]", "-q:v", "5", "-start_number", "1", "frames/dense/%06d.jpg",
            "-map", "0:a:0", "-vn", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", "audio/main.wav")


def _outputs(wd: Path) -> dict[str, int]:
    return {p.relative_to(wd).as_posix(): p.stat().st_size
            for d in ("frames", "audio") for p in sorted((wd / d).rglob("*")) if p.is_file()}


@pytest.mark.docker
def test_extraction_in_container_equals_host(tmp_path, clip, dexec, client):
    call = MediaCall(argv=_extract_argv(), writable=("frames/sampled", "frames/dense", "audio"), timeout_s=120)
    results = {}
    for name, ex in (("host", HostMediaExec()), ("box", dexec)):
        wd = _workdir(tmp_path / name, clip)
        for w in call.writable:
            (wd / w).mkdir(parents=True)
        res = ex.run(wd, call)
        assert res.returncode == 0, (name, res.stderr, res.notes)
        results[name] = _outputs(wd)
    host, box = results["host"], results["box"]
    assert sorted(box) == sorted(host)
    assert sum(1 for k in box if k.startswith("frames/sampled/")) == 8
    assert sum(1 for k in box if k.startswith("frames/dense/")) == 40
    assert box["audio/main.wav"] == host["audio/main.wav"]
    for k in host:  # the same decoder and encoder: equal sizes (a few bytes of slack for JPEG headers)
        assert abs(box[k] - host[k]) <= max(64, host[k] // 100), k
    assert not _left(client, dexec.run_id)


@pytest.mark.docker
def test_timeout_kills_and_removes_the_container(tmp_path, clip, dexec, client):
    wd = _workdir(tmp_path / "wd", clip)
    argv = ("ffmpeg", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc=duration=600", "-f", "null", "-")
    t0 = time.monotonic()
    res = dexec.run(wd, MediaCall(argv=argv, timeout_s=2))
    assert res.timed_out and res.returncode is None
    assert time.monotonic() - t0 < 2 + 12
    assert any("killed" in n for n in res.notes)
    assert not _left(client, dexec.run_id)


class _Listener:
    """A TCP listener on every host address that counts the connections it gets."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("0.0.0.0", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._serve, daemon=True)
        self._t.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.hits += 1
            conn.close()

    def close(self):
        self._stop.set()
        self._t.join()
        self.sock.close()


@pytest.mark.docker
def test_no_network_and_no_writes_outside(tmp_path, clip, dexec, client):
    wd = _workdir(tmp_path / "wd", clip)
    listener = _Listener()
    try:
        addrs = {"127.0.0.1"}
        try:
            addrs.add(socket.gethostbyname(socket.gethostname()))
        except OSError:
            pass
        for addr in sorted(addrs):  # no whitelist here: the sandbox itself must stop it
            res = dexec.run(wd, MediaCall(argv=("ffprobe", "-v", "error", "-rw_timeout", "3000000",
                                                "-i", f"http://{addr}:{listener.port}/x.mp4"), timeout_s=30))
            assert res.returncode not in (0, None), res.stderr
        dns = dexec.run(wd, MediaCall(argv=("ffprobe", "-v", "error", "-i", "http://example.com/x.mp4"), timeout_s=30))
        assert dns.returncode not in (0, None)
        time.sleep(0.3)
        assert listener.hits == 0
    finally:
        listener.close()
    (wd / "frames" / "ok").mkdir(parents=True)
    for target in ("input/planted.jpg", "elsewhere/planted.jpg", "frames/planted.jpg", "/w/planted.jpg",
                   "/etc/planted.jpg"):
        res = dexec.run(wd, MediaCall(argv=("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                                            "color=red:size=16x16:duration=0.04", "-frames:v", "1",
                                            "-f", "mjpeg", target),
                                      writable=("frames/ok",), timeout_s=30))
        assert res.returncode not in (0, None), target
        assert "Read-only file system" in res.stderr or "Permission denied" in res.stderr or \
               "No such file or directory" in res.stderr, (target, res.stderr)
    ok = dexec.run(wd, MediaCall(argv=("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                                       "color=red:size=16x16:duration=0.04", "-frames:v", "1", "frames/ok/1.jpg"),
                                 writable=("frames/ok",), timeout_s=30))
    assert ok.returncode == 0, ok.stderr
    made = sorted(p.relative_to(wd).as_posix() for p in wd.rglob("*") if p.is_file())
    assert made == ["frames/ok/1.jpg", "input/video.mp4"]
    assert not _left(client, dexec.run_id)


@pytest.mark.docker
def test_missing_media_image_docker_refuses_auto_warns(client):
    from runner.core.errors import BackendUnavailable
    from runner.placement import place

    settings = Settings.from_env().with_(image_prefix="localhost/no-such-prefix")
    with pytest.raises(BackendUnavailable) as info:
        place(settings, "docker", client=client).media_exec()
    assert "runner images build media" in info.value.fix
    said: list[str] = []
    ex = place(settings, "auto", said.append, client=client).media_exec()
    assert ex.name == "host" and not ex.sandboxed
    assert len(said) == 1 and "NOT a sandbox" in said[0] and "runner images build media" in said[0]


def test_pictures_after_a_docker_run_are_never_taken_on_the_host():
    """``runner report`` / batch / the API redraw thumbnails where the run decoded: a docker run's
    report gets the media sandbox or nothing (the API process holds no Docker socket)."""
    from types import SimpleNamespace

    from runner.placement import NoMediaExec, media_exec_for_report

    host_run = SimpleNamespace(run=SimpleNamespace(media_exec="host", run_id="r1"))
    assert media_exec_for_report(host_run).name == "host"
    docker_run = SimpleNamespace(run=SimpleNamespace(media_exec="docker", run_id="r2"))
    ex = media_exec_for_report(docker_run, Settings.from_env().with_(image_prefix="localhost/no-such-prefix"))
    assert isinstance(ex, NoMediaExec) and ex.sandboxed
    with pytest.raises(RunnerError):
        ex.run(Path("."), MediaCall(argv=("ffmpeg",)))


@pytest.mark.docker
def test_missing_media_image_says_how_to_build_it(client):
    from runner.core.errors import BackendUnavailable

    ex = DockerMediaExec(client, "localhost/tiktok-runner/media-does-not-exist:0")
    with pytest.raises(BackendUnavailable) as info:
        ex.check_image()
    assert "runner images build media" in (info.value.fix or "")


@pytest.mark.docker
def test_analyze_docker_runs_media_in_the_sandbox(tmp_path, clip, media_image, client):
    """A whole run: probe and extraction in the media sandbox, color_analysis in its own container."""
    from runner.images.build import image_status
    from runner.run.pipeline import AnalyzeRequest, analyze
    from runner.core.registry import registry_for

    settings = Settings.from_env().with_(work_root=tmp_path / "runs", cache_dir=tmp_path / "cache")
    registry = registry_for(settings)
    if image_status(settings, {"color_analysis": registry["color_analysis"]})["color_analysis"] == "missing":
        need("the color_analysis image is not built: runner images build color_analysis")
    out = analyze(AnalyzeRequest(source=str(clip), only=["color_analysis"], backend="docker", use_cache=False),
                  settings, registry=registry)
    run = out.report.run
    assert out.report.analyzers["color_analysis"].status.value == "ok", out.report.analyzers["color_analysis"].error
    assert run.backend == "docker"
    assert run.media_exec == "docker" and run.media_sandboxed is True
    assert not client.containers.list(all=True, filters={"label": f"{RUN_LABEL}={run.run_id}"}, ignore_removed=True)
