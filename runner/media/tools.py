"""Where ffprobe/ffmpeg run on user media: the one seam between the host and a media decoder.

Every call names its files relative to the run's workdir root (``input/video.mp4``,
``frames/sampled/%06d.jpg``), so the same argv runs on the host (cwd = the workdir)
and in a media sandbox (the workdir's ``input/`` mounted read-only, each writable
folder mounted read-write, cwd = the same layout). The host side never demuxes
untrusted bytes on the docker backend: :class:`runner.media.docker_exec.DockerMediaExec`
runs the call in a locked-down container. :class:`HostMediaExec` (local backend) runs it as
a subprocess with limits and says it is not a sandbox.
"""
from __future__ import annotations

import os
import resource
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

DEFAULT_TIMEOUT_S = 600.0
DEFAULT_MEMORY = 2 * 2**30
OUTPUT_CAP = 4 * 2**20     # bytes of stdout / stderr kept from one call


@dataclass(frozen=True)
class MediaCall:
    """One ffprobe/ffmpeg invocation.

    ``argv[0]`` is the tool's name (``ffprobe`` or ``ffmpeg``), resolved by the executor;
    every path in it is relative to the workdir root. ``writable`` lists the workdir-relative
    folders the tool may write (the caller creates them first); everything else is read-only,
    and only ``input/`` is readable on the docker backend.
    """

    argv: tuple[str, ...]
    writable: tuple[str, ...] = ()
    timeout_s: float = DEFAULT_TIMEOUT_S
    memory_bytes: int = DEFAULT_MEMORY
    cpus: float = 2.0


@dataclass(frozen=True)
class MediaResult:
    returncode: int | None          # None: killed (timeout) or never started
    stdout: str                     # at most OUTPUT_CAP bytes, decoded with errors="replace"
    stderr: str
    duration_s: float
    timed_out: bool = False
    oom_killed: bool = False
    notes: tuple[str, ...] = field(default=())


class MediaExec(Protocol):
    #: "host" or "docker"
    name: str
    #: True when the decoder runs isolated from the host (network none, read-only, no capabilities)
    sandboxed: bool

    def run(self, workdir: Path, call: MediaCall) -> MediaResult: ...


#: the demuxers any call on user media may use (ffmpeg's ``-format_whitelist``)
FORMAT_WHITELIST = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpegts,flv"
TOOLS = ("ffprobe", "ffmpeg")


#: options of one demuxer, passed only where that demuxer is forced (ffmpeg 5.1 exits with "Option
#: enable_drefs not found" when another one, e.g. matroska, is given it): the mov/mp4 demuxer never
#: opens the external files a data reference box names (off by default; said here so a build or a
#: default that changes cannot turn it on)
DEMUXER_OPTIONS = {"mov": ("-enable_drefs", "0")}


def input_args(rel: str, demuxer: str) -> list[str]:
    """The argv that names an admitted input: ``file:`` only, the forced demuxer and its options,
    both whitelists."""
    if rel.startswith(("/", "-")) or ".." in Path(rel).parts:
        raise ValueError(f"media inputs are workdir-relative: {rel!r}")
    return ["-protocol_whitelist", "file", "-format_whitelist", FORMAT_WHITELIST, "-f", demuxer,
            *DEMUXER_OPTIONS.get(demuxer, ()), "-i", f"file:{rel}"]


class HostMediaExec:
    """Runs a :class:`MediaCall` as a host subprocess: cwd = the workdir root, address-space limit,
    wall-clock timeout, capped output. Limits, not isolation: ``sandboxed`` is False."""

    name = "host"
    sandboxed = False

    def __init__(self, tool_paths: dict[str, str] | None = None):
        self._tools = dict(tool_paths or {})

    def tool(self, name: str) -> str:
        import shutil

        from runner.core.errors import RunnerError

        if name not in TOOLS:
            raise ValueError(f"not a media tool: {name!r}")
        if name not in self._tools:
            path = shutil.which(name)
            if not path:
                raise RunnerError(f"{name} not found on PATH", fix="install it: apt-get install ffmpeg")
            self._tools[name] = os.path.realpath(path)
        return self._tools[name]

    def run(self, workdir: Path, call: MediaCall) -> MediaResult:
        argv = [self.tool(call.argv[0]), *call.argv[1:]]
        t0 = time.monotonic()
        mem = call.memory_bytes
        limits = None
        prlimit = _prlimit()
        if prlimit:  # limits set by a helper: preexec_fn is not safe in a threaded server
            argv = [prlimit, f"--as={mem}", "--core=0", "--", *argv]
        else:
            def limits() -> None:  # in the child, before exec
                resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
                resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

        proc = subprocess.Popen(argv, cwd=workdir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, preexec_fn=limits, start_new_session=True,
                                # glibc reserves 64 MiB of address space per thread arena: cap them,
                                # or RLIMIT_AS is reached by reservations, not by use
                                env={"PATH": "/usr/bin:/bin", "LC_ALL": "C", "MALLOC_ARENA_MAX": "2"})
        out, err = _Capped(proc.stdout, keep="head"), _Capped(proc.stderr, keep="tail")
        timed_out = False
        try:
            proc.wait(timeout=call.timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
        out.join()
        err.join()
        rc = None if timed_out else proc.returncode
        notes = ("address-space limit reached",) if rc and rc < 0 and b"alloc" in err.data.lower() else ()
        return MediaResult(returncode=rc, stdout=out.text(), stderr=err.text(),
                           duration_s=round(time.monotonic() - t0, 4), timed_out=timed_out, notes=notes)


def _prlimit() -> str | None:
    import shutil

    for path in ("/usr/bin/prlimit", "/bin/prlimit"):
        if os.access(path, os.X_OK):
            return path
    found = shutil.which("prlimit")
    return os.path.realpath(found) if found else None


def _kill_group(proc: "subprocess.Popen") -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()


class _Capped:
    """Drains a pipe on a thread, keeping the first (``head``) or last (``tail``) OUTPUT_CAP bytes."""

    def __init__(self, pipe, keep: str):
        self.data = b""
        self._pipe, self._keep = pipe, keep
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        buf = bytearray()
        while chunk := self._pipe.read(65536):
            if self._keep == "head":
                if len(buf) < OUTPUT_CAP:
                    buf += chunk[:OUTPUT_CAP - len(buf)]
            else:
                buf += chunk
                if len(buf) > 2 * OUTPUT_CAP:
                    del buf[:-OUTPUT_CAP]
        self.data = bytes(buf[-OUTPUT_CAP:] if self._keep == "tail" else buf)
        self._pipe.close()

    def join(self) -> None:
        self._thread.join()

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")
