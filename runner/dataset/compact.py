"""Rewriting groups: without some videos (a re-export replaces them), or many into one (compaction).

Both stream row groups from the old files into one new file per table (:mod:`runner.dataset.parts`),
so memory stays flat. The writer merges groups of similar size as it goes (``tiers_to_merge``: at
most ``FANOUT - 1`` groups per size tier, so a dataset of N videos has O(log N) groups and each row
is rewritten O(log N) times); ``runner export --compact`` merges every group into one.
"""
from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path

from runner import __version__
from runner.dataset import layout
from runner.dataset.layout import Group
from runner.dataset.parts import TableFile, copy_rows, keep_mask
from runner.dataset.schemas import SCHEMA_VERSION, TABLE_NAMES

#: this many groups of one size tier (videos within a factor FANOUT) are merged into one
FANOUT = 8


def rewrite(root: Path, groups: list[Group], drop_ids: frozenset[str] = frozenset(),
            drop_pairs: frozenset[str] = frozenset()) -> Group:
    """One new group with the rows of ``groups`` minus the dropped videos (``drop_ids``) or runs of a
    video (``drop_pairs``, see :func:`runner.dataset.parts.pair`). The old files stay until the
    manifest no longer lists them."""
    new_id = layout.new_group_id()
    rows: dict[str, int] = {}
    files: dict[str, list[str]] = {}
    for table in TABLE_NAMES:
        srcs = [root / name for g in groups for name in g.files.get(table, [])]
        out = TableFile(root / table / f"{new_id}.parquet", table)
        try:
            copy_rows(srcs, out, lambda batch: keep_mask(batch, set(drop_ids), set(drop_pairs)))
            rows[table] = out.close()
        except BaseException:
            out.abort()
            raise
        files[table] = [f"{table}/{out.path.name}"]
    created = min((g.created_at for g in groups), default=None) or datetime.now(timezone.utc)
    group = Group(id=new_id, created_at=created, schema_version=SCHEMA_VERSION, runner_version=__version__,
                  videos=rows["videos"], rows=rows, files=files)   # one videos row per video
    return group


def tier(group: Group) -> int:
    return int(math.log(max(1, group.videos), FANOUT))


def tiers_to_merge(groups: list[Group]) -> list[Group]:
    """The groups of the lowest size tier that has FANOUT of them (none: [])."""
    by: dict[int, list[Group]] = {}
    for g in groups:
        by.setdefault(tier(g), []).append(g)
    for t in sorted(by):
        if len(by[t]) >= FANOUT:
            return by[t]
    return []
