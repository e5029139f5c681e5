"""Parquet files of one group: writing them streamed, and rewriting them without some videos.

Memory stays flat whatever the number of videos: a :class:`TableFile` holds at most about
``ROW_GROUP_BYTES`` of rows (in at most ``CONSOLIDATE`` pieces) before it writes them as a row group,
and a rewrite reads and writes one row group at a time.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from runner.dataset.schemas import schema_for

ROW_GROUP_BYTES = 2 * 1024**2
ROW_GROUP_ROWS = 100_000
#: pending per-video pieces are copied into one contiguous table every this many: each small Arrow table
#: costs far more memory than its bytes (a buffer per column), and a table that gets one row per video
#: (``videos``) would otherwise hold thousands of them before it reaches ROW_GROUP_BYTES
CONSOLIDATE = 64
COMPRESSION = "zstd"


class TableFile:
    """One table's file of a group, written as rows arrive (row groups of about ROW_GROUP_BYTES)."""

    def __init__(self, path: Path, table: str):
        self.path, self.table, self.schema = path, table, schema_for(table)
        self.pending: list[pa.Table] = []
        self.pending_bytes = self.pending_rows = self.rows = 0
        self._writer: pq.ParquetWriter | None = None

    def append(self, part: pa.Table) -> None:
        if part.num_rows == 0:
            return
        self.pending.append(part)
        self.pending_rows += part.num_rows
        self.pending_bytes += part.nbytes
        if self.pending_bytes >= ROW_GROUP_BYTES or self.pending_rows >= ROW_GROUP_ROWS:
            self.flush()
        elif len(self.pending) >= CONSOLIDATE:
            self.pending = [pa.concat_tables(self.pending).combine_chunks()]

    def flush(self) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self.path, self.schema, compression=COMPRESSION)
        if self.pending:
            table = pa.concat_tables(self.pending)
            self._writer.write_table(table, row_group_size=max(1, table.num_rows))
            self.rows += table.num_rows
        self.pending, self.pending_bytes, self.pending_rows = [], 0, 0

    def close(self) -> int:
        """Write what is pending and the footer (an empty table still gets its file); rows written."""
        self.flush()
        self._writer.close()
        return self.rows

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self.path.unlink(missing_ok=True)


def conform(batch: pa.RecordBatch | pa.Table, table: str) -> pa.Table:
    """Rows of an older file in the current schema: a column it lacks is NULL (a later MINOR added it)."""
    target = schema_for(table)
    t = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
    cols = [t.column(f.name).cast(f.type) if f.name in t.column_names else pa.nulls(t.num_rows, f.type)
            for f in target]
    return pa.Table.from_arrays(cols, schema=target)


def keep_mask(batch: pa.RecordBatch, drop_ids: set[str], drop_pairs: set[str]) -> pa.Array | None:
    """True for the rows to keep; None when every row is kept."""
    masks = []
    if drop_ids:
        masks.append(pc.is_in(batch.column("video_id"), value_set=pa.array(sorted(drop_ids), pa.string())))
    if drop_pairs:
        key = pc.binary_join_element_wise(batch.column("video_id"), batch.column("run_id"), "\x00")
        masks.append(pc.is_in(key, value_set=pa.array(sorted(drop_pairs), pa.string())))
    if not masks:
        return None
    drop = masks[0] if len(masks) == 1 else pc.or_(masks[0], masks[1])
    return pc.invert(pc.fill_null(drop, False))


def copy_rows(sources: Iterable[Path], out: TableFile, keep: Callable[[pa.RecordBatch], pa.Array | None]) -> int:
    """Stream every row group of ``sources`` into ``out``, keeping the rows ``keep`` marks; rows kept."""
    kept = 0
    for src in sources:
        pf = pq.ParquetFile(src)
        for k in range(pf.num_row_groups):
            for batch in pf.read_row_group(k, use_threads=False).to_batches():   # one column at a time: flat memory
                mask = keep(batch)
                part = conform(batch if mask is None else batch.filter(mask), out.table)
                out.append(part)
                kept += part.num_rows
    return kept


def pair(video_id: str, run_id: str) -> str:
    return f"{video_id}\x00{run_id}"


def video_ids(path: Path) -> set[str]:
    """The videos of a group, from its ``videos`` file (one row per video)."""
    return set(pq.read_table(path, columns=["video_id"]).column("video_id").to_pylist())


__all__ = ["TableFile", "conform", "copy_rows", "keep_mask", "pair", "video_ids"]
