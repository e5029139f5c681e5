"""The store files a run's ``model`` params name, hashed on the host (issue 23).

A store model param (:func:`runner.core.params.store_params`: object_detection.model,
speech_transcription.language_id_model, ...) can name a file or folder of the store that no
``[[models]]`` entry declares. Whatever it names, the host hashes it before launch (remembered by
file identity like every store model, :func:`runner.models.verify.digest`), and that sha256 goes
into the result's cache key (other bytes under the same name are another result) and into the
envelope's ``models`` (the runner's record of what ran, not the sandbox's claim).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Mapping

from runner.models.verify import digest
from runner.core.params import store_params
from shared_schema.envelope import ModelUse
from shared_schema.manifest import Manifest

__all__ = ["Chosen", "chosen_models", "key_rows", "model_uses"]


@dataclass(frozen=True)
class Chosen:
    param: str
    value: str
    sha256: str | None        # None: not in the store (the analyzer skips, or it is a package sentinel)


def _in_store(models_dir: Path, value: str) -> Path | None:
    rel = PurePosixPath(value)
    if not value or rel.is_absolute() or ".." in rel.parts:
        return None
    path = models_dir / value
    try:
        inside = path.resolve().is_relative_to(models_dir.resolve())
    except OSError:
        return None
    return path if inside and path.exists() else None


def chosen_models(manifest: Manifest, params: Mapping[str, Any], models_dir: Path | None,
                  cache_file: Path | None = None) -> list[Chosen]:
    """What each store model param of ``params`` (a job's, every declared one) names, with its sha256."""
    out = []
    for name in store_params(manifest):
        value = params.get(name)
        if not isinstance(value, str) or not value:
            continue
        path = _in_store(models_dir, value) if models_dir is not None else None
        out.append(Chosen(name, value, digest(path, cache_file) if path is not None else None))
    return out


def key_rows(chosen: list[Chosen]) -> list[dict]:
    """What goes into the cache key."""
    return [{"param": c.param, "value": c.value, "sha256": c.sha256} for c in chosen]


def model_uses(manifest: Manifest, chosen: list[Chosen]) -> list[ModelUse]:
    """The envelope's record of each hashed file; not of a declared model whose declared sha256 it
    matches (checked against it before launch, and recorded under its own name)."""
    declared = {(m.path, m.sha256) for m in manifest.models if m.path and m.sha256}
    return [ModelUse(name=f"{manifest.name}.{c.param}={c.value}",
                     source=f"model store: {c.value} (sha256 taken by the runner before launch)", sha256=c.sha256)
            for c in chosen if c.sha256 is not None and (c.value, c.sha256) not in declared]
