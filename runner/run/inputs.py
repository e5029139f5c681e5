"""The run's shared inputs (frame sets and audio), extracted once, when the first job needs them.

The pipeline builds one :class:`RunInputs` and hands it to the executor; the executor asks it, per
job, for that job's frame folders and audio (:meth:`RunInputs.for_job`). The first ask extracts (one
ffmpeg decode, :func:`runner.media.extract.extract`) under the inputs' own lock; later asks wait for
it and get the same answer. A run whose every result comes from the cache asks nothing, so decodes
nothing. Data flows one way: nothing writes back into the executor's context or the pipeline.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from runner.backends.permissions import share_folder_with_sandbox
from runner.media.extract import extract
from shared_schema.paths import Workdir

__all__ = ["Extracted", "InputsFailed", "JobInputs", "RunInputs", "extract_for_run"]


@dataclass(frozen=True)
class Extracted:
    """What the extraction made, as paths relative to the workdir (what a job spec holds)."""
    frame_dirs: dict[str, str] = field(default_factory=dict)   # frame set -> its folder
    audio: str | None = None                                   # the audio track, if one was asked for
    seconds: float = 0.0


@dataclass(frozen=True)
class JobInputs:
    """One job's share of the inputs: the frame sets it declares that were made, and the audio if it reads it."""
    frames: dict[str, str]
    audio: str | None


class InputsFailed(Exception):
    """The shared inputs could not be made; :attr:`RunInputs.error` holds the original error."""


class RunInputs:
    """Extract on first need, once, under this object's own lock (``make`` is called at most once)."""

    def __init__(self, make: Callable[[], Extracted] | None = None):
        self._make = make
        self._lock = threading.Lock()
        self._made: Extracted | None = None if make is not None else Extracted()  # None: nothing to make
        self.error: BaseException | None = None

    @property
    def ready(self) -> bool:
        """Made (or nothing to make): a job that asks now does not wait for the extraction."""
        return self._made is not None

    @property
    def seconds(self) -> float:
        """How long the extraction took (0 when nothing asked for it)."""
        return self._made.seconds if self._made is not None else 0.0

    def for_job(self, frames: list[str], audio: bool) -> JobInputs:
        """The frame folders of ``frames`` that exist and, with ``audio``, the audio track; the first
        call extracts. :class:`InputsFailed` when the extraction failed (now or for an earlier job)."""
        made = self._get()
        return JobInputs(frames={s: made.frame_dirs[s] for s in frames if s in made.frame_dirs},
                         audio=made.audio if audio else None)

    def _get(self) -> Extracted:
        with self._lock:
            if self.error is not None:
                raise InputsFailed from self.error
            if self._made is None:
                try:
                    self._made = self._make()
                except BaseException as exc:
                    self.error = exc
                    raise InputsFailed from exc
            return self._made


def extract_for_run(wd: Workdir, admitted, media, sets, with_audio: bool, media_exec, progress,
                    notice: Callable[[str], None]) -> Extracted:
    """One decode of the admitted copy into ``wd``: the frame sets ``sets`` and, ``with_audio``, the
    audio; its warnings become notices and its time a progress phase."""
    t0 = time.monotonic()
    ex = extract(wd, admitted, media, sets, with_audio=with_audio, media_exec=media_exec)
    seconds = time.monotonic() - t0
    for w in ex.warnings:
        notice(w)
    progress.phase("extract", seconds, ", ".join(f"{k}: {len(v.frames)} frames" for k, v in ex.frame_sets.items())
                   + (", audio" if ex.audio else ""))
    share_folder_with_sandbox(wd.root)  # the runner's and the sandbox user's: no other local user
    return Extracted(frame_dirs={k: wd.rel(wd.frames_dir(k)) for k in ex.frame_sets},
                     audio=wd.rel(ex.audio) if ex.audio else None, seconds=seconds)
