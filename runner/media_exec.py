"""Where ffprobe/ffmpeg run on user media: the one seam between the host and a media decoder.

Every call names its files relative to the run's workdir root (``input/video.mp4``,
``frames/sampled/%06d.jpg``), so the same argv runs on the host (cwd = the workdir)
and in a media sandbox (the workdir's ``input/`` mounted read-only, each writable
folder mounted read-write, cwd = the same layout). The host side never demuxes
untrusted bytes on the docker backend: :class:`runner.backends.docker_media.DockerMediaExec`
runs the call in a locked-down container. :class:`HostMediaExec` (local backend) runs it as
a subprocess with limits and says it is not a sandbox.
"""
from __future__ import annotations

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
