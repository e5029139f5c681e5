"""cut_analysis against the PySceneDetect CLI, and extraction against a bare decode.

1. Accuracy and time on the clips of ``tests/analyzers/cut_bench_set.py`` (made videos whose
   boundaries are known: hard cuts, flashes, a revisit, equal-luma colour cuts, dissolves, fades,
   camera moves, people and cars crossing close to the lens before, after and across a hard cut;
   and two real single shots): our analyzer on the shared dense frames against
   ``scenedetect detect-content`` and ``detect-adaptive`` (the cpu environment's console script)
   decoding the file themselves. A boundary counts as found when it falls within a truth
   boundary's span (a cut's instant) widened by 1.5 frames, one to one. For our analyzer also:
   dissolve F1 (a reported dissolve must fall in a truth dissolve's span), false dissolves and
   false fades per minute of video, and how many boundary instants are within one frame.
2. ``runner.media.extract`` (the one decode that feeds every analyzer) against
   ``ffmpeg -f null`` decoding the same video: the decode-once floor.

Times are the best of ``REPEAT`` runs (the machine is shared).
``python -m tests.bench_cuts --accuracy`` prints only our analyzer's accuracy (one run per clip,
no timing, no scenedetect): the figures docs/cuts.md quotes.
"""
from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from runner.core.config import REPO_ROOT, Settings
from runner.media.extract import extract
from runner.media.probe import probe_file
from shared_schema.paths import FRAME_SETS, Workdir
from tests.analyzers import cut_bench_set, media_cuts
from tests.conftest import ANALYZERS, run_analyzers
from tests.media import MEDIA, testsrc

REPEAT = 3
TOL = 1.5 / media_cuts.RATE
FRAME = 1 / media_cuts.RATE
DETECTORS = ("detect-content", "detect-adaptive")


def _spans(truth: media_cuts.Truth) -> list[tuple[float, float]]:
    return sorted([(t, t) for t in truth.cuts] + [(s, e) for s, e, _ in truth.gradual])


def _score(found: list, truth: list[tuple[float, float]]) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives), each truth matched at most once.

    ``found``: instants, or (instant, uncertainty_s) where a boundary states how closely
    it is placed (a colour cut no grey frame shows): it then counts within that too.
    """
    return _match(found, truth)[:3]


def _match(found: list, truth: list[tuple[float, float]]) -> tuple[int, int, int, list]:
    """``_score`` and the (found instant, matched truth span) pairs."""
    left = list(truth)
    pairs = []
    for f in sorted(found):
        t, tol = (f, TOL) if isinstance(f, float | int) else (f[0], max(TOL, (f[1] or 0) + TOL))
        hit = next((s for s in left if s[0] - tol <= t <= s[1] + tol), None)
        if hit:
            left.remove(hit)
            pairs.append((t, hit))
    return len(pairs), len(found) - len(pairs), len(left), pairs


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def _scenedetect(video: Path, detector: str, out: Path) -> tuple[list[float], float]:
    exe = REPO_ROOT / ".venvs" / "cpu" / "bin" / "scenedetect"
    if not exe.exists():
        raise RuntimeError(f"{exe} missing: run `runner envs build cpu`")
    best, cuts = float("inf"), []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        subprocess.run([str(exe), "-q", "-i", str(video), "-o", str(out), detector,
                        "list-scenes", "-s", "-f", "scenes.csv"], check=True, capture_output=True)
        best = min(best, time.perf_counter() - t0)
        with open(out / "scenes.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        cuts = [float(r["Start Time (seconds)"]) for r in rows[1:]]
    return cuts, best


def _ours(settings: Settings, video: Path, repeat: int) -> tuple[list[dict], float, float, float]:
    """Our transitions, analyzer seconds, analyzer + extraction seconds (best runs), video seconds."""
    best_a, best_total, found, duration = float("inf"), float("inf"), [], 0.0
    for _ in range(repeat):
        out = run_analyzers(settings, video, ["cut_analysis"])
        env = out.report.analyzers["cut_analysis"]
        if not env.ok:
            raise RuntimeError(f"cut_analysis {env.status.value}: {env.error}")
        found, duration = env.result["transitions"], env.result["duration_s"]
        a = out.report.run.timings.analyzers_s.get("cut_analysis", env.duration_s)
        best_a = min(best_a, a)
        best_total = min(best_total, a + out.report.run.timings.extract_s)
    return found, best_a, best_total, duration


class _Tally:
    """Our analyzer's accuracy over the clips."""

    def __init__(self):
        self.all, self.dissolve = [0, 0, 0], [0, 0, 0]
        self.false = {"dissolve": 0, "fade": 0}
        self.seconds, self.instants, self.close = 0.0, 0, 0

    def add(self, found: list[dict], truth: media_cuts.Truth, duration: float) -> tuple[int, int, int]:
        tp, fp, fn, pairs = _match([(tr["t"], tr.get("uncertainty_s")) for tr in found], _spans(truth))
        self.all = [a + b for a, b in zip(self.all, (tp, fp, fn))]
        diss = [(s, e) for s, e, k in truth.gradual if k == "dissolve"]
        d = _score([tr["t"] for tr in found if tr["kind"] == "dissolve"], diss)
        self.dissolve = [a + b for a, b in zip(self.dissolve, d)]
        self.false["dissolve"] += d[1]
        fades = [(s, e) for s, e, k in truth.gradual if k == "fade"] + [(t, t) for t in truth.cuts]
        self.false["fade"] += _score([tr["t"] for tr in found if tr["kind"] == "fade"], fades)[1]
        self.seconds += duration
        for t, (a, b) in pairs:
            if a == b:  # a boundary whose instant is known
                self.instants += 1
                self.close += abs(t - a) <= FRAME + 1e-6
        return tp, fp, fn

    def lines(self, n: int) -> list[str]:
        minutes = self.seconds / 60
        return [f"ours, all {n} clips ({minutes:.2f} min): boundary F1 {_f1(*self.all):.2f} "
                f"(tp {self.all[0]} fp {self.all[1]} fn {self.all[2]}); dissolve F1 {_f1(*self.dissolve):.2f} "
                f"(tp {self.dissolve[0]} fp {self.dissolve[1]} fn {self.dissolve[2]}); false dissolves "
                f"{self.false['dissolve'] / minutes:.2f}/min ({self.false['dissolve']}), false fades "
                f"{self.false['fade'] / minutes:.2f}/min ({self.false['fade']}); {self.close} of "
                f"{self.instants} boundary instants within one frame of truth"]


def _accuracy(tmp: Path, compare: bool = True) -> list[str]:
    settings = Settings.from_env().with_(analyzers_dirs=(ANALYZERS,), work_root=tmp / "runs",
                                         backend="local")
    repeat = REPEAT if compare else 1
    tally = _Tally()
    totals = {k: [0, 0, 0] for k in DETECTORS}
    times = {k: 0.0 for k in ("ours", "ours+extract", *DETECTORS)}
    clips = cut_bench_set.clips()
    lines = []
    for clip in clips:
        video, truth = clip.build(tmp)
        spans = _spans(truth)
        found, t_an, t_total, duration = _ours(settings, video, repeat)
        tp, fp, fn = tally.add(found, truth, duration)
        times["ours"] += t_an
        times["ours+extract"] += t_total
        kinds = ",".join(tr["kind"] for tr in found) or "none"
        parts = [f"ours {kinds}: " + (f"F1 {_f1(tp, fp, fn):.2f}" if spans else f"false {fp}")]
        for det in DETECTORS if compare else ():
            cuts, t = _scenedetect(video, det, tmp / "sd")
            times[det] += t
            d = _score(cuts, spans)
            totals[det] = [a + b for a, b in zip(totals[det], d)]
            parts.append(f"{det.removeprefix('detect-')} " + (f"F1 {_f1(*d):.2f}" if spans else f"false {d[1]}"))
        lines.append(f"{clip.label:22s} ({len(spans)} boundaries): " + "; ".join(parts))
    lines += tally.lines(len(clips))
    for det in DETECTORS if compare else ():
        lines.append(f"{det:16s} all videos: boundary F1 {_f1(*totals[det]):.2f} (tp {totals[det][0]} "
                     f"fp {totals[det][1]} fn {totals[det][2]})")
        lines.append(f"time: scenedetect {det} (decodes the file) / cut_analysis on shared frames = "
                     f"{times[det] / times['ours']:.2f}x  ({times[det]:.2f}s vs {times['ours']:.2f}s; "
                     f"with our extraction {times['ours+extract']:.2f}s: "
                     f"{times[det] / times['ours+extract']:.2f}x)")
    return lines


def _decode_floor(tmp: Path) -> list[str]:
    clip = testsrc(tmp / "clip720.mp4", seconds=10, size="720x1280")
    lines = []
    for label, video in (("720x1280 10 s testsrc2", clip), ("vtest.avi 768x576 79.5 s", MEDIA / "vtest.avi")):
        if not video.exists():
            continue
        admitted, media = probe_file(video, Path(tempfile.mkdtemp(dir=tmp)))
        floor = _best(lambda: subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(video),
                                              "-f", "null", "-"], check=True))
        # dense alone, what cut_analysis alone needs (dense + sampled, for its colour step), all
        for sets, audio in ((["dense"], False), (["dense", "sampled"], False),
                            (list(FRAME_SETS), media.has_audio)):
            def once() -> None:
                wd = Workdir(Path(tempfile.mkdtemp(dir=tmp)))
                wd.input_dir.mkdir()
                os.link(admitted.path, wd.root / admitted.rel)   # the admitted copy, as the pipeline has it
                extract(wd, admitted, media, [FRAME_SETS[s] for s in sets], audio)
                shutil.rmtree(wd.root)
            t = _best(once)
            lines.append(f"extract {'+'.join(sets)}{' +audio' if audio else ''} on {label}: "
                         f"{t / floor:.2f}x the bare decode ({t:.2f}s vs ffmpeg -f null {floor:.2f}s)")
    return lines


def _best(fn) -> float:
    best = float("inf")
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _colour_cost() -> list[str]:
    """cut_analysis's colour step against the rest of it (tests.cuts_colour_cost, in the cpu env)."""
    py = REPO_ROOT / ".venvs" / "cpu" / "bin" / "python"
    res = subprocess.run([str(py), "-m", "tests.cuts_colour_cost"], cwd=REPO_ROOT, capture_output=True,
                         text=True, check=False, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    if res.returncode:
        return [f"colour step: not measured ({(res.stderr.strip().splitlines() or ['?'])[-1]})"]
    return res.stdout.strip().splitlines()


def bench() -> list[str]:
    tmp = Path(tempfile.mkdtemp(prefix="bench_cuts_"))
    try:
        return _accuracy(tmp) + _colour_cost() + _decode_floor(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str]) -> int:
    if argv != ["--accuracy"]:
        print("usage: python -m tests.bench_cuts --accuracy   (the whole bench: make bench BENCH_ARGS=cuts)")
        return 2
    os.environ.setdefault("RUNNER_CACHE_DIR", tempfile.mkdtemp(prefix="bench-result-cache-"))
    tmp = Path(tempfile.mkdtemp(prefix="bench_cuts_"))
    try:
        print("\n".join(_accuracy(tmp, compare=False)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
