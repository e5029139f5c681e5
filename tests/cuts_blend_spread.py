"""Choose cut_analysis's blend-spread threshold (``SPREAD_MAX``) on the cut benchmark's clips.

Run in the cpu environment: ``.venvs/cpu/bin/python -m tests.cuts_blend_spread``. Every clip of
``tests/analyzers/cut_bench_set.py`` is extracted as a run would (dense and sampled frames) and
analysed with the spread test switched off (``SPREAD_MAX`` = infinity). Each fade or dissolve it
then reports is true (inside a truth boundary's span, widened by 1.5 frames) or false; the spread of
its ramp frames is printed for both, and the threshold is the geometric middle of the gap between
the largest true spread and the smallest false one (2 significant figures). It fails when there is
no gap.
"""
from __future__ import annotations

import math
import os
import shutil
import tempfile
from pathlib import Path

from analyzers.base import FrameSet, manifest_params
from runner.core.config import REPO_ROOT
from runner.media.extract import extract
from runner.media.probe import probe_file
from shared_schema.paths import FRAME_SETS, Workdir
from tests.analyzers import cut_bench_set
from tests.analyzers.media_cuts import RATE

ANALYZER = REPO_ROOT / "analyzers" / "cut_analysis"
TOL = 1.5 / RATE


class _Ctx:
    def __init__(self, params, sets):
        self.params, self._sets = params, sets

    def frames(self, name: str) -> FrameSet:
        return self._sets[name]


def spreads(tmp: Path) -> tuple[list[tuple[str, float, str]], list[tuple[str, float, str]]]:
    """(true, false) gradual transitions found with the spread test off: (clip, spread, kind)."""
    from analyzers.cut_analysis import gradual, analyzer as cut

    params = manifest_params(ANALYZER)
    true, false = [], []
    keep = gradual.SPREAD_MAX
    gradual.SPREAD_MAX = math.inf
    try:
        for clip in cut_bench_set.clips():
            video, truth = clip.build(tmp)
            admitted, media = probe_file(video, Path(tempfile.mkdtemp(dir=tmp)))
            wd = Workdir(Path(tempfile.mkdtemp(dir=tmp)))
            wd.input_dir.mkdir()
            os.link(admitted.path, wd.root / admitted.rel)
            extract(wd, admitted, media, [FRAME_SETS["dense"], FRAME_SETS["sampled"]], False)
            ctx = _Ctx(params, {s: FrameSet(wd.frames_dir(s)) for s in ("dense", "sampled")})
            found: list = []
            fades, dissolves = cut.find_fades, cut.find_dissolves
            cut.find_fades = lambda *a, **k: _keep(found, fades(*a, **k))
            cut.find_dissolves = lambda *a, **k: _keep(found, dissolves(*a, **k))
            try:
                cut.Analyzer().analyze(ctx)
            finally:
                cut.find_fades, cut.find_dissolves = fades, dissolves
            times = ctx.frames("dense").times
            spans = [(s, e) for s, e, _ in truth.gradual] + [(t, t) for t in truth.cuts]
            for g in found:
                t = (times[int(math.floor(g.mid))] + times[min(len(times) - 1, int(math.ceil(g.mid)))]) / 2
                hit = clip.group == "gradual" and any(a - TOL <= t <= b + TOL for a, b in spans)
                (true if hit else false).append((clip.label, round(g.spread, 4), g.kind))
            shutil.rmtree(wd.root, ignore_errors=True)
    finally:
        gradual.SPREAD_MAX = keep
    return true, false


def _keep(into: list, found: list) -> list:
    into.extend(found)
    return found


def main() -> int:
    from analyzers.cut_analysis import gradual

    tmp = Path(tempfile.mkdtemp(prefix="cuts_blend_spread_"))
    try:
        true, false = spreads(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for name, rows in (("true", true), ("false", false)):
        print(f"{name} gradual transitions ({len(rows)}):")
        for label, spread, kind in sorted(rows, key=lambda r: r[1]):
            print(f"  {spread:.4f}  {kind:8s} {label}")
    hi = max((s for _, s, _ in true), default=0.0)
    lo = min((s for _, s, _ in false), default=math.inf)
    if not hi < lo:
        print(f"no gap: largest true spread {hi:.4f} >= smallest false {lo:.4f}")
        return 1
    chosen = float(f"{math.sqrt(max(hi, 1e-4) * lo):.2g}") if math.isfinite(lo) else None
    print(f"gap: true <= {hi:.4f} < {lo:.4f} <= false; threshold (geometric middle, 2 significant figures): "
          f"{chosen}; SPREAD_MAX in gradual.py: {gradual.SPREAD_MAX}")
    return 0 if chosen == gradual.SPREAD_MAX else 2


if __name__ == "__main__":
    raise SystemExit(main())
