"""``make schema``: JSON Schema files for every contract."""
from __future__ import annotations

import json
from pathlib import Path

from runner.core.config import Settings
from runner.core.registry import registry_for
from shared_schema import Envelope, JobSpec, Manifest, MediaInfo, Report
from shared_schema.results import resolve_result_model


def export(out: Path, settings: Settings) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in (("report", Report), ("envelope", Envelope), ("manifest", Manifest),
                        ("job", JobSpec), ("media", MediaInfo)):
        written.append(_write(out / f"{name}.schema.json", model.model_json_schema()))
    registry = registry_for(settings)
    for n, e in sorted(registry.items()):
        model = resolve_result_model(e.manifest.result)
        written.append(_write(out / "results" / f"{n}.schema.json", model.model_json_schema()))
    return written


def _write(path: Path, schema: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
    return path
