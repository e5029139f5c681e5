"""Merge every envelope into one validated report, written atomically."""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from shared_schema.envelope import Envelope, Status
from shared_schema.media import MediaInfo
from shared_schema.report import Report, RunInfo


def build_report(run: RunInfo, media: MediaInfo, stages: list[list[str]],
                 envelopes: dict[str, Envelope], selected: list[str]) -> Report:
    ordered = {n: envelopes[n] for stage in stages for n in stage if n in envelopes}
    missing = [n for n in selected if n not in ordered]
    if missing:  # must not happen; a report that silently drops an analyzer is worse than an error
        raise RuntimeError(f"no envelope for: {', '.join(missing)}")
    counts = Counter(e.status for e in ordered.values())
    report = Report(run=run, media=media, stages=stages,
                    counts={s: counts.get(s, 0) for s in Status}, analyzers=ordered)
    return Report.model_validate(report.model_dump(mode="json"))  # round-trip: what we write validates


def write_report(report: Report, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(report.model_dump_json(indent=2))
    os.replace(tmp, path)
    return path
