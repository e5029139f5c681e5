"""What cut_analysis's colour step costs: in-process, on the same extracted frames.

Run in the cpu environment (it imports the analyzer, which needs OpenCV and
scenedetect): ``.venvs/cpu/bin/python -m tests.cuts_colour_cost``; ``tests.bench_cuts``
runs it and adds its lines. For each clip: the whole ``analyze`` and the part of it
spent in ``find_chroma_cuts`` (reading the ``sampled`` colour frames at 1/8 scale, the
chroma grid, matching each sample to its dense frame), best of ``REPEAT``; the ratio
is the colour step over everything else ``analyze`` does.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from analyzers.base import FrameSet, Params, manifest_params
from runner.core.config import REPO_ROOT
from runner.media.extract import extract
from runner.media.probe import probe_file
from shared_schema.paths import FRAME_SETS, Workdir
from tests.analyzers import media_cuts
from tests.media import MEDIA

REPEAT = 3
ANALYZER = REPO_ROOT / "analyzers" / "cut_analysis"


class _Ctx:
    def __init__(self, params: Params, sets: dict[str, FrameSet]):
        self.params, self._sets = params, sets

    def frames(self, name: str) -> FrameSet:
        return self._sets[name]


def bench() -> list[str]:
    from analyzers.cut_analysis import analyzer as cut  # needs the cpu environment (OpenCV)

    params = manifest_params(ANALYZER)
    tmp = Path(tempfile.mkdtemp(prefix="cuts_colour_cost_"))
    try:
        media_cuts.transitions(tmp / "trans.mp4")
        media_cuts.hard_cuts(tmp / "hard60.mp4", (5.0,) * 12)
        clips = {"dissolve+fade 7.2 s, 30 fps": tmp / "trans.mp4",
                 "hard cuts 60 s, 30 fps": tmp / "hard60.mp4"}
        if (MEDIA / "vtest.avi").exists():
            clips["vtest.avi 79.5 s, 10 fps"] = MEDIA / "vtest.avi"
        find = cut.find_chroma_cuts
        lines, total, colour = [], 0.0, 0.0
        for label, video in clips.items():
            admitted, media = probe_file(video, Path(tempfile.mkdtemp(dir=tmp)))
            wd = Workdir(Path(tempfile.mkdtemp(dir=tmp)))
            wd.input_dir.mkdir()
            os.link(admitted.path, wd.root / admitted.rel)
            extract(wd, admitted, media, [FRAME_SETS["dense"], FRAME_SETS["sampled"]], False)
            ctx = _Ctx(params, {s: FrameSet(wd.frames_dir(s)) for s in ("dense", "sampled")})
            best_all, best_colour = float("inf"), float("inf")
            spent = [0.0]

            def timed(*a, spent=spent, **k):
                t0 = time.perf_counter()
                try:
                    return find(*a, **k)
                finally:
                    spent[0] += time.perf_counter() - t0

            cut.find_chroma_cuts = timed
            for _ in range(REPEAT):
                spent[0] = 0.0
                t0 = time.perf_counter()
                cut.Analyzer().analyze(ctx)
                best_all = min(best_all, time.perf_counter() - t0)
                best_colour = min(best_colour, spent[0])
            cut.find_chroma_cuts = find
            total += best_all
            colour += best_colour
            lines.append(f"colour step on {label} ({len(ctx.frames('dense'))} dense, "
                         f"{len(ctx.frames('sampled'))} sampled frames): {best_colour:.3f}s of "
                         f"{best_all:.3f}s = +{100 * best_colour / (best_all - best_colour):.1f}% "
                         f"over the luma analysis")
        lines.append(f"colour step, all clips: +{100 * colour / (total - colour):.1f}% of cut_analysis")
        return lines
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    print("\n".join(bench()))
