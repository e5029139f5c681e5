"""The model store: which declared model files are present, and their checksums."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from runner.core.registry import Registry
from shared_schema.checksum import sha256_path
from shared_schema.manifest import ModelRequirement


@dataclass(frozen=True)
class ModelStatus:
    analyzer: str
    model: ModelRequirement
    present: bool | None      # None: ships in a package, checked inside the env/image
    checksum_ok: bool | None  # None: not checked


def pull_fix(m: ModelRequirement) -> str:
    """The fix of an absent store model: ``runner models pull NAME`` (it says how to make one it cannot fetch)."""
    fix = f"runner models pull {m.name}"
    if m.fix and m.fix.startswith(fix):
        return m.fix  # the manifest's own: the pull, then the command that makes it by hand
    return fix + (f" (or by hand: {m.fix})" if m.fix else "")


def missing_models(registry: Registry, names: list[str], store: Path) -> dict[str, list[tuple[str, str | None]]]:
    """Required store models that are absent, per analyzer (fast: existence only)."""
    out: dict[str, list[tuple[str, str | None]]] = {}
    for n in names:
        for m in registry[n].manifest.models:
            if m.path and not m.optional and not (store / m.path).exists():
                out.setdefault(n, []).append((m.name, pull_fix(m)))
    return out


def status(registry: Registry, store: Path, verify: bool = False) -> list[ModelStatus]:
    rows = []
    for name, entry in sorted(registry.items()):
        for m in entry.manifest.models:
            if not m.path:
                rows.append(ModelStatus(name, m, None, None))
                continue
            p = store / m.path
            ok = None
            if verify and p.exists() and m.sha256:
                ok = sha256_path(p) == m.sha256
            rows.append(ModelStatus(name, m, p.exists(), ok))
    return rows
