"""The one reader of the analyzer params a user sets: ``--set NAME.KEY=VALUE`` (``runner analyze``,
``runner batch``), the API's ``options`` (``{"NAME.KEY": value}``) and the params of a request made
in code. Each value is checked against its analyzer's declaration (``shared_schema.params``); the
keys ``timeout_s``, ``memory`` and ``cpus`` set that analyzer's resources for the run instead.

An unknown analyzer, an unknown param or a bad value is a :class:`ParamError` (exit 2, API 422)
whose ``fix`` lists the analyzer's params with their types.

A ``str`` param without ``choices`` named ``model`` or ``*_model`` names a file or folder in the
model store (:func:`store_params`): its value must be a relative path without ``..``, and where a
request may only use declared models (the API: ``ResourceBounds.declared_models_only``) it must be
the param's default, a ``[[models]]`` path of the analyzer or lie in a declared folder entry. The
host hashes the file it names into the cache key and the envelope (``runner.models.chosen``).
"""
from __future__ import annotations

import difflib
import math
import re
from pathlib import PurePosixPath
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from runner.core.errors import UsageError
from runner.core.registry import Registry
from shared_schema.manifest import Manifest, parse_memory
from shared_schema.params import RESOURCE_KEYS, ParamSpec, resolve_params

__all__ = ["RESOURCE_KEYS", "ParamError", "ResourceBounds", "UserParams", "check_params", "from_options",
           "is_declared_model", "job_params", "parse_sets", "param_rows", "store_params", "takes"]

#: analyzer -> key -> typed value (its params, and resource keys)
UserParams = dict[str, dict[str, Any]]


class ParamError(UsageError):
    """A param a user set does not exist or does not fit; ``fix`` lists what the analyzer takes."""

    def __init__(self, where: str, problem: str, *, analyzer: str | None = None, param: str | None = None,
                 fix: str | None = None):
        self.where = where
        self.problem = problem
        self.analyzer = analyzer
        self.param = param
        super().__init__(f"{where}: {problem}", fix=fix)


@dataclass(frozen=True)
class ResourceBounds:
    """What a request may set: the resource keys (the API's: within the runner's budgets) and, with
    ``declared_models_only`` (the API), a store model param only to a model its analyzer declares."""

    min_memory: int = 1
    max_memory: int | None = None
    max_cpus: float | None = None
    max_timeout_s: float | None = None
    declared_models_only: bool = False


_MODEL_PARAM = re.compile(r"^(?:[a-z0-9_]+_)?model$")


def store_params(manifest: Manifest) -> list[str]:
    """The params whose value names a path in the model store: ``str``, no ``choices``, named
    ``model`` or ``*_model`` (object_detection.model, speech_transcription.language_id_model, ...)."""
    return [k for k, s in manifest.params.items() if s.type == "str" and s.choices is None and _MODEL_PARAM.match(k)]


def is_declared_model(manifest: Manifest, param: str, value: str) -> bool:
    """``value`` is the param's default, a ``[[models]]`` path of the analyzer, or inside one of its
    declared folder entries (a ``path`` ending in ``/``)."""
    if value == manifest.params[param].default:
        return True
    for m in manifest.models:
        if m.path and (value == m.path or value.rstrip("/") == m.path.rstrip("/")
                       or (m.path.endswith("/") and value.startswith(m.path))):
            return True
    return False


def _check_store_path(name: str, manifest: Manifest, param: str, value: str, bounds: "ResourceBounds") -> None:
    declared = [m.path for m in manifest.models if m.path]
    if value and (PurePosixPath(value).is_absolute() or ".." in PurePosixPath(value).parts or "\0" in value):
        raise ValueError("must be a path inside the model store (relative, without '..')")
    if bounds.declared_models_only and not is_declared_model(manifest, param, value):
        raise ValueError(f"{value!r} is not a model {name} declares: here only its default "
                         f"({manifest.params[param].default!r}) or its [[models]] "
                         f"({', '.join(declared) or 'none'}) may be named")


def _short(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[:n - 3] + "..."


def takes(name: str, manifest: Manifest) -> str:
    """``cut_analysis takes: cut_ratio (float 1..20), ...; and timeout_s, memory, cpus (its resources)``"""
    listed = ", ".join(f"{k} ({s.brief})" for k, s in manifest.params.items()) or "no params"
    return f"{name} takes: {listed}; and timeout_s, memory, cpus (its resources)"


def param_rows(manifest: Manifest) -> list[dict[str, Any]]:
    """One row per declared param: name, type, default, min, max, choices, description."""
    return [{"name": k, **s.model_dump(mode="json")} for k, s in manifest.params.items()]


def _did_you_mean(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _resource(key: str, value: Any, text: bool, bounds: ResourceBounds) -> Any:
    """A ``timeout_s`` / ``cpus`` (seconds, CPUs: a number > 0) or ``memory`` (``512m``, ``2g``, bytes)."""
    if key == "memory":
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValueError("expected a size such as 512m or 2g")
        mem = parse_memory(str(value))
        if mem < bounds.min_memory or (bounds.max_memory is not None and mem > bounds.max_memory):
            high = f" and {bounds.max_memory / 2**20:g}m" if bounds.max_memory is not None else ""
            raise ValueError(f"out of range: memory must be between {bounds.min_memory / 2**20:g}m{high}")
        return value
    if text:
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"expected a number, got {_short(str(value), 40)!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError("expected a number above 0")
    high = bounds.max_timeout_s if key == "timeout_s" else bounds.max_cpus
    if high is not None and value > high:
        raise ValueError(f"out of range: {key} may be at most {high:g}")
    return float(value)


def _put(out: UserParams, registry: Registry, key: str, value: Any, *, text: bool, where: str,
         bounds: ResourceBounds) -> None:
    name, dot, param = key.partition(".")
    if not dot or not name or not param:
        raise ParamError(where, "expected NAME.KEY: an analyzer and one of its params",
                         fix="`runner list` (GET /analyzers) names the analyzers; `runner list NAME` their params")
    if name not in registry:
        raise ParamError(where, f"no analyzer {_short(name, 64)!r}{_did_you_mean(name, registry)}", analyzer=name,
                         fix="analyzers: " + ", ".join(sorted(registry)))
    manifest = registry[name].manifest
    if param in RESOURCE_KEYS:
        try:
            out.setdefault(name, {})[param] = _resource(param, value, text, bounds)
        except ValueError as exc:
            raise ParamError(where, f"{name}.{param}: {exc}", analyzer=name, param=param,
                             fix="timeout_s: seconds, cpus: CPUs (numbers above 0); memory: e.g. 512m or 2g") from None
        return
    spec: ParamSpec | None = manifest.params.get(param)
    if spec is None:
        raise ParamError(where, f"{name} has no param {_short(param, 64)!r}"
                                f"{_did_you_mean(param, [*manifest.params, *RESOURCE_KEYS])}",
                         analyzer=name, param=param, fix=takes(name, manifest))
    try:
        value = spec.parse(value) if text else spec.check(value)
        if param in store_params(manifest):
            _check_store_path(name, manifest, param, value, bounds)
        out.setdefault(name, {})[param] = value
    except ValueError as exc:
        raise ParamError(where, f"{name}.{param} ({spec.brief}): {exc}", analyzer=name, param=param,
                         fix=takes(name, manifest)) from None


def parse_sets(pairs: Iterable[str], registry: Registry, bounds: ResourceBounds = ResourceBounds()) -> UserParams:
    """``["cut_analysis.cut_ratio=4", "cut_analysis.timeout_s=60"]`` -> ``{"cut_analysis": {"cut_ratio": 4.0,
    "timeout_s": 60.0}}``: each value parsed as its param's type and checked."""
    out: UserParams = {}
    for pair in pairs:
        key, eq, raw = pair.partition("=")
        where = f"--set {_short(pair)}"
        if not eq:
            raise ParamError(where, "expected NAME.KEY=VALUE",
                             fix="`runner list NAME` lists an analyzer's params with their types")
        _put(out, registry, key.strip(), raw, text=True, where=where, bounds=bounds)
    return out


def from_options(options: Mapping[str, Any] | None, registry: Registry,
                 bounds: ResourceBounds = ResourceBounds()) -> UserParams:
    """The API's ``{"NAME.KEY": value}`` (JSON values) -> ``{"NAME": {"KEY": value}}``, checked."""
    out: UserParams = {}
    for key, value in (options or {}).items():
        _put(out, registry, key, value, text=False, where=f"option {_short(key)!r}", bounds=bounds)
    return out


def check_params(params: Mapping[str, Mapping[str, Any]] | None, registry: Registry,
                 bounds: ResourceBounds = ResourceBounds()) -> UserParams:
    """Params given in code (``AnalyzeRequest.params``, ``BatchRequest.params``): the same checks."""
    out: UserParams = {}
    for name, values in (params or {}).items():
        for key, value in values.items():
            _put(out, registry, f"{name}.{key}", value, text=False, where=f"params {_short(f'{name}.{key}')}",
                 bounds=bounds)
    return out


def job_params(manifest: Manifest, user: Mapping[str, Any]) -> dict[str, Any]:
    """What a job spec carries: every declared param, the user's value or its default (no resource keys)."""
    return dict(resolve_params(manifest.params, {k: v for k, v in user.items() if k not in RESOURCE_KEYS}))
