"""What a batch runs on: INPUTS expanded to a deduplicated list of sources, and stable output names.

An input is a folder (its video files by extension, sorted; not recursive), a ``.txt`` file (one
path or URL per line; blank lines, ``#`` lines and `` #`` tails ignored; relative paths are relative to the
list's folder), a URL, or any other path (kept as given: a missing or broken file becomes that
video's error row, never a failed batch).
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from runner.run.pipeline import is_url

__all__ = ["VIDEO_EXTENSIONS", "expand_inputs", "out_name"]

VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".flv", ".wmv",
                              ".mpg", ".mpeg", ".3gp", ".ts"})


def _folder(path: Path) -> list[str]:
    return [str(p.resolve()) for p in sorted(path.iterdir())
            if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS]


def _listing(path: Path) -> list[str]:
    out: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = re.split(r"\s#", line.strip(), maxsplit=1)[0].strip()  # "# note" or "path  # note"
        if not line or line.startswith("#"):
            continue
        if is_url(line):
            out.append(line)
            continue
        p = Path(line).expanduser()
        p = p if p.is_absolute() else path.parent / p
        out.extend(_folder(p) if p.is_dir() else [str(p.resolve())])
    return out


def expand_inputs(args: list[str] | tuple[str, ...]) -> list[str]:
    """Sources in input order, each once: absolute paths for files, URLs as given."""
    seen: set[str] = set()
    out: list[str] = []
    for arg in args:
        if is_url(arg):
            found = [arg]
        else:
            p = Path(arg).expanduser()
            if p.is_dir():
                found = _folder(p)
            elif p.is_file() and p.suffix.lower() == ".txt":
                found = _listing(p)
            else:
                found = [str(p.resolve())]
        for src in found:
            if src not in seen:
                seen.add(src)
                out.append(src)
    return out


def out_name(source: str) -> str:
    """``<stem>-<8 hex>``: readable, and the same for the same source on every rerun."""
    if is_url(source):
        stem = source.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    else:
        stem = Path(source).stem
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_")[:40] or "video"
    return f"{stem}-{hashlib.sha256(source.encode()).hexdigest()[:8]}"
