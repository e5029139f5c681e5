"""``analyzer.toml``: what an analyzer needs, declared as data.

Validated with unknown fields forbidden; :func:`load_manifest` turns pydantic's
errors into one :class:`ManifestError` that names the file and the field.
"""
from __future__ import annotations

import keyword
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shared_schema.params import DeclaredParams
from shared_schema.paths import FRAME_SETS

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
#: names an analyzer may not have: the modules of the ``analyzers`` package beside the analyzers
RESERVED_NAMES = frozenset({"base", "harness", "common"})
HELPER_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_MEM_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$", re.IGNORECASE)
_MEM_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_memory(value: str | int) -> int:
    """``"512m"`` / ``"2g"`` / ``1048576`` -> bytes."""
    if isinstance(value, int):
        return value
    m = _MEM_RE.match(value.strip())
    if not m:
        raise ValueError(f"not a memory size: {value!r} (use e.g. '512m' or '2g')")
    return int(float(m.group(1)) * _MEM_UNITS[m.group(2).lower()])


class ManifestError(ValueError):
    """An ``analyzer.toml`` is unreadable or invalid; names the file and the field."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = str(path)
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Inputs(_Strict):
    frames: list[str] = Field(default_factory=list, description="frame sets from FRAME_SETS")
    audio: bool = False
    audio_optional: bool = Field(
        default=False,
        description="with audio = true: the analyzer also runs on a video without an audio stream (the planner "
                    "does not skip it; its job spec then has audio = null); the track is extracted when present")
    media: bool = True

    @model_validator(mode="after")
    def _optional_needs_audio(self) -> "Inputs":
        if self.audio_optional and not self.audio:
            raise ValueError("audio_optional = true needs audio = true (the audio it may use)")
        return self

    @field_validator("frames")
    @classmethod
    def _known_sets(cls, v: list[str]) -> list[str]:
        unknown = [s for s in v if s not in FRAME_SETS]
        if unknown:
            raise ValueError(f"unknown frame set(s) {unknown}; known: {sorted(FRAME_SETS)}")
        return v


class Resources(_Strict):
    device: Literal["cpu", "gpu_preferred", "gpu_required"] = "cpu"
    memory: str = "1g"
    cpus: float = Field(default=1.0, gt=0, le=64)
    timeout_s: float = Field(default=300, gt=0)
    pids: int = Field(default=256, ge=16)
    gpu_heavy: bool = Field(default=False, description="needs a GPU to itself")

    @field_validator("memory")
    @classmethod
    def _mem(cls, v: str) -> str:
        parse_memory(v)
        return v

    @property
    def memory_bytes(self) -> int:
        return parse_memory(self.memory)


class Retry(_Strict):
    on: list[Literal["oom", "timeout", "crashed"]] = Field(default_factory=list)
    max_attempts: int = Field(default=1, ge=1, le=10)
    overrides: list[dict[str, Any]] = Field(
        default_factory=list,
        description="params merged into attempt n+1 (cumulative); attempt 1 runs the defaults",
    )


class ModelRequirement(_Strict):
    """A model file in the store (``path`` + ``sha256``) or a package that ships it."""

    name: str
    path: str | None = Field(default=None, description="relative to the model store")
    sha256: str | None = None
    package: str | None = Field(default=None, description="a pinned registry package that ships it")
    source: str = Field(description="where a user gets it")
    fix: str | None = Field(default=None, description="the command that puts it in place")
    url: str | None = Field(
        default=None, pattern=r"^https?://",
        description="where `runner models pull` downloads it: the file, or for a folder an archive "
                    "(.zip, .tar.gz, .tgz, .tar) holding it; verified against `sha256` before it enters the store")
    optional: bool = False

    @model_validator(mode="after")
    def _one_location(self) -> "ModelRequirement":
        if not self.path and not self.package:
            raise ValueError("a model needs `path` (in the store) or `package`")
        return self


class ImageSpec(_Strict):
    base: Literal["cpu", "torch"] = "cpu"
    apt: list[str] = Field(default_factory=list, description="Debian packages the image adds")


class Manifest(_Strict):
    name: str
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    description: str
    entrypoint: str = Field(default="analyzer:Analyzer", pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
    result: str = Field(description="module:Model of the result, inside shared_schema.results")
    env: str = Field(
        default="cpu", pattern=r"^[a-z][a-z0-9_]{1,30}$",
        description="local-backend environment group, shared by analyzers with compatible pins "
                    "(core = the runner's own Python: pydantic only)")
    after: list[str] = Field(default_factory=list, description="runs after these when they are selected; tolerates their failure")
    needs: list[str] = Field(default_factory=list, description="hard inputs: pulled into a selection; if one is not ok this one is skipped")
    final: bool = Field(default=False, description="runs after every other selected analyzer")
    inputs: Inputs = Field(default_factory=Inputs)
    resources: Resources = Field(default_factory=Resources)
    retry: Retry = Field(default_factory=Retry)
    models: list[ModelRequirement] = Field(default_factory=list)
    image: ImageSpec = Field(default_factory=ImageSpec)
    params: DeclaredParams = Field(
        default_factory=dict,
        description="[params.NAME] tables: type, default, min/max or choices, description (shared_schema.params)")
    test_only: bool = Field(default=False, description="toy analyzers used by the test suite")
    helpers: list[str] = Field(
        default_factory=list,
        description="modules of analyzers/common this analyzer imports (analyzers.common.<helper>); only these "
                    "enter its image and its source digest")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not NAME_RE.match(v):
            raise ValueError("must be lower_snake_case, 2-63 chars")
        if v in RESERVED_NAMES or keyword.iskeyword(v):
            raise ValueError(f"{v!r} cannot name the package analyzers.{v}: a Python keyword, or one of the "
                             f"SDK's modules ({', '.join(sorted(RESERVED_NAMES))})")
        return v

    @field_validator("helpers")
    @classmethod
    def _helpers(cls, v: list[str]) -> list[str]:
        bad = [h for h in v if not HELPER_RE.match(h)]
        if bad:
            raise ValueError(f"{bad}: a helper is a module name of analyzers/common (lower_snake_case)")
        if len(set(v)) != len(v):
            raise ValueError("a helper is named twice")
        return v

    @field_validator("result")
    @classmethod
    def _result(cls, v: str) -> str:
        if not re.match(r"^shared_schema\.results\.[\w.]+:[A-Za-z_]\w*$", v):
            raise ValueError("must be 'shared_schema.results.<module>:<Model>'")
        return v

    @property
    def upstream(self) -> list[str]:
        """Every analyzer this one runs after (hard and soft), in declared order."""
        return list(dict.fromkeys([*self.needs, *self.after]))

    @model_validator(mode="after")
    def _self_dep(self) -> "Manifest":
        if self.name in self.after or self.name in self.needs:
            raise ValueError(f"`after`/`needs` names the analyzer itself ({self.name})")
        return self

    @model_validator(mode="after")
    def _overrides_are_params(self) -> "Manifest":
        """Each retry override sets declared params to values that fit them."""
        for i, step in enumerate(self.retry.overrides):
            for key, value in step.items():
                if key not in self.params:
                    raise ValueError(f"retry.overrides[{i}]: {key!r} is not a declared param "
                                     f"(declared: {', '.join(sorted(self.params)) or 'none'})")
                try:
                    self.params[key].check(value)
                except ValueError as exc:
                    raise ValueError(f"retry.overrides[{i}].{key}: {exc}") from None
        return self


def load_manifest(path: Path | str) -> Manifest:
    """Read and validate one ``analyzer.toml``; errors name the file and the field."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(path, [f"cannot read: {exc.strerror}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(path, [f"not valid TOML: {exc}"]) from None
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
            msg = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"field `{loc}`: {msg}")
        raise ManifestError(path, problems) from None
    if manifest.name != path.parent.name and path.name == "analyzer.toml":
        raise ManifestError(path, [f"field `name`: {manifest.name!r} differs from its folder {path.parent.name!r}"])
    return manifest
