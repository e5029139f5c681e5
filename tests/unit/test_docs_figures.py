"""Counts that docs quote about the benchmark sets are the sets' own (issue 27: docs/cuts.md said
"17 clips" while the cut bench scored 11)."""
from __future__ import annotations

import re

from runner.core.config import REPO_ROOT
from tests.analyzers import cut_bench_set, motion_set


def test_docs_cuts_counts_the_cut_bench_clips():
    text = (REPO_ROOT / "docs" / "cuts.md").read_text()
    said = {int(n) for n in re.findall(r"on the (\d+) clips of\s+`tests/analyzers/cut_bench_set.py`", text)}
    assert said == {len(cut_bench_set.CLIPS)}, said
    summary = re.findall(r"ours, all (\d+) clips", text)
    assert summary and {int(n) for n in summary} == {len(cut_bench_set.CLIPS)}


def test_docs_camera_counts_the_motion_set():
    text = (REPO_ROOT / "docs" / "camera.md").read_text()
    assert f"lists {len(motion_set.clips())} clips" in text
    half = len(motion_set.clips("calib", variants=("raw",)))
    assert f"Per half (`calib` | `held_out`), {half} shots" in text
    rows = dict(re.findall(r"^\| (\w+) \| (\d+) \| ", text, re.M))
    raw = motion_set.clips("calib", variants=("raw",))
    assert {k: int(v) for k, v in rows.items()} == {c: sum(x.cond == c for x in raw) for c in {x.cond for x in raw}}
