"""Store models checked against their declared sha256 before a job that loads them is launched.

The store is mounted read-only into every sandbox, so the host checks it once, before the launch:
a file whose sha256 differs from its manifest's is never handed to an analyzer (that analyzer is
``failed`` with ``ModelChecksumMismatch``; the others run). Hashing gigabytes on every run would
cost seconds, so a result is remembered by the file's identity, ``(path, size, mtime_ns, ctime_ns,
inode)`` (for a folder model: that of every file in it): in this process (a dict) and across runs
in ``<RUNNER_CACHE_DIR>/models-verified-v2.json``. A rewrite, a replacement or a ``touch`` changes the
identity (ctime cannot be set back from user space), so the file is hashed again.
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from shared_schema.checksum import identity, sha256_path
from shared_schema.manifest import ModelRequirement

# v2: a folder's sha256 became its manifest digest (shared_schema.checksum); v1 entries are not reused
CACHE_NAME = "models-verified-v2.json"
_lock = threading.Lock()
_memo: dict[tuple, str] = {}                 # identity -> sha256 (this process)
_loaded: dict[Path, dict[str, dict]] = {}    # cache file -> its entries, read once per process


@dataclass(frozen=True)
class Mismatch:
    model: str
    path: Path
    expected: str
    actual: str


def _read(cache_file: Path) -> dict[str, dict]:
    if cache_file not in _loaded:
        try:
            data = json.loads(cache_file.read_text())
            _loaded[cache_file] = data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            _loaded[cache_file] = {}
    return _loaded[cache_file]


def _write(cache_file: Path, entries: dict[str, dict]) -> None:
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_name(f".{cache_file.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(entries, sort_keys=True))
        os.replace(tmp, cache_file)
    except OSError:
        pass  # a cache only: the next run hashes again


def digest(path: Path, cache_file: Path | None = None) -> str:
    """sha256 of a store model (as :func:`shared_schema.checksum.sha256_path`), remembered by identity."""
    ident = identity(path)
    with _lock:
        if ident in _memo:
            return _memo[ident]
        if cache_file is not None:
            hit = _read(cache_file).get(str(path))
            if hit and hit.get("identity") == json.loads(json.dumps(ident)):
                _memo[ident] = hit["sha256"]
                return hit["sha256"]
    value = sha256_path(path)
    if identity(path) != ident:  # changed while it was hashed: do not remember either
        return value
    with _lock:
        _memo[ident] = value
        if cache_file is not None:
            entries = _read(cache_file)
            fresh = dict(_read_fresh(cache_file))  # another process may have added entries meanwhile
            fresh.update(entries)
            fresh[str(path)] = {"identity": ident, "sha256": value}
            _loaded[cache_file] = fresh
            _write(cache_file, fresh)
    return value


def _read_fresh(cache_file: Path) -> dict[str, dict]:
    try:
        data = json.loads(cache_file.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def verify(models: list[ModelRequirement], store: Path | None, cache_file: Path | None = None) -> list[Mismatch]:
    """The declared store models (with a sha256) that are present but do not match it."""
    if store is None:
        return []
    bad = []
    for m in models:
        if not m.path or not m.sha256:
            continue
        p = store / m.path
        if not p.exists():
            continue  # absent: the planner skips it (model_absent) or it is optional
        actual = digest(p, cache_file)
        if actual != m.sha256:
            bad.append(Mismatch(m.name, p, m.sha256, actual))
    return bad


def describe(bad: list[Mismatch]) -> tuple[str, str]:
    """``(message, fix)`` for the analyzer's error."""
    lines = [f"model {b.model} at {b.path} does not match its declared sha256: expected {b.expected}, "
             f"actual {b.actual}; it was not loaded" for b in bad]
    fix = ("re-fetch the model into the store (docs/models.md), then check it with: runner models status --verify")
    return "\n".join(lines), fix


def clear_memo() -> None:
    """Forget what this process hashed (tests)."""
    with _lock:
        _memo.clear()
        _loaded.clear()
