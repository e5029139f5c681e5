"""One summary row per video, and its progress line."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from runner.batch.result import VideoResult
from runner.batch.shape import VideoJob
from shared_schema.report import Report


def executed(report: Report) -> list[str]:
    """Analyzers launched in this run (not reused from the result cache)."""
    return sorted(n for n, e in report.analyzers.items() if e.cache is None and e.attempts)


def cached(report: Report) -> list[str]:
    return sorted(n for n, e in report.analyzers.items() if e.cache is not None)


def _row(job: VideoJob, submitted: float, res: VideoResult | None, report: Report | None, report_path: Path | None,
         error: dict[str, Any] | None) -> dict[str, Any]:
    row: dict[str, Any] = {"index": job.index, "source": job.source, "name": job.name,
                           "status": "error", "report": str(report_path) if report_path else None,
                           "counts": {}, "cached": 0, "executed": 0, "timings": {},
                           "resources": asdict(job.shape), "node": res.node if res else None,
                           "node_id": res.node_id if res else None, "retries": res.retries if res else [],
                           "workdir": res.workdir if res else None, "error": error}
    if res is not None and res.started:
        row["timings"]["queue_s"] = round(max(0.0, res.started - submitted), 3)
        row["timings"]["task_s"] = round(res.finished - res.started, 3)
    if report is not None:
        t = report.run.timings
        ran = executed(report)
        row["timings"].update(probe_s=t.probe_s, extract_s=t.extract_s, merge_s=t.merge_s, total_s=t.total_s,
                              analyzers_s=round(sum(t.analyzers_s.get(n, 0.0) for n in ran), 3))
        row.update(counts={s.value: n for s, n in report.counts.items() if n}, cached=len(cached(report)),
                   executed=len(ran), run_id=report.run.run_id,
                   status="interrupted" if report.run.interrupted else "ok" if report.all_ok else "partial")
    elif res is not None and res.interrupted:
        row["status"] = "interrupted"
    return row


def _progress_line(k: int, n: int, row: dict[str, Any]) -> str:
    counts = ", ".join(f"{v} {s}" for s, v in row["counts"].items())
    if row["counts"]:
        counts += f"; {row['cached']} cached"
    if row["error"]:
        counts = f"{row['error']['type']}: {row['error']['message'].splitlines()[0][:100]}"
    secs = row["timings"].get("task_s", row["timings"].get("total_s"))
    return f"[{k}/{n}] {row['name']} {row['status']} ({counts})" + (f" {secs:.1f}s" if secs is not None else "")
