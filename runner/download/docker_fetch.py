"""URL downloads in a locked-down container: the docker side of :mod:`runner.download.fetch`.

The process that can start containers parses no page: each download attempt runs yt-dlp (page
parsing, format choice, the HTTP fetch; :mod:`runner.download.core`) in its own container of the
fetch image (``<prefix>/fetch:2``, ``images/Dockerfile.fetch``) with the analyzers' lockdown:
read-only root, tmpfs ``/tmp``, a non-root user, no capabilities, no new privileges, memory
(= memory + swap), CPU and pids limits, tini as init, created and started (never pulled), and
network ``none``. Its only way out is the egress proxy (:mod:`runner.download.egress`), a second
container of the same image and lockdown on ``RUNNER_FETCH_NETWORK`` (default ``bridge``; ``host``
on a daemon without a bridge), reached through a unix socket in a folder both mount: the proxy
connects to public addresses only, checked per destination, and holds the attempt's upstream proxy
and its credentials. Neither needs a Docker bridge or iptables, so CI's daemon
(``--bridge=none --iptables=false``) runs the same design.

Mounts of the yt-dlp container: a fresh scratch folder's ``in/`` read-only at ``/in``
(``request.json``: the URL and the size cap; a copy of the cookies file when one is configured),
its ``egress/`` read-only at ``/egress`` (the proxy's socket) and its ``out/`` read-write at ``/out``,
the only writable mount. The host reads ``out/result.json`` with :mod:`runner.core.outbox` (no links,
size cap) as data, takes the video only as a regular single-link file under
``RUNNER_DOWNLOAD_MAX_BYTES``, copied from its open fd, and files it under the key it derives from
the URL it asked for (never one the sandbox names; never over an existing entry). Retries, proxy
rotation and the cache stay on the host (:func:`runner.download.fetch.download_via` calls this once
per attempt).
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import stat
import time
from pathlib import Path
from typing import Callable

from runner.backends.docker import _retry, docker, requests
from runner.backends.oneshot import Boxed, OneShot, exited, final_state, lockdown, remove_quietly, run_out
from runner.backends.permissions import NOBODY, prepare_writable
from runner.core.errors import BackendUnavailable, DownloadError, UsageError
from runner.download.core import COOKIES, FIX, KINDS, REQUEST, RESULT, VIDEO_EXTS, too_large
from runner.images.runner_images import FETCH
from runner.core.outbox import OutboxError, copy_fd, load_json, open_regular, read_file

IN, OUT, TMP, EGRESS, PX = "/in", "/out", "/tmp", "/egress", "/px"
SOCKET = "proxy.sock"
PIDS = 128
MEMORY = 1 << 30
CPUS = 1.0
PROXY_MEMORY = 256 << 20        # the egress proxy: a thread per connection, a few MiB each
PROXY_PIDS = 64
PROXY_START_S = 30.0            # until its socket exists
RESULT_CAP = 64 * 1024          # result.json is a few hundred bytes
LOG_CAP = 8 * 1024              # the tail of the container's output kept for a crash message
POLL_S = 1.0
_FILE_RE = re.compile(r"^video\.[a-z0-9]{1,8}$")


class DockerFetch(Boxed):
    """A :class:`runner.download.fetch.Attempt` that runs each attempt in the download sandbox."""

    name = "docker"
    sandboxed = True

    def __init__(self, client, image: str, *, run_id: str = "fetch", pids: int = PIDS, memory: int = MEMORY):
        self.box = OneShot(client, image, role="fetch", what="URL downloads run in it on the docker backend",
                           fix=FETCH.fix, run_id=run_id)
        self.client = client
        self.image = image
        self.pids = pids
        self.memory = memory

    # -- the containers -------------------------------------------------------
    def container_config(self, scratch: Path) -> dict:
        """The keyword arguments of ``containers.create`` for yt-dlp's container (no I/O): network
        ``none``; the egress proxy's socket is its only door."""
        root = Path(scratch).resolve()
        return dict(image=self.image, command=["python", "-m", "runner.download.core"],
                    environment={"HOME": TMP, "TMPDIR": TMP, "LANG": "C.UTF-8", "PYTHONPATH": "/app"},
                    volumes={str(root / "in"): {"bind": IN, "mode": "ro"},
                             str(root / "egress"): {"bind": EGRESS, "mode": "ro"},
                             str(root / "out"): {"bind": OUT, "mode": "rw"}},
                    working_dir=TMP, name=self.box.name(), labels=self.box.labels("yt-dlp"),
                    **lockdown(memory=self.memory, cpus=CPUS, pids=self.pids, tmp_size=64 * 2**20, network="none"))

    def egress_config(self, scratch: Path, network: str) -> dict:
        """The egress proxy's container (no I/O): the one on a network, with no writable mount but
        its socket's folder; its config (upstream proxy, credentials) is read-only and its own."""
        root = Path(scratch).resolve()
        return dict(image=self.image, command=["python", "-m", "runner.download.egress", f"{PX}/config.json"],
                    environment={"HOME": TMP, "TMPDIR": TMP, "LANG": "C.UTF-8", "PYTHONPATH": "/app"},
                    volumes={str(root / "px"): {"bind": PX, "mode": "ro"},
                             str(root / "egress"): {"bind": EGRESS, "mode": "rw"}},
                    working_dir=TMP, name=self.box.name(), labels=self.box.labels("egress"),
                    **lockdown(memory=PROXY_MEMORY, cpus=0.5, pids=PROXY_PIDS, tmp_size=4 * 2**20, network=network))

    # -- one attempt ----------------------------------------------------------
    def __call__(self, url: str, opts, proxy: str | None, n: int, say: Callable[[str], None]) -> Path:
        from runner.download.fetch import check_cookies, redact, url_key

        self.check_image()
        via = f" via {redact(proxy)}" if proxy else ""
        say(f"download: attempt {n}{via} in the download sandbox: {url}")
        check_cookies(url, opts)
        check_upstream(proxy)
        cache = opts.download_cache
        scratch = cache / f".fetch-{secrets.token_hex(6)}"
        scratch.mkdir(mode=0o700)
        t0 = time.monotonic()
        try:
            self._prepare(scratch, url, opts, proxy)
            self._run(scratch, opts, url)
            doc = read_result(scratch / "out", url)
            status = doc.get("status")
            if status == "error":
                kind = doc.get("kind") if doc.get("kind") in KINDS else "network"
                message = str(doc.get("message") or "the download failed")[:400]
                if kind == "refused" and "larger than" in message:
                    raise too_large(url, opts.download_max_bytes)
                raise DownloadError(url, kind, message, fix=FIX.get(kind))
            if status != "ok":
                raise DownloadError(url, "network", f"the download sandbox wrote an unknown status {str(status)[:40]!r}")
            final = take_video(scratch / "out", str(doc.get("file") or ""), cache, url_key(url),
                               opts.download_max_bytes, url)
            say(f"download: {final.stat().st_size} bytes in {time.monotonic() - t0:.1f}s{via} "
                f"(sandbox) -> {final.name}")
            return final
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    @staticmethod
    def _prepare(scratch: Path, url: str, opts, proxy: str | None) -> None:
        """The attempt's folders: ``in/`` (request, cookies), ``px/`` (the proxy's config), and the
        sandbox-writable ``egress/`` and ``out/``. No cache key, no proxy credential goes in."""
        inbox, px = scratch / "in", scratch / "px"
        inbox.mkdir(mode=0o755)
        px.mkdir(mode=0o755)
        request = {"url": url, "max_bytes": opts.download_max_bytes, "egress_socket": f"{EGRESS}/{SOCKET}"}
        _write_private(inbox / REQUEST, json.dumps(request).encode())
        if opts.cookies_file is not None:
            _write_private(inbox / COOKIES, opts.cookies_file.read_bytes())
        config = {"socket": f"{EGRESS}/{SOCKET}", "upstream": proxy,
                  "allow_private": bool(getattr(opts, "fetch_private_for_tests", False))}
        _write_private(px / "config.json", json.dumps(config).encode())
        prepare_writable(scratch / "egress")
        prepare_writable(scratch / "out")

    def _run(self, scratch: Path, opts, url: str) -> None:
        """Start the egress proxy, then yt-dlp's container; wait on the runner's own clock; always
        remove both. A crash, a kill or an OOM is a transient ``network`` error (retried)."""
        proxy = self._create(self.egress_config(scratch, opts.fetch_network), url)
        fetch = None
        why = ""
        try:
            try:
                _retry(proxy.start)()
            except docker.errors.NotFound as exc:  # the daemon checks the network at start
                raise _no_network(exc) from None
            why = self._wait_for_socket(proxy, scratch / "egress" / SOCKET)
            if not why:
                fetch = self._create(self.container_config(scratch), url)
                _retry(fetch.start)()
                why = self._wait(fetch, opts)
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            why = f"lost the download sandbox to a docker error: {exc}"
        finally:
            for c in (fetch, proxy):
                if c is not None:
                    remove_quietly(c)
        if why:
            raise DownloadError(url, "network", why)

    def _create(self, kw: dict, url: str):
        try:
            return self.box.create(kw)
        except docker.errors.ImageNotFound:
            raise
        except docker.errors.NotFound as exc:  # e.g. the network does not exist
            raise _no_network(exc) from None
        except docker.errors.DockerException as exc:
            raise DownloadError(url, "network", f"docker could not create the download sandbox: {exc}") from None

    @staticmethod
    def _wait_for_socket(proxy, sock: Path) -> str:
        """``""`` once the proxy's socket exists (looked at with ``lstat``, never followed)."""
        deadline = time.monotonic() + PROXY_START_S
        while time.monotonic() < deadline:
            try:
                if stat.S_ISSOCK(os.lstat(sock).st_mode):
                    return ""
            except FileNotFoundError:
                pass
            if exited(proxy, 0.1):
                return "the egress proxy exited before it listened"
        return f"the egress proxy did not listen within {PROXY_START_S:.0f}s"

    def _wait(self, container, opts) -> str:
        """Wait on the runner's clock; what went wrong, or ``""``."""
        why = ""
        if run_out(container, opts.fetch_timeout_s, POLL_S):
            why = f"the download sandbox was killed after {opts.fetch_timeout_s}s"
        state = final_state(container)
        if not why and state.get("OOMKilled"):
            why = f"the download sandbox ran out of memory ({self.memory / 2**20:.0f} MiB)"
        elif not why and state.get("ExitCode") != 0:
            tail = b"".join(container.logs(stdout=True, stderr=True, tail=20))[-LOG_CAP:]
            last = tail.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            why = f"the download sandbox exited with code {state.get('ExitCode')}: {last[0][:300]}"
        return why


def _no_network(exc) -> BackendUnavailable:
    return BackendUnavailable("docker", f"the download sandbox could not start: {getattr(exc, 'explanation', None) or exc}",
                              fix="set RUNNER_FETCH_NETWORK to a docker network that reaches the site "
                                  "(docker network ls; host on a daemon without a bridge)")


def check_upstream(proxy: str | None) -> None:
    """The egress proxy chains to plain ``http://`` proxies only."""
    if proxy is not None and not proxy.lower().startswith("http://"):
        raise UsageError(f"RUNNER_PROXIES: {proxy.split('://', 1)[0]}:// proxies cannot be used by the download "
                         "sandbox's egress proxy", fix="give http://[user:pass@]host:port proxies, or download on "
                                                       "the local backend")


def _write_private(path: Path, data: bytes) -> None:
    """A runner-written file the sandbox user can read and nobody else (the scratch folder is 0700)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o400)
    try:
        os.write(fd, data)
        if os.geteuid() == 0:
            os.fchown(fd, NOBODY, NOBODY)
    finally:
        os.close(fd)


def read_result(out: Path, url: str) -> dict:
    """``out/result.json`` as a dict, read without following a link, under a cap, counted before it
    is parsed (:func:`runner.core.outbox.load_json`)."""
    try:
        doc = load_json(read_file(out / RESULT, RESULT_CAP), 1000, 8)
    except OutboxError as exc:
        if exc.why.startswith(("not JSON", "too large")):
            raise DownloadError(url, "network", f"the download sandbox wrote an unreadable {RESULT}") from None
        raise DownloadError(url, "network", f"the download sandbox left no usable {RESULT} ({exc.why})") from None
    if not isinstance(doc, dict):
        raise DownloadError(url, "network", f"the download sandbox wrote an unreadable {RESULT}")
    return doc


def take_video(out: Path, name: str, cache: Path, key: str, max_bytes: int, url: str) -> Path:
    """Copy ``out/<name>`` into the cache as ``<key><ext>`` from one fd opened without following a
    link, when it is a non-empty regular single-link file of at most ``max_bytes``. ``key`` is the
    host's (runner.download.fetch.url_key); an existing entry is never replaced (fetch.keep)."""
    from runner.download.fetch import keep

    if not _FILE_RE.match(name):
        raise DownloadError(url, "network", "the download sandbox named an invalid file")
    dfd = os.open(out, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        try:
            fd, st = open_regular(name, dfd, max_bytes)
        except OutboxError as exc:
            if "over the" in exc.why:
                raise too_large(url, max_bytes) from None
            raise DownloadError(url, "network", f"the downloaded file was not kept: {exc.why}") from None
    finally:
        os.close(dfd)
    try:
        if st.st_size == 0:
            raise DownloadError(url, "network", "the download sandbox wrote an empty file")
        ext = os.path.splitext(name)[1]
        ext = ext if ext in VIDEO_EXTS else ".mp4"
        tmp = cache / f".tmp-{secrets.token_hex(6)}{ext}"
        try:
            copy_fd(fd, tmp, max_bytes)
        except OutboxError:
            raise too_large(url, max_bytes) from None
        return keep(tmp, cache, key)  # atomic, and never over an existing entry
    finally:
        os.close(fd)
