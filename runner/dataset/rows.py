"""One report -> its rows in every table: ``videos`` and ``analyzer_runs`` here, the results through
one mapper per analyzer (rows_visual, rows_audio, rows_scores, text).

A report of a failed or partial run still gives its ``videos`` row and one ``analyzer_runs`` row per
analyzer, with its status and reason. A result that cannot be read costs only that analyzer's rows:
its ``analyzer_runs.result_error`` says why.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from runner.dataset import rows_audio, rows_scores, rows_visual, text
from runner.dataset.schemas import SCHEMA_VERSION, TABLE_NAMES
from runner.dataset.values import PartialResult, Rows
from shared_schema.envelope import Envelope, Status
from shared_schema.report import Report

#: analyzer -> its mapper(result, every ok result of the video, rows); a plain dict
MAPPERS = {**rows_visual.MAPPERS, **rows_audio.MAPPERS, **rows_scores.MAPPERS, **text.MAPPERS}

FAILED = {Status.failed, Status.invalid_output, Status.oom, Status.timeout, Status.crashed}
#: envelope keys that would name what ran an analyzer (an image id, a source digest), first present wins;
#: today's envelopes record none of them (only the cache key), so runtime_digest is null
RUNTIME_KEYS = ("runtime_digest", "image_id", "image", "source_digest")


@dataclass
class VideoRows:
    video_id: str
    run_id: str
    finished_at: datetime
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def count(self, table: str) -> int:
        return len(self.tables.get(table, ()))


def video_status(report: Report) -> str:
    return "interrupted" if report.run.interrupted else "ok" if report.all_ok else "partial"


def _video_row(report: Report, report_path: str | None, exported_at: datetime) -> dict[str, Any]:
    m, run = report.media, report.run
    statuses = [e.status for e in report.analyzers.values()]
    return {
        "source": run.input.url or m.source_url or m.path, "url": run.input.url or m.source_url,
        "duration_s": m.duration_s, "size_bytes": m.size_bytes, "container": m.container,
        "width": m.video.width, "height": m.video.height, "fps": m.video.fps, "frame_count": m.video.frame_count,
        "video_codec": m.video.codec, "bit_rate": m.bit_rate, "has_audio": m.audio is not None,
        "audio_codec": m.audio.codec if m.audio else None, "status": video_status(report),
        "analyzers_ok": sum(st is Status.ok for st in statuses),
        "analyzers_failed": sum(st in FAILED for st in statuses),
        "analyzers_skipped": sum(st is Status.skipped for st in statuses),
        "statuses": [(n, e.status.value) for n, e in sorted(report.analyzers.items())],
        "runner_version": run.runner_version, "report_schema_version": report.schema_version,
        "export_schema_version": SCHEMA_VERSION, "backend": run.backend, "started_at": run.started_at,
        "finished_at": run.finished_at, "total_s": run.timings.total_s, "report_path": report_path,
        "exported_at": exported_at,
    }


def _run_row(name: str, env: Envelope, result_rows: int, result_error: str | None) -> dict[str, Any]:
    dumped = env.model_dump(include=set(RUNTIME_KEYS) & set(type(env).model_fields))
    err = env.error
    return {
        "analyzer": name, "analyzer_version": env.analyzer_version, "status": env.status.value,
        "skip_reason": env.skip_reason.value if env.skip_reason else None,
        "error_type": err.type if err else None, "error_message": err.message if err else None,
        "error_fix": err.fix if err else None, "device": env.device, "started_at": env.started_at,
        "duration_s": env.duration_s, "attempts": len(env.attempts),
        "attempt_statuses": [a.status.value for a in env.attempts],
        "exit_code": env.exit_code if env.exit_code is None or abs(env.exit_code) < 2**31 else None,
        "degraded": env.degraded, "degraded_reasons": list(env.degraded_reasons),
        "models": [{"name": u.name, "source": u.source, "sha256": u.sha256} for u in env.models],
        "cached": env.cache is not None, "cache_key": env.cache.key if env.cache else None,
        "cached_from_run": env.cache.run_id if env.cache else None,
        "runtime_digest": next((str(dumped[k]) for k in RUNTIME_KEYS if dumped.get(k)), None),
        "dropped_outputs": len(env.dropped), "result_rows": result_rows, "result_error": result_error,
    }


def _map_result(name: str, results: dict[str, dict]) -> tuple[Rows, str | None]:
    out = Rows()
    error = None
    try:
        MAPPERS[name](results[name], results, out)
    except PartialResult as exc:
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 - a result we cannot read costs its own rows, not the export
        return Rows(), f"{type(exc).__name__}: {exc}"[:500]
    if out.odd:
        odd = f"{out.odd} item(s) of its result were not what its schema says (left out)"
        error = f"{error}; {odd}" if error else odd
    return out, error


def map_report(report: Report, report_path: str | None, exported_at: datetime) -> VideoRows:
    """Every row one report gives, per table (without video_id and run_id: the writer adds them)."""
    tables: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLE_NAMES}
    results = {n: e.result for n, e in report.analyzers.items()
               if e.status is Status.ok and isinstance(e.result, dict)}
    for name, env in sorted(report.analyzers.items()):
        rows, error = (_map_result(name, results) if name in results and name in MAPPERS else (Rows(), None))
        for table, items in rows.tables.items():
            tables[table].extend(items)
        tables["analyzer_runs"].append(_run_row(name, env, len(rows), error))
    tables["videos"].append(_video_row(report, report_path, exported_at))
    return VideoRows(video_id=report.media.sha256, run_id=report.run.run_id, finished_at=report.run.finished_at,
                     tables=tables)
