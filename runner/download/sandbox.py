"""URL downloads in a locked-down container: the docker side of :mod:`runner.download.fetch`.

The process that can start containers parses no page: each download attempt runs yt-dlp (page
parsing, format choice, the HTTP fetch; :mod:`runner.download.core`) in its own container of the
fetch image (``<prefix>/fetch:1``, ``images/Dockerfile.fetch``) with the analyzers' lockdown:
read-only root, tmpfs ``/tmp``, a non-root user, no capabilities, no new privileges, memory
(= memory + swap), CPU and pids limits, tini as init, created and started (never pulled). Its
network is a setting (``RUNNER_FETCH_NETWORK``, default ``bridge``): it must reach the site.

Mounts: a fresh scratch folder's ``in/`` read-only at ``/in`` (``request.json``: the URL, this
attempt's proxy, the caps, the keys the download cache already holds; and a copy of the cookies
file when one is configured) and its ``out/`` read-write at ``/out``, the only writable mount.
The host reads ``out/result.json`` with :mod:`runner.outbox` (no links, size cap) as data, and
takes the video only as a regular single-link file under ``RUNNER_DOWNLOAD_MAX_BYTES``, copied
from its open fd into the download cache. Retries, proxy rotation and the cache stay on the host
(:func:`runner.download.fetch.download_via` calls this once per attempt).
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import Callable

from runner.backends.docker import _retry, docker, requests
from runner.backends.oneshot import OneShot, exited, kill, lockdown, remove_quietly
from runner.backends.sandbox_user import NOBODY, prepare_writable
from runner.errors import BackendUnavailable, DownloadError
from runner.download.core import COOKIES, FIX, KEY_RE, KINDS, REQUEST, RESULT, VIDEO_EXTS, generic_key, too_large
from runner.outbox import OutboxError, copy_fd, open_regular, read_file

IN, OUT, TMP = "/in", "/out", "/tmp"
PIDS = 128
MEMORY = 1 << 30
CPUS = 1.0
RESULT_CAP = 64 * 1024          # result.json is a few hundred bytes
LOG_CAP = 8 * 1024              # the tail of the container's output kept for a crash message
POLL_S = 1.0
FIX_IMAGE = "runner images build fetch (or: make images)"
_FILE_RE = re.compile(r"^video\.[a-z0-9]{1,8}$")


class DockerFetch:
    """A :class:`runner.download.fetch.Attempt` that runs each attempt in the download sandbox."""

    name = "docker"
    sandboxed = True

    def __init__(self, client, image: str, *, run_id: str = "fetch", pids: int = PIDS, memory: int = MEMORY):
        self.box = OneShot(client, image, role="fetch", what="URL downloads run in it on the docker backend",
                           fix=FIX_IMAGE, run_id=run_id)
        self.client = client
        self.image = image
        self.pids = pids
        self.memory = memory

    @property
    def run_id(self) -> str:
        return self.box.run_id

    @run_id.setter
    def run_id(self, value: str) -> None:
        self.box.run_id = value

    def check_image(self) -> None:
        """Raise :class:`BackendUnavailable` naming the fix when the fetch image is not built."""
        self.box.check_image()

    # -- the container --------------------------------------------------------
    def container_config(self, scratch: Path, network: str) -> dict:
        """The keyword arguments of ``containers.create`` for one attempt (no I/O)."""
        root = Path(scratch).resolve()
        return dict(image=self.image, command=["python", "-m", "runner.download.core"],
                    environment={"HOME": TMP, "TMPDIR": TMP, "LANG": "C.UTF-8", "PYTHONPATH": "/app"},
                    volumes={str(root / "in"): {"bind": IN, "mode": "ro"},
                             str(root / "out"): {"bind": OUT, "mode": "rw"}},
                    working_dir=TMP, name=self.box.name(), labels=self.box.labels("yt-dlp"),
                    **lockdown(memory=self.memory, cpus=CPUS, pids=self.pids, tmp_size=64 * 2**20, network=network))

    # -- one attempt ----------------------------------------------------------
    def __call__(self, url: str, opts, proxy: str | None, n: int, say: Callable[[str], None]) -> Path:
        from runner.download.fetch import cached, check_cookies, known_keys, redact

        self.check_image()
        via = f" via {redact(proxy)}" if proxy else ""
        say(f"download: attempt {n}{via} in the download sandbox: {url}")
        check_cookies(url, opts)
        cache = opts.download_cache
        scratch = cache / f".fetch-{secrets.token_hex(6)}"
        scratch.mkdir(mode=0o700)
        t0 = time.monotonic()
        try:
            inbox = scratch / "in"
            inbox.mkdir(mode=0o755)
            request = {"url": url, "proxy": proxy, "allow_private": opts.allow_private_urls,
                       "max_bytes": opts.download_max_bytes, "known_keys": known_keys(cache)}
            _write_private(inbox / REQUEST, json.dumps(request).encode())
            if opts.cookies_file is not None:
                _write_private(inbox / COOKIES, opts.cookies_file.read_bytes())
            out = prepare_writable(scratch / "out")
            self._run(scratch, opts, url)
            doc = read_result(out, url)
            status = doc.get("status")
            if status == "error":
                kind = doc.get("kind") if doc.get("kind") in KINDS else "network"
                message = str(doc.get("message") or "the download failed")[:400]
                if kind == "refused" and "larger than" in message:
                    raise too_large(url, opts.download_max_bytes)
                raise DownloadError(url, kind, message, fix=FIX.get(kind))
            key = checked_key(url, doc.get("key"))
            if status == "cached":
                hit = cached(cache, key)
                if hit is None:
                    raise DownloadError(url, "network", "the download sandbox named a cache entry that is gone")
                say(f"download: cache hit ({hit.name})")
                return hit
            if status != "ok":
                raise DownloadError(url, "network", f"the download sandbox wrote an unknown status {status!r}")
            final = take_video(out, str(doc.get("file") or ""), cache, key, opts.download_max_bytes, url)
            say(f"download: {final.stat().st_size} bytes in {time.monotonic() - t0:.1f}s{via} "
                f"(sandbox) -> {final.name}")
            return final
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _run(self, scratch: Path, opts, url: str) -> None:
        """Create, start and wait for the container on the runner's own clock; always remove it.
        A crash, a kill or an OOM is a transient ``network`` error (retried)."""
        try:
            container = self.box.create(self.container_config(scratch, opts.fetch_network))
        except docker.errors.ImageNotFound:
            raise
        except docker.errors.NotFound as exc:  # e.g. the network does not exist
            raise _no_network(exc) from None
        except docker.errors.DockerException as exc:
            raise DownloadError(url, "network", f"docker could not create the download sandbox: {exc}") from None
        why = ""
        unavailable = None
        try:
            try:
                _retry(container.start)()
            except docker.errors.NotFound as exc:  # the daemon checks the network at start
                unavailable = _no_network(exc)
            else:
                why = self._wait(container, opts)
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            why = f"lost the download sandbox to a docker error: {exc}"
        finally:
            remove_quietly(container)
        if unavailable is not None:
            raise unavailable
        if why:
            raise DownloadError(url, "network", why)

    def _wait(self, container, opts) -> str:
        """Wait on the runner's clock; what went wrong, or ``""``."""
        why = ""
        deadline = time.monotonic() + opts.fetch_timeout_s
        while not exited(container, min(POLL_S, max(0.05, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                kill(container)
                why = f"the download sandbox was killed after {opts.fetch_timeout_s}s"
                break
        state = _retry(lambda: (container.reload(), container.attrs["State"])[1])()
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
                                  "(docker network ls)")


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
    """``out/result.json`` as a dict, read without following a link and under a cap."""
    try:
        doc = json.loads(read_file(out / RESULT, RESULT_CAP))
    except OutboxError as exc:
        raise DownloadError(url, "network", f"the download sandbox left no usable {RESULT} ({exc.why})") from None
    except ValueError:
        raise DownloadError(url, "network", f"the download sandbox wrote an unreadable {RESULT}") from None
    if not isinstance(doc, dict):
        raise DownloadError(url, "network", f"the download sandbox wrote an unreadable {RESULT}")
    return doc


def checked_key(url: str, key) -> str:
    """The cache key the sandbox named, when it is a plain key; a generic one is recomputed here."""
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise DownloadError(url, "network", "the download sandbox named an invalid cache key")
    return generic_key(url) if key.startswith("generic-") else key


def take_video(out: Path, name: str, cache: Path, key: str, max_bytes: int, url: str) -> Path:
    """Copy ``out/<name>`` into the cache as ``<key><ext>`` from one fd opened without following a
    link, when it is a non-empty regular single-link file of at most ``max_bytes``."""
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
        final = cache / f"{key}{ext}"
        os.replace(tmp, final)  # atomic: a reader never sees a half-written cache entry
        return final
    finally:
        os.close(fd)

