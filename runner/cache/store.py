"""The result cache: an ``ok`` envelope and its output files, stored under a key.

The key (see :mod:`runner.cache.keys`) is a sha256 over everything that
determines a result: the input's sha256, the analyzer's name and version, its
image id (docker) or source digest and environment (local), its params, its
models' sha256, the frame sets it reads, its device and the results of the
analyzers it reads. A rerun reuses every entry whose key matches.

Layout: ``<cache_dir>/v2/<key[:2]>/<key>/{meta.json, envelope.json, out/}``.
Only what :mod:`runner.core.outbox` keeps of ``out/<name>/`` is stored (regular single-link
files under the caps, copied from the fd that was checked; never a link's target).
Entries are written into a temporary folder and renamed into place, so
concurrent runs (batch workers on one node) never see half an entry. The last
use of an entry is the mtime of its ``meta.json`` (``prune`` evicts by it).
"""
from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from runner.core.outbox import Limits, copy_tree
from shared_schema.envelope import CacheInfo, Envelope

LAYOUT = "v2"  # v2: only regular single-link files read through outbox (issue 14); v1 entries are never read
#: files of out/<name>/ the envelope replaces (result.json) or the runner rewrites
_SKIP_FILES = frozenset({"result.json"})


@dataclass(frozen=True)
class CacheEntry:
    key: str
    path: Path
    meta: dict
    size: int
    last_used: float

    @property
    def analyzer(self) -> str:
        return self.meta.get("analyzer", "?")


def _tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class ResultCache:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.base = self.root / LAYOUT

    def _dir(self, key: str) -> Path:
        return self.base / key[:2] / key

    # -- use during a run ---------------------------------------------------
    def get(self, key: str, out_dir: Path) -> Envelope | None:
        """The cached envelope (with ``cache`` set) after copying its files into ``out_dir``; or None."""
        d = self._dir(key)
        try:
            meta = json.loads((d / "meta.json").read_text())
            env = Envelope.model_validate_json((d / "envelope.json").read_text())
        except (OSError, ValueError):
            return None  # absent, or half-deleted by a concurrent prune: run it
        fresh = out_dir.with_name(f".{out_dir.name}.restore.{uuid.uuid4().hex[:8]}")
        try:
            src = d / "out"
            if src.is_dir():
                shutil.copytree(src, fresh, symlinks=True)
            else:
                fresh.mkdir(parents=True)
        except OSError:
            shutil.rmtree(fresh, ignore_errors=True)
            return None
        shutil.rmtree(out_dir, ignore_errors=True)  # whatever was there (rmtree follows no link)
        fresh.rename(out_dir)
        os.utime(d / "meta.json")
        return env.model_copy(update={"cache": CacheInfo(
            key=key, run_id=meta.get("run_id", "?"), created_at=datetime.fromisoformat(meta["created_at"]))})

    def put(self, key: str, env: Envelope, out_dir: Path, meta: dict, limits: Limits | None = None) -> bool:
        """Store ``env`` and the files of ``out_dir`` that :func:`runner.core.outbox.copy_tree` keeps
        (no link, no hardlink, nothing but regular files under ``limits``); False when it was there."""
        final = self._dir(key)
        if final.exists():
            os.utime(final / "meta.json")
            return False
        tmp = self.base / "tmp" / f"{key}.{uuid.uuid4().hex[:8]}"
        tmp.mkdir(parents=True)
        try:
            copy_tree(out_dir, tmp / "out", limits or Limits(),
                      skip=lambda rel: rel in _SKIP_FILES or rel.rsplit("/", 1)[-1].startswith("."))
            (tmp / "envelope.json").write_text(env.model_copy(update={"cache": None}).model_dump_json(indent=2))
            meta = {**meta, "key": key, "created_at": datetime.now(timezone.utc).isoformat()}
            (tmp / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
            final.parent.mkdir(parents=True, exist_ok=True)
            try:
                tmp.rename(final)
            except OSError:  # a concurrent run stored the same key first
                return False
            return True
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # -- housekeeping ---------------------------------------------------------
    def entries(self) -> list[CacheEntry]:
        out = []
        if not self.base.is_dir():
            return out
        for shard in sorted(self.base.iterdir()):
            if shard.name == "tmp" or not shard.is_dir():
                continue
            for d in sorted(shard.iterdir()):
                try:
                    meta = json.loads((d / "meta.json").read_text())
                    last = (d / "meta.json").stat().st_mtime
                except (OSError, ValueError):
                    continue
                out.append(CacheEntry(key=d.name, path=d, meta=meta, size=_tree_size(d), last_used=last))
        return out

    def remove(self, entry: CacheEntry) -> None:
        # rename first so a reader never copies a half-deleted folder
        doomed = entry.path.with_name(f".{entry.key}.deleting.{uuid.uuid4().hex[:6]}")
        try:
            entry.path.rename(doomed)
        except OSError:
            return
        shutil.rmtree(doomed, ignore_errors=True)

    def prune(self, *, everything: bool = False, older_than_s: float | None = None,
              analyzer: str | None = None, max_bytes: int | None = None, now: float | None = None
              ) -> list[CacheEntry]:
        """Remove entries matching every given filter; then, with ``max_bytes``, the least recently
        used until the cache fits. Returns what was removed."""
        now = time.time() if now is None else now
        entries = self.entries()
        doomed: list[CacheEntry] = []
        filtered = everything or older_than_s is not None or analyzer is not None
        if filtered:
            for e in entries:
                if analyzer is not None and e.analyzer != analyzer:
                    continue
                if older_than_s is not None and now - e.last_used < older_than_s:
                    continue
                doomed.append(e)
        if max_bytes is not None:
            keep = sorted((e for e in entries if e not in doomed), key=lambda e: e.last_used, reverse=True)
            total = sum(e.size for e in keep)
            while keep and total > max_bytes:
                e = keep.pop()
                doomed.append(e)
                total -= e.size
        for e in doomed:
            self.remove(e)
        return doomed
