"""Analyzer params as a contract: declared in ``analyzer.toml``, checked on both sides.

Each param has a type, a default, a range (numbers) or choices (strings), and one line
of description::

    [params.cut_ratio]
    type = "float"
    default = 3.0
    min = 1.0
    max = 20.0
    description = "hard cut: motion-compensated frame difference this many times its neighbourhood"

The host checks what a user sets against these declarations (``runner/core/params.py``: ``--set``,
``runner batch``, the API's ``options``); the harness checks the job spec's values again against
the analyzer's own manifest and hands the analyzer :class:`Params`, typed and defaulted.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictFloat, StrictInt,
                      TypeAdapter, model_validator)

__all__ = ["PARAM_TYPES", "RESOURCE_KEYS", "DeclaredParams", "ParamSpec", "ParamValueError", "Params",
           "declared_params", "resolve_params"]

PARAM_TYPES = ("float", "int", "bool", "str", "list[str]")
ParamType = Literal["float", "int", "bool", "str", "list[str]"]
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
#: ``--set NAME.KEY=`` keys that set an analyzer's resources for a run; never a param name
RESOURCE_KEYS = frozenset({"timeout_s", "memory", "cpus"})
#: names a param may not have: the resource keys, and what a :class:`Params` mapping answers itself
_RESERVED = RESOURCE_KEYS | {"get", "items", "keys", "values"}
MAX_STR = 1024   # characters of a str param (the API's cap on an option value)
MAX_LIST = 64    # members of a list param


class ParamValueError(ValueError):
    """A value that does not fit its declaration (or no declaration); ``param`` names it."""

    def __init__(self, param: str, problem: str):
        self.param = param
        self.problem = problem
        super().__init__(f"param {param!r}: {problem}")


def _show(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (str, int, float, bool, list)) else type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def _num(v: float) -> str:
    return f"{v:g}"


class ParamSpec(BaseModel):
    """One declared param. ``check`` takes a typed value (TOML, JSON), ``parse`` the text of ``--set``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: ParamType
    default: Any
    min: StrictInt | StrictFloat | None = Field(default=None, description="inclusive; float and int params only")
    max: StrictInt | StrictFloat | None = Field(default=None, description="inclusive; float and int params only")
    choices: list[Annotated[str, Field(max_length=MAX_STR)]] | None = Field(
        default=None, min_length=1, description="the allowed values of a str param (members of a list[str])")
    description: str = Field(min_length=1, max_length=240, pattern=r"^[^\n]+$", description="one line")

    @model_validator(mode="after")
    def _consistent(self) -> "ParamSpec":
        numeric = self.type in ("float", "int")
        if not numeric and (self.min is not None or self.max is not None):
            raise ValueError(f"min/max are for float and int params, not {self.type}")
        if self.choices is not None and self.type not in ("str", "list[str]"):
            raise ValueError(f"choices are for str and list[str] params, not {self.type}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {_num(self.min)} is above max {_num(self.max)}")
        try:
            default = self.check(self.default)
        except ValueError as exc:
            raise ValueError(f"default {_show(self.default)}: {exc}") from None
        object.__setattr__(self, "default", default)  # e.g. an int default of a float param -> float
        return self

    # ---- values --------------------------------------------------------
    def check(self, value: Any) -> Any:
        """``value`` as this param's type (an int for a float param becomes a float); ValueError if it
        has another type or lies outside the range or choices."""
        t = self.type
        if t == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"expected a number, got {_show(value)}")
            value = float(value)
            if not math.isfinite(value):
                raise ValueError(f"expected a finite number, got {value}")
        elif t == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"expected a whole number, got {_show(value)}")
        elif t == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"expected true or false, got {_show(value)}")
        elif t == "str":
            if not isinstance(value, str):
                raise ValueError(f"expected a string, got {_show(value)}")
            if len(value) > MAX_STR:
                raise ValueError(f"longer than {MAX_STR} characters")
        else:
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"expected a list of strings, got {_show(value)}")
            if len(value) > MAX_LIST or any(len(v) > MAX_STR for v in value):
                raise ValueError(f"at most {MAX_LIST} strings of at most {MAX_STR} characters")
            value = list(value)
        if self.min is not None and value < self.min:
            raise ValueError(f"{_num(value)} is below the minimum {_num(self.min)}")
        if self.max is not None and value > self.max:
            raise ValueError(f"{_num(value)} is above the maximum {_num(self.max)}")
        if self.choices is not None:
            bad = [v for v in (value if isinstance(value, list) else [value]) if v not in self.choices]
            if bad:
                raise ValueError(f"{_show(bad[0])} is not one of {', '.join(self.choices)}")
        return value

    def parse(self, text: str) -> Any:
        """The text of ``--set NAME.KEY=TEXT`` as this param's type, checked.

        str: the text as it is (or a JSON string, quotes removed); list[str]: a JSON list or
        comma-separated; bool: true or false; int and float: a number."""
        t = self.type
        if t == "str":
            try:
                value = json.loads(text)
            except ValueError:
                value = text
            return self.check(value if isinstance(value, str) else text)
        if t == "list[str]":
            if text.strip().startswith("["):
                try:
                    return self.check(json.loads(text))
                except ValueError as exc:
                    raise ValueError(f"expected a JSON list of strings or a,b,c ({exc})") from None
            return self.check([v.strip() for v in text.split(",") if v.strip()])
        if t == "bool":
            low = text.strip().lower()
            if low not in ("true", "false"):
                raise ValueError(f"expected true or false, got {_show(text)}")
            return self.check(low == "true")
        try:
            value = int(text.strip(), 10) if t == "int" else float(text)
        except ValueError:
            raise ValueError(f"expected {'a whole number' if t == 'int' else 'a number'}, got {_show(text)}") from None
        return self.check(value)

    # ---- words -----------------------------------------------------------
    @property
    def bounds(self) -> str:
        """``1..20``, ``>= 0``, ``<= 1``, ``auto|float32``, or ``""``."""
        if self.choices is not None:
            return "|".join(self.choices)
        if self.min is not None and self.max is not None:
            return f"{_num(self.min)}..{_num(self.max)}"
        if self.min is not None:
            return f">= {_num(self.min)}"
        if self.max is not None:
            return f"<= {_num(self.max)}"
        return ""

    @property
    def brief(self) -> str:
        """``float 1..20``: the type and its range or choices."""
        return f"{self.type} {self.bounds}".strip()


def _tables_only(table: Any) -> Any:
    if isinstance(table, Mapping):
        for name, spec in table.items():
            if not isinstance(spec, (Mapping, ParamSpec)):
                raise ValueError(f"param {name!r}: declare it as a table [params.{name}] with type, default "
                                 "and description (and min/max or choices)")
    return table


def _names(specs: dict[str, ParamSpec]) -> dict[str, ParamSpec]:
    for name in specs:
        if not _NAME_RE.match(name):
            raise ValueError(f"param name {name!r}: lower_snake_case, 1-63 characters")
        if name in _RESERVED:
            raise ValueError(f"param name {name!r} is reserved ({', '.join(sorted(_RESERVED))})")
    return specs


#: the ``[params]`` table of a manifest: name -> declaration
DeclaredParams = Annotated[dict[str, ParamSpec], BeforeValidator(_tables_only), AfterValidator(_names)]
_DECLARED = TypeAdapter(DeclaredParams)


def declared_params(table: Any) -> dict[str, ParamSpec]:
    """Validate a ``[params]`` table on its own (the harness reads only this part of the manifest)."""
    return _DECLARED.validate_python(table)


class Params(Mapping[str, Any]):
    """One run's params, typed and defaulted from the declarations: ``ctx.params.cut_ratio``.

    Read-only. Also a mapping (``dict(ctx.params)``), for code that echoes or forwards them.
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any] | None = None):
        object.__setattr__(self, "_values", dict(values or {}))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no param {name!r} (declared: {', '.join(sorted(self._values)) or 'none'})") \
                from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("params are read-only")

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Params({self._values!r})"

    def __reduce__(self):
        return (Params, (self._values,))


def resolve_params(specs: Mapping[str, ParamSpec], values: Mapping[str, Any]) -> Params:
    """The declared defaults, then ``values``, each checked against its declaration.

    Raises :class:`ParamValueError` for an undeclared name or a value that does not fit."""
    out = {k: (list(s.default) if isinstance(s.default, list) else s.default) for k, s in specs.items()}
    for key, value in values.items():
        spec = specs.get(key)
        if spec is None:
            raise ParamValueError(key, f"not declared (declared: {', '.join(sorted(specs)) or 'none'})")
        try:
            out[key] = spec.check(value)
        except ValueError as exc:
            raise ParamValueError(key, str(exc)) from None
    return Params(out)
