"""What a timeline lane holds, and defensive readers for ``envelope.result`` dicts.

Lanes are plain records (no plotly here), so what the page shows can be tested
without a browser; ``timeline.py`` turns them into one plotly figure.
"""
from __future__ import annotations

import html
import math
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from shared_schema.envelope import Envelope, Status
from shared_schema.report import Report

__all__ = ["Span", "Mark", "Series", "Lane", "Missing", "num", "dicts", "span_of", "text", "esc", "wrap", "clip",
           "result_of", "status_line", "why_missing"]


@dataclass
class Span:
    """A bar from ``start`` to ``end`` on a row (a category, or a y value on a values lane)."""

    start: float
    end: float
    row: str | float
    label: str = ""       # drawn inside the bar when it fits
    hover: str = ""
    color: str = ""       # a category key: timeline.py maps it to a colour


@dataclass
class Mark:
    """An instant (a cut, a key moment) on a row."""

    t: float
    row: str | float
    hover: str = ""
    color: str = ""
    symbol: str = "line-ns-open"


@dataclass
class Series:
    """A line over time on a values lane."""

    name: str
    xs: list[float]
    ys: list[float | None]  # None: not measured there, a gap in the line
    hover: list[str] = field(default_factory=list)
    shape: Literal["linear", "hv"] = "linear"
    color: str = ""


@dataclass
class Lane:
    """One timeline (one subplot): ``rows`` lanes are categorical, ``values`` lanes numeric."""

    key: str
    title: str
    kind: Literal["rows", "values"]
    sources: list[str]
    rows: list[str] = field(default_factory=list)      # top to bottom
    spans: list[Span] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    y_title: str = ""
    y_range: tuple[float, float] | None = None
    notes: list[str] = field(default_factory=list)     # parts of this lane that are not in the report


@dataclass
class Missing:
    """A timeline the report cannot draw, and why."""

    key: str
    title: str
    why: str


# ---- reading untrusted result dicts ----------------------------------------
def num(x: Any) -> float | None:
    """A finite number, else None (bools are not numbers here)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return float(x) if math.isfinite(x) else None


def dicts(d: Any, key: str) -> list[dict]:
    """``d[key]`` when it is a list, keeping only its dict items; else []."""
    v = d.get(key) if isinstance(d, dict) else None
    return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []


def xy(points: list[dict], value: Callable[[dict], float | None]) -> tuple[list[float], list[float]]:
    """(times, values) of the points whose ``t`` and ``value(point)`` are both numbers."""
    xs, ys = [], []
    for p in points:
        t, v = num(p.get("t")), value(p)
        if t is not None and v is not None:
            xs.append(t)
            ys.append(v)
    return xs, ys


def span_of(d: dict) -> tuple[float, float] | None:
    """``(start, end)`` of a span dict when both are numbers and ordered, else None."""
    a, b = num(d.get("start")), num(d.get("end"))
    return (a, b) if a is not None and b is not None and b >= a else None


def text(x: Any) -> str:
    return x.strip() if isinstance(x, str) else ""


def esc(s: str) -> str:
    """Escape text for plotly labels (plotly renders a few tags; user text must show as text)."""
    return html.escape(s, quote=False)


def clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1].rstrip() + "\u2026"


def wrap(s: str, width: int = 60, max_lines: int = 12) -> str:
    """Escaped, wrapped for a hover box."""
    lines = textwrap.wrap(s, width) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines] + ["\u2026"]
    return "<br>".join(esc(x) for x in lines)


def result_of(report: Report, name: str) -> dict | None:
    """The result dict of an ok analyzer, else None."""
    e = report.analyzers.get(name)
    if e is None or e.status is not Status.ok or not isinstance(e.result, dict):
        return None
    return e.result


def status_line(e: Envelope) -> str:
    s = e.status.value + (f" ({e.skip_reason.value})" if e.skip_reason else "")
    if e.error and e.error.message:
        s += ": " + clip(e.error.message.strip().splitlines()[0], 160)
    return s


def why_missing(report: Report, *names: str) -> str:
    """Why none of ``names`` gave this timeline: each one's status, or that it was not run."""
    parts = []
    for n in names:
        e = report.analyzers.get(n)
        if e is None:
            parts.append(f"{n} was not run")
        elif e.status is Status.ok:
            parts.append(f"{n} gave no usable data for it")
        else:
            parts.append(f"{n} {status_line(e)}")
    return "; ".join(parts)
