"""Typed readers for values taken out of a report's JSON, and the row collector the mappers fill.

A result in a report is data written by a sandbox (validated against its schema when it was
collected, but possibly by another version of that schema): every value is read through ``f`` /
``i`` / ``s`` / ``b`` / ``lst`` / ``obj``, which return ``None`` (or an empty container) for a value
of the wrong type instead of raising, so one odd field is a NULL, never a failed export.
"""
from __future__ import annotations

from typing import Any

_I32 = 2**31 - 1


def f(x: Any) -> float | None:
    """A finite float, or None."""
    t = type(x)
    if t is float:                       # the common case first: this runs for every number exported
        return x if x - x == 0.0 else None      # inf - inf and nan - nan are nan
    if t is int:
        return float(x) if -2**1023 < x < 2**1023 else None
    return None


def i(x: Any) -> int | None:
    """An int (an integral float too) within int32, or None."""
    if isinstance(x, bool):
        return None
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    return x if isinstance(x, int) and -_I32 <= x <= _I32 else None


def i64(x: Any) -> int | None:
    if isinstance(x, bool) or not isinstance(x, int):
        return None
    return x if -2**63 <= x < 2**63 else None


def s(x: Any) -> str | None:
    return x if isinstance(x, str) else None


def b(x: Any) -> bool | None:
    return x if isinstance(x, bool) else None


def lst(x: Any) -> list:
    return x if isinstance(x, list) else []


def obj(x: Any) -> dict:
    return x if isinstance(x, dict) else {}


def strs(x: Any) -> list[str]:
    return [v for v in lst(x) if isinstance(v, str)]


def norm(word: str) -> str:
    """Lower-case letters and digits only: how ``words.norm`` and ``text.tokens`` are matched."""
    return "".join(ch for ch in word.lower() if ch.isalnum())


def tokens(text: str) -> list[str]:
    return [t for t in (norm(w) for w in text.split()) if t]


def box(x: Any) -> dict[str, float | None]:
    d = obj(x)
    return {k: f(d.get(k)) for k in ("x1", "y1", "x2", "y2")}


class PartialResult(ValueError):
    """Raised by a mapper after it added the rows it could read: they are kept, the message is the
    analyzer's ``result_error``. Any other exception discards the analyzer's rows."""


class Rows:
    """Rows of one analyzer's result, per table; the writer adds video_id and run_id."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self.odd = 0        # list items that were not objects, lists that were not lists: left out

    def items(self, x: Any) -> list[dict]:
        """The objects of a list in the result; anything else there is counted in ``odd``, not a row."""
        if x is not None and not isinstance(x, list):
            self.odd += 1
        items = lst(x)
        good = [v for v in items if isinstance(v, dict)]
        self.odd += len(items) - len(good)
        return good

    def add(self, table: str, **values: Any) -> None:
        self.tables.setdefault(table, []).append(values)

    def score(self, analyzer: str, name: str, value: Any = None, text: Any = None,
              start: Any = None, end: Any = None) -> None:
        """A ``scores`` row; a value that is neither a number nor a string is left out (NULL)."""
        if isinstance(value, bool):
            value = float(value)
        self.add("scores", analyzer=analyzer, name=name, value=f(value), text=s(text), start_s=f(start), end_s=f(end))

    def __len__(self) -> int:
        return sum(len(v) for v in self.tables.values())
