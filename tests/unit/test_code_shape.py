"""Modules stay under about 400 lines and functions under about 60, or say here why not.

The limits are the house rule (README, issue 17): a module has one job, a function fits on a screen.
An exception is listed with its reason; a listed exception that no longer exceeds the limit fails too,
so the list cannot go stale.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("runner", "analyzers", "shared_schema")
MAX_MODULE_LINES = 420
MAX_FUNCTION_LINES = 70

# path -> reason; function keys are "path:function"
EXCEPTIONS: dict[str, str] = {
}


def _sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")
                  if "vendor" not in p.parts and "__pycache__" not in p.parts)


def _long_things() -> dict[str, int]:
    found: dict[str, int] = {}
    for path in _sources():
        rel = path.relative_to(ROOT).as_posix()
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n") + 1
        if lines > MAX_MODULE_LINES:
            found[rel] = lines
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    found[f"{rel}:{node.name}"] = n
    return found


def test_modules_and_functions_stay_small():
    over = {k: v for k, v in _long_things().items() if k not in EXCEPTIONS}
    assert not over, ("over the limits (split it, or list it in EXCEPTIONS with the reason): "
                      + ", ".join(f"{k} ({v} lines)" for k, v in sorted(over.items())))


def test_every_listed_exception_is_still_needed():
    found = _long_things()
    stale = sorted(k for k in EXCEPTIONS if k not in found)
    assert not stale, f"no longer over the limit, remove from EXCEPTIONS: {stale}"


def test_every_exception_says_why():
    assert all(len(why.split()) >= 4 for why in EXCEPTIONS.values()), EXCEPTIONS


def test_the_check_can_fail(tmp_path, monkeypatch):
    """A module over the limit and a function over the limit are both reported."""
    pkg = tmp_path / "runner"
    pkg.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES + 1))
    (pkg / "big.py").write_text("def f():\n" + body + "\n" + "\n" * MAX_MODULE_LINES)
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    found = _long_things()
    assert set(found) == {"runner/big.py", "runner/big.py:f"}, found
