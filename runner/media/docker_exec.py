"""ffprobe/ffmpeg on user media in a locked-down container: the docker side of :mod:`runner.media.tools`.

One container per :class:`~runner.media.tools.MediaCall`, from the media image
(``<prefix>/media:1``, ``images/Dockerfile.media``), with the analyzers' lockdown:
network none, read-only root, tmpfs ``/tmp``, a non-root user, no capabilities,
no new privileges, memory (= memory + swap), CPU and pids limits, tini as init.
The workdir's ``input/`` is mounted read-only at ``/w/input`` and each of the call's
writable folders read-write at the same place under ``/w`` (the working dir), so
the argv's workdir-relative paths mean the same inside. Nothing else of the host
is visible. The runner keeps its own clock (the SDK's wait timeout is only an HTTP
timeout), kills on expiry, reads ``State.OOMKilled`` after ``reload()``, reads at
most :data:`~runner.media.tools.OUTPUT_CAP` bytes of each stream and removes the
container. Containers carry the analyzer containers' labels, so
``DockerBackend.cleanup_stale()`` removes those of a runner that died.
"""
from __future__ import annotations

import time
from pathlib import Path, PurePosixPath

from runner.backends.docker import _retry, docker, requests
from runner.backends.oneshot import Boxed, OneShot, final_state, lockdown, remove_quietly, run_out
from runner.backends.permissions import prepare_writable
from runner.core.errors import RunnerError
from runner.images.runner_images import MEDIA
from runner.media.tools import OUTPUT_CAP, MediaCall, MediaResult

WORK = "/w"                 # the container's working dir: the workdir layout is mounted under it
INPUT = "input"             # the workdir folder holding the admitted video (read-only)
FRAMES = "frames"           # extracted frames: read-only, and only for a call that reads them (thumbnails)
TMP = "/tmp"
PIDS = 256                  # ffmpeg's decoder and filter threads count against it
POLL_S = 1.0                # wait() returns as soon as the container exits: this only bounds the clock's slack
LOG_MAX = f"{2 * OUTPUT_CAP}"   # bytes the daemon keeps of the container's output (json-file, one file)


def _rel(path: str) -> PurePosixPath:
    """A workdir-relative folder, refused when absolute, escaping or inside ``input/``."""
    p = PurePosixPath(path)
    if p.is_absolute() or not p.parts or ".." in p.parts or p.parts[0] in (INPUT, ".") or str(p) == ".":
        raise RunnerError(f"media call: {path!r} is not a writable workdir folder")
    return p


class DockerMediaExec(Boxed):
    """:class:`~runner.media.tools.MediaExec` in a container per call (``sandboxed = True``)."""

    name = "docker"
    sandboxed = True

    def __init__(self, client, image: str, *, run_id: str = "media", pids: int = PIDS):
        self.box = OneShot(client, image, role="media", what="ffprobe/ffmpeg run in it on the docker backend",
                           fix=MEDIA.fix, run_id=run_id)
        self.client = client
        self.image = image
        self.pids = pids

    # -- the container --------------------------------------------------------
    def container_config(self, workdir: Path, call: MediaCall) -> dict:
        """The keyword arguments of ``containers.create`` for one call (no I/O)."""
        root = Path(workdir).resolve()
        volumes = {str(root / INPUT): {"bind": f"{WORK}/{INPUT}", "mode": "ro"}}
        if self._reads_frames(call):  # thumbnails from the run's own extracted frames (ffmpeg wrote them)
            volumes[str(root / FRAMES)] = {"bind": f"{WORK}/{FRAMES}", "mode": "ro"}
        for w in call.writable:
            rel = _rel(w)
            volumes[str(root / rel)] = {"bind": f"{WORK}/{rel}", "mode": "rw"}
        tmp_size = max(16 * 2**20, min(256 * 2**20, call.memory_bytes // 4))
        return dict(image=self.image, command=list(call.argv), environment={"HOME": TMP, "LANG": "C.UTF-8"},
                    volumes=volumes, working_dir=WORK, name=self.box.name(), labels=self.box.labels(call.argv[0]),
                    **lockdown(memory=call.memory_bytes, cpus=call.cpus, pids=self.pids, tmp_size=tmp_size,
                               log_max=LOG_MAX))

    @staticmethod
    def _reads_frames(call: MediaCall) -> bool:
        """A call that reads ``file:frames/...`` and writes nowhere under ``frames/``."""
        return (any(a.startswith(f"file:{FRAMES}/") for a in call.argv)
                and not any(PurePosixPath(w).parts[:1] == (FRAMES,) for w in call.writable))

    def run(self, workdir: Path, call: MediaCall) -> MediaResult:
        self.check_image()
        root = Path(workdir).resolve()
        if not (root / INPUT).is_dir():
            raise RunnerError(f"media call: {root / INPUT} is missing (the admitted video lives there)")
        if self._reads_frames(call) and not (root / FRAMES).is_dir():
            raise RunnerError(f"media call: {root / FRAMES} is missing")
        for w in call.writable:
            prepare_writable(root / _rel(w))
        kw = self.container_config(root, call)
        t0 = time.monotonic()
        try:
            container = self.box.create(kw)
        except docker.errors.ImageNotFound:
            raise
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            return MediaResult(None, "", "", round(time.monotonic() - t0, 4),
                               notes=(f"docker could not create the media container: {exc}",))
        timed_out = False
        state: dict = {}
        notes: list[str] = []
        stdout = stderr = ""
        try:
            _retry(container.start)()
            timed_out = run_out(container, call.timeout_s, POLL_S)
            if timed_out:
                notes.append(f"{call.argv[0]} killed after {call.timeout_s:g}s")
            duration = time.monotonic() - t0
            state = final_state(container)
            stdout, cut_out = self._read(container, stdout=True)
            stderr, cut_err = self._read(container, stdout=False)
            notes += [f"{s} cut at {OUTPUT_CAP} bytes" for s, cut in (("stdout", cut_out), ("stderr", cut_err)) if cut]
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            duration = time.monotonic() - t0
            notes.append(f"lost the media container to a docker error: {exc}")
        finally:
            remove_quietly(container)
        code = None if timed_out else state.get("ExitCode")
        oom = bool(state.get("OOMKilled")) and not timed_out
        if oom:
            notes.append(f"{call.argv[0]} ran out of memory ({call.memory_bytes / 2**20:.0f} MiB)")
        return MediaResult(code, stdout, stderr, round(duration, 4), timed_out=timed_out, oom_killed=oom,
                           notes=tuple(notes))

    @staticmethod
    def _read(container, stdout: bool) -> tuple[str, bool]:
        """At most OUTPUT_CAP bytes of one stream (the head of stdout, the tail of stderr, as on
        the host), and whether there was more. The daemon keeps at most LOG_MAX bytes in all."""
        buf = bytearray()
        cut = False
        for chunk in container.logs(stdout=stdout, stderr=not stdout, stream=True, follow=False):
            buf += chunk
            if len(buf) > OUTPUT_CAP:
                cut = True
                if stdout:
                    del buf[OUTPUT_CAP:]
                    break
                del buf[:len(buf) - OUTPUT_CAP]
        return buf.decode(errors="replace"), cut
