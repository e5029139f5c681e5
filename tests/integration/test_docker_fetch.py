"""The download sandbox: yt-dlp runs in a locked-down container with no network; an egress proxy
container is its only way out and reaches public addresses only (issue 23).

Without a daemon: the two container configs, the host-side reader of the sandbox's ``out/`` folder
(a symlink, a hardlink, a FIFO or an oversized file is never taken), the cache key the host derives
from the URL (a compromised sandbox's answer picks no entry and overwrites none) and the backend
choice. With a daemon and the fetch image (``runner images build fetch``; built here from the cpu
base when missing, about 30 s): the egress proxy refuses 127.0.0.1, a private address of this host
and 169.254.169.254 while a public-looking address passes its check; real downloads from a loopback
HTTP server through the sandbox, allowed only by the code-only test allowance
(``fetch_private_for_tests``); a 404; the cache; an upstream proxy chained by the egress proxy; an
attempt killed by the runner's clock; and an HLS playlist naming a host file, whose bytes never reach
the host.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import time
import uuid
from pathlib import Path

import pytest

from runner.core.download_config import DownloadSettings, download_from
from runner.download.docker_fetch import SOCKET, DockerFetch, read_result, take_video
from runner.core.config import Settings
from runner.download.fetch import download_via, in_process, url_key
from runner.core.errors import DownloadError
from runner.download.core import generic_key
from runner.images.runner_images import FETCH
from runner.placement import place
from tests import media
from tests.docker_sandboxes import connect_or_need, sandbox_image
from tests.integration.test_download import LoopbackServer, _ProxyHandler

RUN_LABEL = "org.tiktok-runner.run"
URL = "http://127.0.0.1:9/clip.mp4"
VICTIM = "https://www.tiktok.com/@victim/video/7301234567890123456"


# -- no daemon ----------------------------------------------------------------------------------
def _locked(kw: dict) -> None:
    assert kw["image"] == "localhost/tiktok-runner/fetch:2" and kw["read_only"] is True
    assert kw["cap_drop"] == ["ALL"] and kw["security_opt"] == ["no-new-privileges"] and kw["init"] is True
    user = kw["user"].split(":")
    assert user[0] not in ("0", "root") and user[1:] != ["0"]
    assert kw["mem_limit"] == kw["memswap_limit"] and 0 < kw["pids_limit"] <= 1024 and kw["nano_cpus"] > 0
    assert set(kw["tmpfs"]) == {"/tmp"} and "noexec" in kw["tmpfs"]["/tmp"]
    assert "privileged" not in kw and "devices" not in kw and "cap_add" not in kw
    assert not any("docker.sock" in src for src in kw["volumes"])
    assert kw["labels"]["org.tiktok-runner.project"] == "tiktok-sandbox-runner"
    assert kw["labels"][RUN_LABEL] == "cfg-test" and kw["labels"]["org.tiktok-runner.role"] == "fetch"
    assert "API_TOKEN" not in str(kw["environment"]) and "PROXY" not in str(kw["environment"]).upper()


def test_container_configs_are_locked_down(tmp_path):
    fx = DockerFetch(client=None, image="localhost/tiktok-runner/fetch:2", run_id="cfg-test")
    root = tmp_path.resolve()
    ytdlp = fx.container_config(tmp_path)
    _locked(ytdlp)
    assert ytdlp["command"] == ["python", "-m", "runner.download.core"]
    assert ytdlp["network_mode"] == "none"          # yt-dlp has no network: the proxy's socket is its door
    assert ytdlp["volumes"] == {str(root / "in"): {"bind": "/in", "mode": "ro"},
                                str(root / "egress"): {"bind": "/egress", "mode": "ro"},
                                str(root / "out"): {"bind": "/out", "mode": "rw"}}
    proxy = fx.egress_config(tmp_path, "bridge")
    _locked(proxy)
    assert proxy["command"] == ["python", "-m", "runner.download.egress", "/px/config.json"]
    assert proxy["network_mode"] == "bridge" and fx.egress_config(tmp_path, "host")["network_mode"] == "host"
    assert proxy["volumes"] == {str(root / "px"): {"bind": "/px", "mode": "ro"},
                                str(root / "egress"): {"bind": "/egress", "mode": "rw"}}


def test_network_and_timeout_are_settings():
    assert DownloadSettings().fetch_network == "bridge"
    s = download_from({"RUNNER_FETCH_NETWORK": "host", "RUNNER_FETCH_TIMEOUT_S": "30"})
    assert (s.fetch_network, s.fetch_timeout_s) == ("host", 30)


def test_local_downloads_in_process():
    assert place(Settings.from_env(), "local").fetcher() is in_process


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


def test_the_host_derives_the_key_from_the_url_it_asked_for():
    assert url_key(VICTIM) == "tiktok-7301234567890123456"
    assert url_key("https://m.tiktok.com/v/7301234567890123456.html") == "tiktok-7301234567890123456"
    assert url_key("https://cdn.example/clip.mp4") == generic_key("https://cdn.example/clip.mp4")
    assert url_key("https://cdn.example/clip.mp4?a=1") != url_key("https://cdn.example/clip.mp4?a=2")


def test_an_entry_is_never_overwritten(tmp_path):
    out, cache = _out(tmp_path)
    (cache / "tiktok-1.mp4").write_bytes(b"first")
    (out / "video.mp4").write_bytes(b"second, later")
    got = take_video(out, "video.mp4", cache, "tiktok-1", 1000, URL)
    assert got == cache / "tiktok-1.mp4" and got.read_bytes() == b"first"
    assert sorted(p.name for p in cache.iterdir()) == ["tiktok-1.mp4"]   # no temp file left


class _CompromisedSandbox(DockerFetch):
    """The host's real attempt (request, result reading, cache) around a sandbox that lies: it
    writes ``answer`` as result.json and the attacker's bytes as the video."""

    def __init__(self, answer: dict, payload: bytes):
        super().__init__(client=None, image="localhost/tiktok-runner/fetch:2", run_id="liar")
        self.answer, self.payload, self.seen = answer, payload, {}

    def check_image(self) -> None:
        pass

    def _run(self, scratch: Path, opts, url: str) -> None:
        self.seen = {p.relative_to(scratch).as_posix(): p.read_bytes() for p in scratch.rglob("*") if p.is_file()}
        (scratch / "out" / "video.mp4").write_bytes(self.payload)
        (scratch / "out" / "result.json").write_text(json.dumps(self.answer))


@pytest.mark.parametrize("answer", [
    {"status": "ok", "key": "tiktok-7301234567890123456", "file": "video.mp4"},   # the replacement
    {"status": "cached", "key": "tiktok-7301234567890123456"},                    # point the job at it
])
def test_a_compromised_sandbox_cannot_replace_or_point_at_another_videos_entry(tmp_path, answer):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / f"{url_key(VICTIM)}.mp4").write_bytes(b"the victim's video")
    opts = DownloadSettings(download_cache=cache)
    liar = _CompromisedSandbox(answer, b"the attacker's bytes")
    attacker = "https://cdn.example/attack.mp4"
    try:   # one attempt, as download_via makes it (its proxy from RUNNER_PROXIES)
        got = liar(attacker, opts, "http://user:s3cret@10.0.0.7:3128", 1, lambda _s: None)
    except DownloadError:
        got = None
    assert (cache / f"{url_key(VICTIM)}.mp4").read_bytes() == b"the victim's video"
    if answer["status"] == "ok":
        assert got == cache / f"{url_key(attacker)}.mp4" and got.read_bytes() == b"the attacker's bytes"
    else:
        assert got is None      # "cached" is not an answer the host takes
    # what went in: the URL and the cap; no key list, no proxy credential (those are the proxy's)
    request = json.loads(liar.seen["in/request.json"])
    assert set(request) == {"url", "max_bytes", "egress_socket"} and request["url"] == attacker
    assert not any(b"s3cret" in data for name, data in liar.seen.items() if not name.startswith("px/"))
    assert json.loads(liar.seen["px/config.json"])["upstream"] == "http://user:s3cret@10.0.0.7:3128"
    assert json.loads(liar.seen["px/config.json"])["allow_private"] is False


def test_the_per_destination_check_refuses_any_non_public_answer():
    """Every address a name resolves to must be public (one private answer among public ones is a
    rebinding attempt); the proxy connects only to addresses it checked."""
    from runner.download.egress import Refusal, checked_addresses

    def resolver(answers):
        return lambda host, port, type=None: [(socket.AF_INET6 if ":" in a else socket.AF_INET, type, 6, "",
                                               (a, port)) for a in answers]

    assert checked_addresses("cdn.example", 443, False, resolver(["93.184.215.14"])) == \
        [(socket.AF_INET, ("93.184.215.14", 443))]
    for answers in (["93.184.215.14", "127.0.0.1"], ["169.254.169.254"], ["10.1.2.3"], ["::1"], ["fd00::1"],
                    ["::ffff:192.168.1.1"], ["100.64.0.1"], ["224.0.0.1"], ["0.0.0.0"]):
        with pytest.raises(Refusal) as err:
            checked_addresses("rebind.example", 443, False, resolver(answers))
        assert err.value.status == 403, answers
    assert checked_addresses("x", 80, True, resolver(["127.0.0.1"]))       # the test allowance
    with pytest.raises(Refusal):
        checked_addresses("x", 0, False, resolver(["93.184.215.14"]))


def test_the_test_allowance_is_not_an_environment_setting():
    """Only code that builds the settings itself can let the egress proxy reach a private address."""
    env = {k: "1" for k in ("RUNNER_ALLOW_PRIVATE_URLS", "RUNNER_FETCH_PRIVATE_FOR_TESTS", "FETCH_PRIVATE_FOR_TESTS")}
    assert download_from(env).fetch_private_for_tests is False
    assert Settings.from_env(env).download.fetch_private_for_tests is False
    assert DownloadSettings().fetch_private_for_tests is False


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


# -- with a daemon ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client():
    return connect_or_need()


@pytest.fixture(scope="module")
def fetch_image(client) -> str:
    return sandbox_image(client, FETCH)


def test_the_image_runs_the_locked_yt_dlp(client, fetch_image):
    """The fetch image's yt-dlp is the lock's (requirements/api.lock), whatever the host installed."""
    out = client.containers.run(fetch_image, ["python", "-c", "import yt_dlp.version as v; print(v.__version__)"],
                                network_mode="none", remove=True)
    assert out.decode().strip() == FETCH.pinned()[0].version
    assert client.images.get(fetch_image).labels["org.tiktok-runner.yt-dlp"] == FETCH.pinned()[0].version


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory) -> bytes:
    return media.testsrc(tmp_path_factory.mktemp("dl") / "clip.mp4", seconds=2).read_bytes()


@pytest.fixture
def options(tmp_path) -> DownloadSettings:
    """Downloads from a loopback origin: the host's own check lifted (``allow_private_urls``) and the
    egress proxy let through by the code-only test allowance, on network ``host`` (no bridge here)."""
    return DownloadSettings(allow_private_urls=True, download_cache=tmp_path / "cache", download_backoff_s=0.05,
                            download_attempts=2, fetch_network="host", fetch_timeout_s=120, fetch_private_for_tests=True)


@pytest.fixture
def fx(client, fetch_image):
    run_id = f"fetch-test-{uuid.uuid4().hex[:8]}"
    f = DockerFetch(client, fetch_image, run_id=run_id)
    yield f
    left = client.containers.list(all=True, filters={"label": f"{RUN_LABEL}={run_id}"}, ignore_removed=True)
    assert left == [], "every download sandbox is removed"


def _scratch_left(options: DownloadSettings) -> list[str]:
    return [p.name for p in options.download_cache.iterdir() if p.name.startswith((".fetch-", ".tmp-"))]


# -- the egress proxy on the real daemon ----------------------------------------------------------
_ASK = r"""
import json, socket, sys
out = []
for line in sys.argv[1:]:
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(60)
    s.connect("/egress/proxy.sock")
    s.sendall(line.encode() + b"\r\nHost: x\r\n\r\n")
    data = b""
    while b"\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    out.append([line, data.split(b"\r\n", 1)[0].decode(errors="replace")])
    s.close()
try:   # the sandbox's own network: none
    socket.create_connection(("1.1.1.1", 443), timeout=5)
    out.append(["direct", "connected"])
except OSError as exc:
    out.append(["direct", type(exc).__name__ + ": " + str(exc)])
print(json.dumps(out))
"""


class _Listener:
    """A TCP listener on ``host`` that counts the connections it accepts."""

    def __init__(self, host: str):
        import threading

        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(8)
        self.port, self.accepted = self.sock.getsockname()[1], 0
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()


def _private_address_of_this_host() -> str | None:
    """This host's own non-loopback IPv4 when it is not public (a LAN, a cloud VPC, a test net)."""
    from runner.download.net_safety import is_public

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("1.1.1.1", 53))      # UDP: nothing is sent, the kernel picks the source address
            addr = s.getsockname()[0]
        except OSError:
            return None
    return addr if not addr.startswith("127.") and not is_public(addr) else None


def _through_egress(client, fetch_image, tmp_path, lines: list[str], private_for_tests: bool = False):
    """Start the real egress proxy (network host) for a scratch folder, then a container built from
    the yt-dlp sandbox's own config that sends each request line through the socket."""
    fx = DockerFetch(client, fetch_image, run_id=f"egress-test-{uuid.uuid4().hex[:8]}")
    scratch = tmp_path / f"scratch-{uuid.uuid4().hex[:6]}"
    scratch.mkdir(mode=0o700)
    fx._prepare(scratch, "http://unused/", DownloadSettings(download_cache=tmp_path,
                                                             fetch_private_for_tests=private_for_tests), None)
    proxy = fx.box.create(fx.egress_config(scratch, "host"))
    asker = None
    try:
        proxy.start()
        assert fx._wait_for_socket(proxy, scratch / "egress" / SOCKET) == "", proxy.logs()[-2000:]
        kw = fx.container_config(scratch)
        kw["command"] = ["python", "-c", _ASK, *lines]
        asker = fx.box.create(kw)
        asker.start()
        asker.wait(timeout=300)
        answers = json.loads(asker.logs(stdout=True, stderr=False).decode().strip().splitlines()[-1])
        return dict(answers), proxy.logs().decode(errors="replace")
    finally:
        for c in (asker, proxy):
            if c is not None:
                c.remove(force=True)


def test_the_egress_proxy_reaches_public_addresses_only(client, fetch_image, tmp_path):
    """127.0.0.1, a private address of this host, 169.254.169.254 (and names and IPv6 forms of them)
    are refused before any connection; a public-looking address passes the check (then 502 here, no
    route out, or 200 where there is one); the yt-dlp container itself reaches nothing directly."""
    loop = _Listener("127.0.0.1")
    lan_ip = _private_address_of_this_host()
    lan = _Listener("0.0.0.0")
    lan_target = f"{lan_ip}:{lan.port}" if lan_ip else "10.255.255.1:80"
    refused = [f"CONNECT 127.0.0.1:{loop.port} HTTP/1.1", f"GET http://127.0.0.1:{loop.port}/x HTTP/1.1",
               f"CONNECT localhost:{loop.port} HTTP/1.1", f"CONNECT [::1]:{loop.port} HTTP/1.1",
               f"CONNECT {lan_target} HTTP/1.1", f"GET http://{lan_target}/x HTTP/1.1",
               "GET http://169.254.169.254/latest/meta-data/ HTTP/1.1", "CONNECT 169.254.169.254:80 HTTP/1.1",
               "CONNECT 10.0.0.1:443 HTTP/1.1", "CONNECT [::ffff:127.0.0.1]:80 HTTP/1.1", "CONNECT 0.0.0.0:80 HTTP/1.1"]
    public = "CONNECT 1.1.1.1:443 HTTP/1.1"
    answers, log = _through_egress(client, fetch_image, tmp_path, [*refused, public])
    for line in refused:
        assert answers[line].startswith("HTTP/1.1 403 Refused by egress policy"), (line, answers[line], log)
    assert loop.accepted == 0 and lan.accepted == 0, "a refused destination was connected to"
    assert answers[public].split()[1] in ("200", "502"), (answers[public], log)   # passed the check
    assert "refuse (403)" in log and "1.1.1.1" not in "".join(ln for ln in log.splitlines() if "refuse" in ln)
    assert answers["direct"].startswith("OSError") and "connected" not in answers["direct"], answers["direct"]


def test_only_the_code_only_test_allowance_opens_loopback(client, fetch_image, tmp_path):
    loop = _Listener("127.0.0.1")
    line = f"CONNECT 127.0.0.1:{loop.port} HTTP/1.1"
    answers, _ = _through_egress(client, fetch_image, tmp_path, [line], private_for_tests=True)
    assert answers[line].startswith("HTTP/1.1 200") and loop.accepted == 1


def test_a_loopback_url_is_refused_even_with_the_hosts_own_check_lifted(fx, clip_bytes, options):
    """RUNNER_ALLOW_PRIVATE_URLS=1 lifts the host's check of the page host; the egress proxy still
    refuses: without the code-only allowance the sandbox cannot reach 127.0.0.1."""
    with LoopbackServer({"/clip.mp4": clip_bytes}) as srv:
        with pytest.raises(DownloadError) as err:
            download_via(fx, srv.url("/clip.mp4"),
                         options=options.with_(fetch_private_for_tests=False, download_attempts=3))
    assert err.value.kind == "refused", err.value.message
    assert srv.requests == []
    assert list(options.download_cache.glob("*.mp4")) == []


def test_an_upstream_proxy_is_chained_by_the_egress_proxy(fx, clip_bytes, options):
    """RUNNER_PROXIES reaches the egress proxy only: it carries the download through the upstream."""
    with LoopbackServer({"/clip.mp4": clip_bytes}) as origin, LoopbackServer({}, handler=_ProxyHandler) as up:
        path = download_via(fx, origin.url("/clip.mp4"),
                            options=options.with_(proxies=(f"http://user:pw@127.0.0.1:{up.port}",)))
    assert path.read_bytes() == clip_bytes
    assert origin.url("/clip.mp4") in up.requests       # the upstream carried it


def test_downloads_through_the_sandbox_then_hits_the_cache(fx, clip_bytes, options):
    notes: list[str] = []
    with LoopbackServer({"/clip.mp4": clip_bytes}) as srv:
        path = download_via(fx, srv.url("/clip.mp4"), progress=notes.append, options=options)
        assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(clip_bytes).digest()
        assert path.parent == options.download_cache and path.name == generic_key(srv.url("/clip.mp4")) + ".mp4"
        assert os.stat(path).st_nlink == 1
        assert any("sandbox" in n for n in notes)
        seen = len(srv.requests)
        again = download_via(fx, srv.url("/clip.mp4"), progress=notes.append, options=options)
        assert again == path
        assert any("cache hit" in n for n in notes)
        assert len(srv.requests) == seen  # the host knows the key from the URL: no sandbox, no request
    assert _scratch_left(options) == []


def test_same_file_as_in_process(fx, clip_bytes, options, tmp_path):
    with LoopbackServer({"/clip.mp4": clip_bytes}) as srv:
        boxed = download_via(fx, srv.url("/clip.mp4"), options=options)
        local = download_via(in_process, srv.url("/clip.mp4"), options=options.with_(download_cache=tmp_path / "local"))
    assert boxed.read_bytes() == local.read_bytes() and boxed.name == local.name


def test_not_found_is_a_download_error_and_not_retried(fx, options):
    with LoopbackServer({}) as srv:
        with pytest.raises(DownloadError) as err:
            download_via(fx, srv.url("/gone.mp4"), options=options.with_(download_attempts=3))
    assert err.value.kind == "not_found"
    assert len(srv.requests) <= 2  # one attempt (yt-dlp may HEAD and GET)
    assert _scratch_left(options) == []


def test_too_large_is_refused(fx, clip_bytes, options):
    with LoopbackServer({"/clip.mp4": clip_bytes}) as srv:
        with pytest.raises(DownloadError) as err:
            download_via(fx, srv.url("/clip.mp4"), options=options.with_(download_max_bytes=1000))
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
                got = download_via(fx, srv.url(path), options=options)
            except DownloadError:
                continue
            assert marker not in got.read_bytes()  # a playlist file at most: admission refuses it
    for p in options.download_cache.rglob("*"):
        assert not p.is_symlink()
        if p.is_file():
            assert marker not in p.read_bytes()


def test_docker_backend_chooses_the_sandbox(client, fetch_image):
    got = place(Settings.from_env(), "docker", client=client).fetcher()
    assert isinstance(got, DockerFetch) and got.image == fetch_image


def test_a_missing_network_is_a_clear_error(fx, clip_bytes, options):
    from runner.core.errors import BackendUnavailable

    with LoopbackServer({"/clip.mp4": clip_bytes}) as srv:
        with pytest.raises(BackendUnavailable) as err:
            download_via(fx, srv.url("/clip.mp4"), options=options.with_(fetch_network="no-such-net-x"))
    assert "RUNNER_FETCH_NETWORK" in (err.value.fix or "")


class _NoImageClient:
    class images:  # noqa: N801 - the SDK's shape
        @staticmethod
        def get(tag):
            import docker.errors

            raise docker.errors.ImageNotFound(f"no such image: {tag}")


def test_auto_without_the_image_warns_and_downloads_in_process():
    from runner.core.errors import BackendUnavailable

    notes: list[str] = []
    assert place(Settings.from_env(), "auto", notes.append, client=_NoImageClient()).fetcher() is in_process
    assert len(notes) == 1 and "NOT a sandbox" in notes[0] and "runner images build fetch" in notes[0]
    assert "fell back to the local backend for URL downloads" in notes[0]
    with pytest.raises(BackendUnavailable) as err:
        place(Settings.from_env(), "docker", client=_NoImageClient()).fetcher()
    assert "runner images build fetch" in (err.value.fix or "")


def test_an_attempt_that_outlives_its_clock_is_killed(fx, options):
    """An origin that accepts and never answers: the runner's clock (RUNNER_FETCH_TIMEOUT_S) kills the
    yt-dlp container; a transient network error, both containers removed (the fx fixture checks)."""
    import threading

    held: list = []
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)

    def hold():
        while True:
            try:
                held.append(srv.accept()[0])  # kept open, never answered
            except OSError:
                return

    threading.Thread(target=hold, daemon=True).start()
    options.download_cache.mkdir(parents=True)  # download_via makes it; one attempt is called directly here
    t0 = time.monotonic()
    try:
        with pytest.raises(DownloadError) as err:
            fx(f"http://127.0.0.1:{srv.getsockname()[1]}/clip.mp4", options.with_(fetch_timeout_s=6), None, 1,
               lambda _: None)
    finally:
        srv.close()
        for c in held:
            c.close()
    assert err.value.kind == "network" and "killed after 6s" in err.value.message, err.value.message
    assert held, "yt-dlp reached the origin through the egress proxy before the clock ran out"
    assert time.monotonic() - t0 < 60
    assert _scratch_left(options) == []
