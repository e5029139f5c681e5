"""What a cached result is keyed on, and the cache as one run uses it.

A key is the sha256 of a canonical JSON document (see :func:`key_document`):
the input's sha256, the extraction of the frame sets and audio the analyzer
reads, the analyzer's name and version, the identity of what runs it (image
id, or source digest + environment on the local backend), its effective
params, its device, its models (and the sha256 of each store file a model
param names), and a digest of each upstream result it reads.
Upstream digests cover the upstream's *result*, not its key: when a changed
param leaves an upstream result the same, its readers are still reused.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from runner.cache.store import ResultCache
from runner.core.registry import Entry
from shared_schema.envelope import SCHEMA_VERSION, Envelope, Status

log = logging.getLogger(__name__)

#: bump when extract.py changes the frames or audio it writes for the same input
EXTRACT_VERSION = "2"  # 2: frame-set timestamps are the times the frames show (fps round=up)
AUDIO_FORMAT = "pcm_s16le-16000-mono"


def _digest(doc: Any) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str, separators=(",", ":")).encode()).hexdigest()


def result_digest(env: Envelope) -> str:
    """What a reader of this envelope sees: status and result (not timings, not logs)."""
    return _digest({"status": env.status.value, "skip_reason": env.skip_reason.value if env.skip_reason else None,
                    "degraded": env.degraded, "result": env.result})


def model_state(models_dir: Path | None, entry: Entry) -> list[dict]:
    """Declared models with what is in the store now (a model added later changes the key)."""
    out = []
    for m in entry.manifest.models:
        row: dict[str, Any] = {"name": m.name, "package": m.package, "sha256": m.sha256, "path": m.path}
        if m.path:
            p = (models_dir / m.path) if models_dir else None
            row["present"] = bool(p and p.exists())
            if row["present"] and not m.sha256:
                st = p.stat()
                row["stat"] = [st.st_size, st.st_mtime_ns]
        out.append(row)
    return out


def key_document(*, input_sha256: str, entry: Entry, identity: str, params: dict, device: str,
                 frame_specs: dict[str, dict], models: list[dict], upstream: dict[str, str],
                 chosen: list[dict] | None = None) -> dict:
    """``chosen``: the sha256 of each store file a model param names (runner.models.chosen); only
    analyzers that have such a param carry the field, so the others keep their keys."""
    m = entry.manifest
    doc = {
        "schema": SCHEMA_VERSION, "extract": EXTRACT_VERSION, "input": input_sha256,
        "analyzer": m.name, "version": m.version, "identity": identity,
        "params": params, "device": device, "models": models,
        "frames": {s: frame_specs.get(s) for s in m.inputs.frames},
        "audio": AUDIO_FORMAT if m.inputs.audio else None,
        "upstream": upstream,
    }
    if chosen:
        doc["chosen"] = chosen
    return doc


@dataclass
class RunCache:
    """The result cache bound to one run: the store, the input, and how to name the implementation."""

    store: ResultCache
    input_sha256: str
    frame_specs: dict[str, dict]
    identity: Callable[[Entry], str | None]     # backend: image id / local source digest; None = do not cache
    models_dir: Path | None = None
    read: bool = True                           # False: --no-cache (run everything, still store)
    hits: list[str] = field(default_factory=list)
    stored: list[str] = field(default_factory=list)

    def key(self, entry: Entry, params: dict, device: str, upstream: dict[str, Envelope | None],
            chosen: list[dict] | None = None) -> str | None:
        try:
            ident = self.identity(entry)
        except Exception as exc:  # an unknown implementation is never a reason to fail the run
            log.warning("no cache identity for %s: %s", entry.name, exc)
            return None
        if ident is None:
            return None
        doc = key_document(input_sha256=self.input_sha256, entry=entry, identity=ident, params=params,
                           device=device, frame_specs=self.frame_specs,
                           models=model_state(self.models_dir, entry),
                           upstream={u: (result_digest(e) if e is not None else None)
                                     for u, e in sorted(upstream.items())}, chosen=chosen)
        return _digest(doc)

    def lookup(self, key: str, out_dir: Path) -> Envelope | None:
        if not self.read:
            return None
        env = self.store.get(key, out_dir)
        if env is not None:
            self.hits.append(env.analyzer)
        return env

    def save(self, key: str, env: Envelope, out_dir: Path, run_id: str, source: str, limits=None) -> None:
        """Store an ok result that ran with its own params (not one degraded by retry overrides)."""
        if env.status is not Status.ok or any(a.overrides for a in env.attempts):
            return
        try:
            if self.store.put(key, env, out_dir, {"analyzer": env.analyzer, "version": env.analyzer_version,
                                                  "input_sha256": self.input_sha256, "run_id": run_id,
                                                  "source": source}, limits):
                self.stored.append(env.analyzer)
        except OSError as exc:  # a full disk costs the cache entry, not the result
            log.warning("could not store %s in the result cache: %s", env.analyzer, exc)
