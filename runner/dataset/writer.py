"""The streaming export: reports in, one group of Parquet files per export run out.

An :class:`ExportSession` holds the dataset's write lock, maps one report at a time to rows
(:func:`runner.dataset.rows.map_report`) and appends them to the open group's files. ``seal()``
commits the group: rows of its videos in older groups are removed (re-exporting a video replaces
its rows; it never duplicates them), the manifest is replaced, superseded files are deleted.

Within one group, the same video twice keeps the run that finished last (the same run twice is
one); across groups, the later export wins. ``runner batch --dataset`` keeps one session open for
the batch and seals every ``seal_every_s`` seconds, so finished videos show up as the batch goes.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

import pyarrow as pa

from runner import __version__
from runner.dataset import layout
from runner.dataset.layout import Group, Manifest
from runner.dataset.compact import rewrite, tiers_to_merge
from runner.dataset.parts import TableFile, pair, video_ids
from runner.dataset.rows import map_report
from runner.dataset.schemas import FORMAT, SCHEMA_VERSION, TABLE_NAMES, TABLES
from shared_schema.report import Report

#: a report file over this is not read (the runner's own reports are far smaller: tens to hundreds of KB)
MAX_REPORT_BYTES = 256 * 1024**2


@dataclass
class ExportStats:
    added: int = 0            # videos written (a video given twice counts once)
    replaced: int = 0         # videos whose rows from an earlier export were removed
    duplicates: int = 0       # reports of a video already given in the same group (same run, or older)
    skipped: int = 0          # JSON files in the folders given that are not reports (media.json, ...)
    unreadable: list[tuple[str, str]] = field(default_factory=list)   # (path, why)
    rows: dict[str, int] = field(default_factory=dict)
    groups: int = 0           # groups committed
    merges: int = 0           # merges of small groups into one

    def line(self) -> str:
        text = (f"{self.added} videos exported ({self.replaced} replaced earlier rows, {self.duplicates} duplicate "
                f"reports skipped), {sum(self.rows.values())} rows")
        return text + (f"; {len(self.unreadable)} files not exported" if self.unreadable else "")


class _OpenGroup:
    def __init__(self, root: Path):
        self.id = layout.new_group_id()
        self.files = {t: TableFile(root / t / f"{self.id}.parquet", t) for t in TABLE_NAMES}
        self.videos: dict[str, tuple[str, datetime]] = {}     # video_id -> (run_id, finished_at) kept
        self.losers: set[str] = set()                         # pair(video_id, run_id) superseded in this group
        self.opened = time.monotonic()


class ExportSession:
    """``with ExportSession(DIR) as s: s.add_file(p) / s.add_report(r)``; sealed on exit (Ctrl-C too)."""

    def __init__(self, root: Path, *, seal_every_s: float | None = None, seal_every_videos: int | None = None):
        self.root = Path(root)
        self.seal_every_s, self.seal_every_videos = seal_every_s, seal_every_videos
        self.stats = ExportStats()
        self.manifest: Manifest | None = None
        self._group: _OpenGroup | None = None
        self._lock = layout.write_lock(self.root)
        self._ids: dict[str, set[str]] = {}                   # group id -> its videos
        self._broken = False                                  # a write failed: the open group is not committed

    # ------------------------------------------------------------------ open / close
    def __enter__(self) -> "ExportSession":
        self._lock.__enter__()
        try:
            self.manifest = layout.open_for_write(self.root)
            if not (self.root / layout.MANIFEST).exists():     # a new dataset is queryable (empty) at once
                layout.write_manifest(self.root, self.manifest)
            self._sweep()                                       # a crashed writer's leftovers
            self._ids = {g.id: video_ids(self.root / g.files["videos"][0]) for g in self.manifest.groups}
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if not self._broken and (exc_type is None or issubclass(exc_type, KeyboardInterrupt)):
                self.seal()            # what finished before Ctrl-C is good data
        except Exception as err:
            self._group = None
            self._sweep()                                       # what this commit wrote, never listed
            raise layout.DatasetError(f"{self.root}: could not commit the export: {type(err).__name__}: {err}",
                                      fix="the dataset is as it was before this export; export the reports again") from err
        finally:
            if self._group is not None:
                for tf in self._group.files.values():
                    tf.abort()
                self._group = None
            self._lock.__exit__(None, None, None)

    # ------------------------------------------------------------------ adding
    def add_file(self, path: Path, explicit: bool = True) -> bool:
        """Export one report file; False when it is not one (listed in stats.unreadable, or counted in
        stats.skipped when it was found in a folder and is some other JSON)."""
        try:
            report = read_report(path)
        except NotAReport as exc:
            if not explicit:
                self.stats.skipped += 1
                return False
            self.stats.unreadable.append((str(path), str(exc)))
            return False
        except ValueError as exc:
            self.stats.unreadable.append((str(path), str(exc)))
            return False
        self.add_report(report, str(Path(path).resolve()))
        return True

    def add_report(self, report: Report, report_path: str | None = None) -> str:
        """Append one report's rows: 'added', or 'duplicate' when this group already has this run or a
        later one of the video (a later run replaces the earlier one's rows at the seal)."""
        g = self._group or self._open()
        vid, run_id, finished = report.media.sha256, report.run.run_id, report.run.finished_at
        kept = g.videos.get(vid)
        if kept is not None:
            self.stats.duplicates += 1
            if kept[0] == run_id or kept[1] > finished:
                return "duplicate"
            g.losers.add(pair(vid, kept[0]))
        rows = map_report(report, report_path, datetime.now(timezone.utc))
        parts = {}
        for table, items in rows.tables.items():      # every table first, then append: a video is whole or absent
            for item in items:
                item["video_id"], item["run_id"] = vid, run_id
            parts[table] = pa.Table.from_pylist(items, schema=TABLES[table])
        try:
            for table, part in parts.items():
                g.files[table].append(part)
        except BaseException:
            self._broken = True
            raise
        self.stats.added += kept is None
        g.videos[vid] = (run_id, finished)
        if (self.seal_every_videos and len(g.videos) >= self.seal_every_videos) or \
                (self.seal_every_s is not None and time.monotonic() - g.opened >= self.seal_every_s):
            self.seal()
        return "added"

    def _open(self) -> _OpenGroup:
        self._group = _OpenGroup(self.root)
        return self._group

    # ------------------------------------------------------------------ commit
    def seal(self) -> None:
        """Commit the open group (if it has videos): remove its videos' rows from older groups, merge a
        full size tier, replace the manifest, delete what it no longer lists."""
        g, self._group = self._group, None
        if g is None or not g.videos:
            for tf in (g.files.values() if g else ()):
                tf.abort()
            return
        rows = {t: tf.close() for t, tf in g.files.items()}
        group = Group(id=g.id, created_at=datetime.now(timezone.utc), schema_version=SCHEMA_VERSION,
                      runner_version=__version__, videos=len(g.videos), rows=rows,
                      files={t: [f"{t}/{tf.path.name}"] for t, tf in g.files.items()})
        if g.losers:                                   # the same video twice in this group: keep the later run
            group = rewrite(self.root, [group], drop_pairs=frozenset(g.losers))
        ids = set(g.videos)
        groups = []
        for old in self.manifest.groups:
            hit = self._ids[old.id] & ids
            if not hit:
                groups.append(old)
                continue
            self.stats.replaced += len(hit)
            new = rewrite(self.root, [old], drop_ids=frozenset(hit))
            self._ids[new.id] = self._ids.pop(old.id) - hit
            if new.videos:
                groups.append(new)
        self._ids[group.id] = ids
        groups.append(group)
        merge = tiers_to_merge(groups)
        if merge:
            merged = rewrite(self.root, merge)
            self._ids[merged.id] = set().union(*(self._ids.pop(m.id) for m in merge))
            groups = [x for x in groups if x not in merge] + [merged]
            self.stats.merges += 1
        self._commit(groups)
        for t, n in rows.items():
            self.stats.rows[t] = self.stats.rows.get(t, 0) + n
        self.stats.groups += 1

    def compact(self) -> None:
        """Merge every group into one (one file per table)."""
        self.seal()
        if len(self.manifest.groups) <= 1:
            return
        merged = rewrite(self.root, self.manifest.groups)
        self._ids = {merged.id: set().union(*self._ids.values())}
        self._commit([merged])
        self.stats.merges += 1

    def _commit(self, groups: list[Group]) -> None:
        manifest = Manifest(format=FORMAT, schema_version=SCHEMA_VERSION, groups=groups)
        layout.write_manifest(self.root, manifest)      # the commit: readers see the old list or the new one
        self.manifest = manifest
        self._sweep()

    def _sweep(self) -> None:
        """Delete the files the manifest does not list (superseded, or a crashed writer's), unless a
        query is reading: then they wait for the next commit (a writer never waits for a reader)."""
        with layout.commit_lock(self.root, shared=False, blocking=False) as free:
            if free:
                writing = {tf.path for tf in self._group.files.values()} if self._group else set()
                for path in layout.unlisted(self.root, self.manifest):
                    if path not in writing:
                        path.unlink(missing_ok=True)


class NotAReport(ValueError):
    """Valid JSON that is not a report at all (no ``run`` / ``analyzers``)."""


def read_report(path: Path) -> Report:
    """A report file, bounded and validated; ValueError says why it is not one."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_REPORT_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > MAX_REPORT_BYTES:
        raise ValueError(f"over {MAX_REPORT_BYTES} bytes: not a report")
    try:
        return Report.model_validate_json(data)
    except ValueError as exc:
        lines = str(exc).splitlines()
        detail = f"{lines[1]}: {lines[2].strip()}" if len(lines) > 2 else lines[0]
        try:
            raw = json.loads(data)
        except ValueError:
            raise ValueError(f"not JSON: {detail}") from None
        if not (isinstance(raw, dict) and "run" in raw and "analyzers" in raw):
            raise NotAReport("not a report (no run and analyzers)") from None
        raise ValueError(f"not a report this runner reads (report schema {raw.get('schema_version')}): "
                         f"{detail}") from None


def expand(inputs: Iterable[str | Path]) -> Iterator[tuple[Path, bool]]:
    """(report file, named explicitly) from files and folders: a folder gives its ``*.json`` (a batch's
    reports) and every ``report.json`` below it (run workdirs), in name order, each file once."""
    seen: set[Path] = set()
    for raw in inputs:
        p = Path(raw)
        found = sorted(set(p.glob("*.json")) | set(p.rglob("report.json"))) if p.is_dir() else [p]
        for f in found:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                yield f, not p.is_dir()
