"""What an analyzer implements, and what it is given.

An analyzer subclasses :class:`Analyzer`, optionally overrides ``setup(ctx)``
(load weights; the network is off) and implements ``analyze(ctx)``, returning
the pydantic result model its manifest names. It never writes files or reads
the environment: the harness does both.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator, TypeVar

from pydantic import BaseModel

from shared_schema.checksum import model_digest
from shared_schema.envelope import Envelope, ModelUse, SkipReason, Status
from shared_schema.job import JobSpec
from shared_schema.manifest import ModelRequirement
from shared_schema.media import FrameEntry, FrameIndex, MediaInfo
from shared_schema.params import Params, ParamSpec, declared_params, resolve_params
from shared_schema.results import resolve_result_model

__all__ = ["Analyzer", "Context", "FrameSet", "SkipAnalysis", "InputMissing", "Params", "manifest_params",
           "read_declared_params"]

M = TypeVar("M", bound=BaseModel)


class SkipAnalysis(Exception):
    """Raise from ``setup``/``analyze`` when the analyzer cannot honestly run here."""

    def __init__(self, reason: SkipReason | str, message: str, fix: str | None = None):
        self.reason = SkipReason(reason)
        self.message = message
        self.fix = fix
        super().__init__(message)


class InputMissing(KeyError):
    """The analyzer asked for an input its manifest did not declare."""


class FrameSet:
    """One extracted frame set: its index, and frames read on demand."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.index = FrameIndex.model_validate_json((folder / "index.json").read_text())

    def __len__(self) -> int:
        return len(self.index.frames)

    @property
    def entries(self) -> list[FrameEntry]:
        return self.index.frames

    @property
    def times(self) -> list[float]:
        return [f.t for f in self.index.frames]

    def path(self, i: int) -> Path:
        return self.folder / self.index.frames[i].file

    def read(self, i: int):
        """Frame ``i`` as a numpy array (BGR, or 2-D grey for grey sets). Needs OpenCV."""
        import cv2  # guarded: the core environment has no OpenCV

        flag = cv2.IMREAD_GRAYSCALE if self.index.gray else cv2.IMREAD_COLOR
        img = cv2.imread(str(self.path(i)), flag)
        if img is None:
            raise OSError(f"cannot decode frame {self.path(i)}")
        return img

    def __iter__(self) -> Iterator[tuple[FrameEntry, Any]]:
        for i, entry in enumerate(self.index.frames):
            yield entry, self.read(i)


@dataclass
class Context:
    """Everything one run of one analyzer may see. Built by the harness."""

    job: JobSpec
    input_root: Path
    models_root: Path | None
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("analyzer"))
    #: this run's params (``ctx.params.cut_ratio``): the manifest's defaults, then ``--set`` values, then
    #: this attempt's retry overrides, typed and checked by the harness against the manifest's declarations
    params: Params = field(default_factory=Params)
    models_used: list[ModelUse] = field(default_factory=list)
    degraded_reasons: list[str] = field(default_factory=list)

    # ---- inputs -------------------------------------------------------
    @cached_property
    def media(self) -> MediaInfo:
        return MediaInfo.model_validate_json((self.input_root / self.job.media).read_text())

    def frames(self, name: str) -> FrameSet:
        if name not in self.job.frames:
            raise InputMissing(f"frame set {name!r} not declared in inputs.frames")
        return FrameSet(self.input_root / self.job.frames[name])

    @property
    def audio_path(self) -> Path:
        if self.job.audio is None:
            raise InputMissing("audio not declared (inputs.audio = true) or the video has none")
        return self.input_root / self.job.audio

    @property
    def device(self) -> str:
        return self.job.device

    @property
    def threads(self) -> int:
        return self.job.threads

    def upstream(self, name: str) -> Envelope | None:
        """The envelope of an analyzer this one runs after, or None if it has none."""
        if name not in self.job.upstream:
            raise InputMissing(f"{name!r} is not in this analyzer's `after`")
        path = self.input_root / self.job.upstream[name]
        if not path.is_file():
            return None
        return Envelope.model_validate_json(path.read_text())

    def upstream_result(self, name: str, model: type[M] | None = None) -> M | None:
        """The validated result of an upstream analyzer that succeeded, else None."""
        env = self.upstream(name)
        if env is None or env.status is not Status.ok or env.result is None:
            return None
        if model is None:
            model = resolve_result_model(self._upstream_result_ref(name))
        return model.model_validate(env.result)

    def _upstream_result_ref(self, name: str) -> str:
        spec_path = self.input_root / "jobs" / f"{name}.json"
        return json.loads(spec_path.read_text())["result"]

    # ---- models -------------------------------------------------------
    def model_requirement(self, name: str) -> ModelRequirement:
        for m in self.job.models:
            if m.name == name:
                return m
        raise InputMissing(f"model {name!r} not declared in the manifest's [[models]]")

    def model_path(self, name: str) -> Path:
        """Where a store model lives (``/models/<path>`` in a container)."""
        req = self.model_requirement(name)
        if not req.path:
            raise InputMissing(f"model {name!r} ships in package {req.package}, not in the store")
        if self.models_root is None:
            raise SkipAnalysis(SkipReason.model_absent, "no model store mounted", req.fix)
        path = self.models_root / req.path
        if not path.exists():
            raise SkipAnalysis(SkipReason.model_absent,
                               f"model {name!r} not found at {req.path} in the model store",
                               req.fix)
        return path

    def store_model(self, rel_path: str) -> tuple[Path, str, str]:
        """The store file a ``model`` param names -> (path, model name, source).

        A path the manifest declares goes through :meth:`model_path` (a missing file
        skips with the manifest's fix); a file inside a declared folder (``path`` ending
        in ``/``) gets that folder's fix; any other store path is allowed too, so a
        deployment can point at its own export with ``--set``.
        """
        if Path(rel_path).is_absolute() or ".." in Path(rel_path).parts:
            raise ValueError(f"model {rel_path!r} must be a path inside the model store")
        fix = "see docs/models.md: put the weights in the store (RUNNER_MODELS_DIR)"
        name, source = Path(rel_path).stem, f"model store: {rel_path}"
        for req in self.job.models:
            if req.path == rel_path:
                return self.model_path(req.name), req.name, req.source
            if req.path and req.path.endswith("/") and rel_path.startswith(req.path):
                fix, source = req.fix or fix, f"{req.source}: {rel_path}"
        if self.models_root is None or not (self.models_root / rel_path).exists():
            raise SkipAnalysis(SkipReason.model_absent, f"model {rel_path!r} not found in the model store", fix)
        return self.models_root / rel_path, name, source

    def use_model(self, name: str, source: str, sha256: str | None = None) -> None:
        """Record a model this result came from (it goes into the envelope). Prefer
        :meth:`use_model_file`, which hashes what was loaded."""
        self.models_used.append(ModelUse(name=name, source=source, sha256=sha256))

    def use_model_file(self, name: str, source: str, path: Path | str) -> str:
        """Record a model file or folder this result was loaded from, with its sha256 (a folder's: the
        digest of its manifest of file hashes, ``shared_schema.checksum``); returns the sha256.

        Call it with the path the framework was handed (the ``.tflite``, the OpenVINO or Whisper folder,
        the Hugging Face snapshot): what was loaded is what is hashed, never a declared value. Hashed
        once per file identity in this process."""
        digest = model_digest(Path(path))
        self.use_model(name, source, digest)
        return digest

    def degrade(self, reason: str) -> None:
        """Say that this result comes from a degraded mode (it is reported, never hidden)."""
        self.degraded_reasons.append(reason)

    @property
    def tmp_dir(self) -> Path:
        return Path(os.environ.get("TMPDIR", "/tmp"))


def read_declared_params(analyzer_dir: Path | str) -> dict[str, ParamSpec]:
    """The ``[params]`` declarations of the ``analyzer.toml`` in ``analyzer_dir``, validated."""
    import tomllib

    data = tomllib.loads((Path(analyzer_dir) / "analyzer.toml").read_text(encoding="utf-8"))
    return declared_params(data.get("params", {}))


def manifest_params(analyzer_dir: Path | str, **values: Any) -> Params:
    """The declared defaults with ``values`` set (checked): params for code that runs outside a job,
    such as unit tests of an analyzer's helpers. A run gets them as ``ctx.params``."""
    return resolve_params(read_declared_params(analyzer_dir), values)


class Analyzer:
    """Subclass, set nothing else, implement ``analyze``."""

    def setup(self, ctx: Context) -> None:  # noqa: B027 - optional hook
        """Load weights. Optional."""

    def analyze(self, ctx: Context) -> BaseModel:
        raise NotImplementedError
