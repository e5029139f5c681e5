"""The download sandbox: yt-dlp runs in a locked-down container on the docker backend.

Without a daemon: the container config, the host-side reader of the sandbox's ``out/`` folder
(a symlink, a hardlink, a FIFO or an oversized file is never taken), the cache key check and the
backend choice. With a daemon and the fetch image (``runner images build fetch``; built here from
the cpu base when missing, about 30 s): real downloads from a loopback HTTP server through the
sandbox on network ``host`` (a real deployment uses ``bridge``), a 404, the cache, and an HLS
playlist naming a host file, whose bytes never reach the host.
"""
from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import pytest

from runner.api.settings import ApiSettings, from_env
from runner.download.sandbox import DockerFetch, checked_key, read_result, take_video
from runner.config import Settings
from runner.download.fetch import _attempt, download, download_via
from runner.errors import DownloadError
from runner.download.core import generic_key
from runner.download.image import ytdlp_pin
from runner.media.choose import fetcher_for
from tests import media
from tests.docker_sandboxes import connect_or_need, sandbox_image
from tests.integration.test_download import LoopbackServer

RUN_LABEL = "org.tiktok-runner.run"
URL = "http://127.0.0.1:9/clip.mp4"


# -- no daemon ----------------------------------------------------------------------------------
def test_container_config_is_locked_down(tmp_path):
    fx = DockerFetch(client=None, image="localhost/tiktok-runner/fetch:1", run_id="cfg-test")
    kw = fx.container_config(tmp_path, "bridge")
    assert kw["image"] == "localhost/tiktok-runner/fetch:1"
    assert kw["command"] == ["python", "-m", "runner.download.core"]
    assert kw["network_mode"] == "bridge" and kw["read_only"] is True
    assert kw["cap_drop"] == ["ALL"] and kw["security_opt"] == ["no-new-privileges"]
    assert kw["init"] is True
    user = kw["user"].split(":")
    assert user[0] not in ("0", "root") and user[1:] != ["0"]
    assert kw["mem_limit"] == kw["memswap_limit"] and 0 < kw["pids_limit"] <= 1024 and kw["nano_cpus"] > 0
    assert set(kw["tmpfs"]) == {"/tmp"} and "noexec" in kw["tmpfs"]["/tmp"]
    assert "privileged" not in kw and "devices" not in kw and "cap_add" not in kw
    root = tmp_path.resolve()
    assert kw["volumes"] == {str(root / "in"): {"bind": "/in", "mode": "ro"},
                             str(root / "out"): {"bind": "/out", "mode": "rw"}}
    assert [v for v in kw["volumes"].values() if v["mode"] != "ro"] == [{"bind": "/out", "mode": "rw"}]
    assert not any("docker.sock" in src for src in kw["volumes"])
    assert kw["labels"]["org.tiktok-runner.project"] == "tiktok-sandbox-runner"
    assert kw["labels"][RUN_LABEL] == "cfg-test" and kw["labels"]["org.tiktok-runner.role"] == "fetch"
    assert "API_TOKEN" not in str(kw["environment"])
    assert fx.container_config(tmp_path, "host")["network_mode"] == "host"


def test_network_and_timeout_are_settings():
    assert ApiSettings().fetch_network == "bridge"
    s = from_env({"RUNNER_FETCH_NETWORK": "host", "RUNNER_FETCH_TIMEOUT_S": "30"})
    assert (s.fetch_network, s.fetch_timeout_s) == ("host", 30)


def test_local_downloads_in_process():
    assert fetcher_for("local", Settings.from_env()) is _attempt


def _out(tmp_path: Path) -> tuple[Path, Path]:
    out, cache = tmp_path / "out", tmp_path / "cache"
    out.mkdir()
    cache.mkdir()
    return out, cache


def test_reader_takes_a_regular_file(tmp_path):
    out, cache = _out(tmp_path)
    (out / "video.mp4").write_bytes(b"x" * 100)
    got = take_video(out, "video.mp4", cache, "tiktok-1", 1000, URL)
    assert got == cache / "tiktok-1.mp4" and got.read_bytes() == b"x" * 100
    assert [p.name for p in cache.iterdir()] == ["tiktok-1.mp4"]


@pytest.mark.parametrize("plant", ["symlink", "hardlink", "fifo", "oversized", "empty", "bad_name"])
def test_reader_drops_what_is_not_a_plain_file(tmp_path, plant):
    out, cache = _out(tmp_path)
    canary = tmp_path / "canary"
    canary.write_bytes(b"secret")
    name = "video.mp4"
    if plant == "symlink":
        (out / name).symlink_to(canary)
    elif plant == "hardlink":
        os.link(canary, out / name)
    elif plant == "fifo":
        os.mkfifo(out / name)
    elif plant == "oversized":
        (out / name).write_bytes(b"x" * 2000)
    elif plant == "empty":
        (out / name).write_bytes(b"")
    else:
        (out / "video.mp4").write_bytes(b"x")
        name = "../canary"
    with pytest.raises(DownloadError) as err:
        take_video(out, name, cache, "tiktok-1", 1000, URL)
    assert err.value.kind == ("refused" if plant == "oversized" else "network")
    assert list(cache.iterdir()) == []
    assert canary.read_bytes() == b"secret"


@pytest.mark.parametrize("plant", ["symlink", "fifo", "huge", "garbage", "list"])
def test_result_json_is_read_as_capped_data(tmp_path, plant):
    out, _ = _out(tmp_path)
    secret = tmp_path / "secret.json"
    secret.write_text('{"status": "ok", "key": "tiktok-1", "file": "video.mp4"}')
    target = out / "result.json"
    if plant == "symlink":
        target.symlink_to(secret)
    elif plant == "fifo":
        os.mkfifo(target)
    elif plant == "huge":
        target.write_text('{"status": "ok", "pad": "' + "x" * (1 << 20) + '"}')
    elif plant == "garbage":
        target.write_bytes(b"\xff\x00not json")
    else:
        target.write_text("[1, 2]")
    with pytest.raises(DownloadError) as err:
        read_result(out, URL)
    assert err.value.kind == "network"


def test_cache_keys_from_the_sandbox_are_checked():
    assert checked_key(URL, "tiktok-7301234567890123456") == "tiktok-7301234567890123456"
    assert checked_key(URL, "generic-0000000000") == generic_key(URL)  # recomputed on the host
    for bad in ("../../etc/passwd", "", "A" * 200, None, 7, "tiktok-1/x"):
        with pytest.raises(DownloadError):
            checked_key(URL, bad)


# -- with a daemon ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client():
    return connect_or_need()


@pytest.fixture(scope="module")
def fetch_image(client) -> str:
    from runner.download.image import build_fetch, fetch_status_with, fetch_tag

    return sandbox_image(client, fetch_status_with, build_fetch, fetch_tag)


def test_the_image_runs_the_locked_yt_dlp(client, fetch_image):
    """The fetch image's yt-dlp is the lock's (requirements/api.lock), whatever the host installed."""
    out = client.containers.run(fetch_image, ["python", "-c", "import yt_dlp.version as v; print(v.__version__)"],
                                network_mode="none", remove=True)
    assert out.decode().strip() == ytdlp_pin().version
    assert client.images.get(fetch_image).labels["org.tiktok-runner.yt-dlp"] == ytdlp_pin().version


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory) -> bytes:
    return media.testsrc(tmp_path_factory.mktemp("dl") / "clip.mp4", seconds=2).read_bytes()


@pytest.fixture
def options(tmp_path) -> ApiSettings:
    return ApiSettings(allow_private_urls=True, download_cache=tmp_path / "cache", download_backoff_s=0.05,
                       download_attempts=2, fetch_network="host", fetch_timeout_s=120)


@pytest.fixture
def fx(client, fetch_image):
    run_id = f"fetch-test-{uuid.uuid4().hex[:8]}"
    f = DockerFetch(client, fetch_image, run_id=run_id)
    yield f
    left = client.containers.list(all=True, filters={"label": f"{RUN_LABEL}={run_id}"}, ignore_removed=True)
    assert left == [], "every download sandbox is removed"


def _scratch_left(options: ApiSettings) -> list[str]:
    return [p.name for p in options.download_cache.iterdir() if p.name.startswith((".fetch-", ".tmp-"))]


def test_downloads_through_the_sandbox_then_hits_the_cache(fx, clip_bytes, options):
    notes: list[str] = []
    with LoopbackServer({"/clip.mp4": clip_bytes}) as srv:
        path = download_via(fx, srv.url("/clip.mp4"), None, progress=notes.append, options=options)
        assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(clip_bytes).digest()
        assert path.parent == options.download_cache and path.name == generic_key(srv.url("/clip.mp4")) + ".mp4"
        assert os.stat(path).st_nlink == 1
        assert any("sandbox" in n for n in notes)
        seen = len(srv.requests)
        again = download_via(fx, srv.url("/clip.mp4"), None, progress=notes.append, options=options)
        assert again == path
        assert any("cache hit" in n for n in notes)
        assert len(srv.requests) <= seen + 1  # the sandbox saw the key in the cache: no second download
    assert _scratch_left(options) == []


def test_same_file_as_in_process(fx, clip_bytes, options, tmp_path):
    with LoopbackServer({"/clip.mp4": clip_bytes}) as srv:
        boxed = download_via(fx, srv.url("/clip.mp4"), None, options=options)
        local = download(srv.url("/clip.mp4"), None, options=options.with_(download_cache=tmp_path / "local"))
    assert boxed.read_bytes() == local.read_bytes() and boxed.name == local.name


def test_not_found_is_a_download_error_and_not_retried(fx, options):
    with LoopbackServer({}) as srv:
        with pytest.raises(DownloadError) as err:
            download_via(fx, srv.url("/gone.mp4"), None, options=options.with_(download_attempts=3))
    assert err.value.kind == "not_found"
    assert len(srv.requests) <= 2  # one attempt (yt-dlp may HEAD and GET)
    assert _scratch_left(options) == []


def test_too_large_is_refused(fx, clip_bytes, options):
    with LoopbackServer({"/clip.mp4": clip_bytes}) as srv:
        with pytest.raises(DownloadError) as err:
            download_via(fx, srv.url("/clip.mp4"), None, options=options.with_(download_max_bytes=1000))
    assert err.value.kind == "refused"
    assert [p for p in options.download_cache.iterdir()] == []


def test_hls_playlist_naming_a_host_file_brings_nothing_of_the_host(fx, options, tmp_path):
    secret = tmp_path / "secret.ts"
    marker = b"HOST-SECRET-" + uuid.uuid4().hex.encode()
    secret.write_bytes(b"G" + marker * 2000)
    playlist = (f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nfile://{secret}\n"
                f"#EXT-X-ENDLIST\n").encode()
    with LoopbackServer({"/clip.mp4": playlist, "/clip.m3u8": playlist}) as srv:
        for path in ("/clip.mp4", "/clip.m3u8"):
            try:
                got = download_via(fx, srv.url(path), None, options=options)
            except DownloadError:
                continue
            assert marker not in got.read_bytes()  # a playlist file at most: admission refuses it
    for p in options.download_cache.rglob("*"):
        assert not p.is_symlink()
        if p.is_file():
            assert marker not in p.read_bytes()


def test_docker_backend_chooses_the_sandbox(client, fetch_image):
    got = fetcher_for("docker", Settings.from_env())
    assert isinstance(got, DockerFetch) and got.image == fetch_image


def test_a_missing_network_is_a_clear_error(fx, clip_bytes, options):
    from runner.errors import BackendUnavailable

    with LoopbackServer({"/clip.mp4": clip_bytes}) as srv:
        with pytest.raises(BackendUnavailable) as err:
            download_via(fx, srv.url("/clip.mp4"), None, options=options.with_(fetch_network="no-such-net-x"))
    assert "RUNNER_FETCH_NETWORK" in (err.value.fix or "")


class _NoImageClient:
    class images:  # noqa: N801 - the SDK's shape
        @staticmethod
        def get(tag):
            import docker.errors

            raise docker.errors.ImageNotFound(f"no such image: {tag}")


class _Backend:
    def __init__(self, name):
        self.name, self.client = name, _NoImageClient()


def test_auto_without_the_image_warns_and_downloads_in_process():
    from runner.errors import BackendUnavailable

    notes: list[str] = []
    assert fetcher_for(_Backend("auto"), Settings.from_env(), notice=notes.append) is _attempt
    assert len(notes) == 1 and "not in a sandbox" in notes[0] and "runner images build fetch" in notes[0]
    with pytest.raises(BackendUnavailable) as err:
        fetcher_for(_Backend("docker"), Settings.from_env())
    assert "runner images build fetch" in (err.value.fix or "")
