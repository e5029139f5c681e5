"""Merge every envelope into one validated report, written atomically."""
from __future__ import annotations

import os
import tempfile
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
    """Write ``report`` to ``path`` atomically: a fresh temp file made with ``O_EXCL`` (``mkstemp``)
    in the destination folder, then a rename. No predictable name is ever opened, so a symlink
    planted in that folder (in compose, by another service that can write it) is never written
    through; the rename replaces a link at ``path`` itself, never its target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(report.model_dump_json(indent=2))
            os.fchmod(fh.fileno(), 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
