"""Read ``analyzers/*/analyzer.toml`` into a plain dict. Never imports analyzer code."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from runner.core.errors import PlanError, RegistryError
from shared_schema.manifest import Manifest, ManifestError, load_manifest


@dataclass(frozen=True)
class Entry:
    manifest: Manifest
    path: Path  # the analyzer's folder

    @property
    def name(self) -> str:
        return self.manifest.name


Registry = dict[str, Entry]


def load_registry(dirs: tuple[Path, ...] | list[Path], *, include_test_only: bool = False) -> Registry:
    """Every analyzer under ``dirs``; unknown upstream names are an error naming them."""
    registry: Registry = {}
    problems: list[str] = []
    for root in dirs:
        for toml in sorted(Path(root).glob("*/analyzer.toml")):
            try:
                m = load_manifest(toml)
            except ManifestError as exc:
                problems.append(str(exc))
                continue
            if m.test_only and not include_test_only:
                continue
            if m.name in registry:
                problems.append(f"{toml}: analyzer {m.name!r} also defined in {registry[m.name].path}")
                continue
            registry[m.name] = Entry(m, toml.parent)
    if problems:
        raise RegistryError("invalid analyzer manifest(s): " + " | ".join(problems))
    unknown = sorted({(e.name, u) for e in registry.values() for u in e.manifest.upstream if u not in registry})
    if unknown:
        raise PlanError("unknown analyzer(s) named in after/needs: "
                        + ", ".join(f"{u} (in {n})" for n, u in unknown), [u for _, u in unknown])
    return registry


def registry_for(settings) -> Registry:
    """The registry a run with these settings sees."""
    return load_registry(settings.analyzers_dirs, include_test_only=settings.include_test_only)
