"""cut_analysis against the PySceneDetect CLI, and extraction against a bare decode.

1. Accuracy and time on made videos whose boundaries are known (hard cuts;
   a cut, two dissolves and a fade through black; a revisit; flash frames; a
   fade in and out at the ends; fade-out + black + cut and fade-out + fade-in,
   where the boundary instant must be the cut / the darkest point; equal-luma
   colour cuts: flat red to green, and a real photo whose hue turns) and on two
   real single-shot clips: our analyzer on
   the shared dense frames against ``scenedetect detect-content`` and
   ``detect-adaptive`` (the cpu environment's console script) decoding the file
   themselves. F1 counts a boundary found when it falls within a truth
   boundary's span (a cut's instant) widened by 1.5 frames, one to one.
2. ``runner.media.extract`` (the one decode that feeds every analyzer) against
   ``ffmpeg -f null`` decoding the same video: the decode-once floor.

Times are the best of ``REPEAT`` runs (the machine is shared).
"""
from __future__ import annotations

import csv
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from runner.config import REPO_ROOT, Settings
from runner.media.extract import extract
from runner.media.probe import probe_file
from shared_schema.paths import FRAME_SETS, Workdir
from tests.analyzers import media_cuts
from tests.conftest import ANALYZERS, run_analyzers
from tests.media import MEDIA, testsrc

REPEAT = 3
TOL = 1.5 / media_cuts.RATE
DETECTORS = ("detect-content", "detect-adaptive")


def _instant(truth: media_cuts.Truth, t: float) -> media_cuts.Truth:
    """A fade whose boundary instant is known: scored as that instant, not its span."""
    return media_cuts.Truth(cuts=[t])


def _spans(truth: media_cuts.Truth) -> list[tuple[float, float]]:
    return sorted([(t, t) for t in truth.cuts] + [(s, e) for s, e, _ in truth.gradual])


def _score(found: list, truth: list[tuple[float, float]]) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives), each truth matched at most once.

    ``found``: instants, or (instant, uncertainty_s) where a boundary states how closely
    it is placed (a colour cut no grey frame shows): it then counts within that too.
    """
    left = list(truth)
    tp = 0
    for f in sorted(found):
        t, tol = (f, TOL) if isinstance(f, float | int) else (f[0], max(TOL, (f[1] or 0) + TOL))
        hit = next((s for s in left if s[0] - tol <= t <= s[1] + tol), None)
        if hit:
            left.remove(hit)
            tp += 1
    return tp, len(found) - tp, len(left)


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


def _ours(settings: Settings, video: Path) -> tuple[list[tuple[float, float | None]], float, float]:
    """Boundary instants with their stated uncertainty, analyzer seconds, analyzer + extraction seconds (best runs)."""
    best_a, best_total, found = float("inf"), float("inf"), []
    for _ in range(REPEAT):
        out = run_analyzers(settings, video, ["cut_analysis"])
        env = out.report.analyzers["cut_analysis"]
        if not env.ok:
            raise RuntimeError(f"cut_analysis {env.status.value}: {env.error}")
        found = [(tr["t"], tr.get("uncertainty_s")) for tr in env.result["transitions"]]
        a = out.report.run.timings.analyzers_s.get("cut_analysis", env.duration_s)
        best_a = min(best_a, a)
        best_total = min(best_total, a + out.report.run.timings.extract_s)
    return found, best_a, best_total


def _accuracy(tmp: Path) -> list[str]:
    videos = {
        "hard cuts": (tmp / "hard.mp4", media_cuts.hard_cuts(tmp / "hard.mp4")),
        "dissolve+fade": (tmp / "trans.mp4", media_cuts.transitions(tmp / "trans.mp4")),
        "revisit": (tmp / "revisit.mp4", media_cuts.hard_cuts(
            tmp / "revisit.mp4", (1.5,) * 5, ("bus.jpg", "zidane.jpg", "bus.jpg", "scenetext01.jpg",
                                               "scenetext02.jpg"))),
        "flashes": (tmp / "flash.mp4", media_cuts.hard_cuts(tmp / "flash.mp4", flashes=(0.8, 2.5))),
        "fade in/out": (media_cuts.fade_in_out(tmp / "fades.mp4"), media_cuts.Truth()),
        "fade+black+cut": (tmp / "fadecut.mp4", _instant(*media_cuts.fade_out_cut(tmp / "fadecut.mp4"))),
        "fade out+in": (tmp / "fadeinout.mp4", _instant(*media_cuts.fade_out_in(tmp / "fadeinout.mp4"))),
        "red/green": (tmp / "rg.mp4", media_cuts.colour_cut(tmp / "rg.mp4", cut=1.8)),
        "hue cut": (tmp / "hue.mp4", media_cuts.hue_cut(tmp / "hue.mp4")),
    }
    for real in ("tree.avi", "vtest.avi"):  # one continuous shot each
        if (MEDIA / real).exists():
            videos[real] = (MEDIA / real, media_cuts.Truth())
    settings = Settings.from_env().with_(analyzers_dirs=(ANALYZERS,), work_root=tmp / "runs",
                                         backend="local")
    totals = {k: [0, 0, 0] for k in ("ours", *DETECTORS)}
    gradual_hits = {k: 0 for k in totals}
    times = {k: 0.0 for k in (*totals, "ours+extract")}
    lines = []
    for label, (video, truth) in videos.items():
        spans = _spans(truth)
        grad = [(s, e) for s, e, _ in truth.gradual]
        found, t_an, t_total = _ours(settings, video)
        results = {"ours": found}
        times["ours"] += t_an
        times["ours+extract"] += t_total
        clip_times = [f"ours {t_an:.2f}s"]
        for det in DETECTORS:
            results[det], t = _scenedetect(video, det, tmp / "sd")
            times[det] += t
            clip_times.append(f"{det.removeprefix('detect-')} {t:.2f}s")
        parts = []
        for k, f in results.items():
            tp, fp, fn = _score(f, spans)
            totals[k] = [a + b for a, b in zip(totals[k], (tp, fp, fn))]
            gradual_hits[k] += len(grad) - _score(f, grad)[2]
            parts.append(f"{k} F1 {_f1(tp, fp, fn):.2f}" if spans else f"{k} false cuts {fp}")
        lines.append(f"{label:14s} ({len(spans)} boundaries, {len(grad)} gradual): " + ", ".join(parts)
                     + f"; time {', '.join(clip_times)}")
    n_grad = sum(len(v[1].gradual) for v in videos.values())
    for k, (tp, fp, fn) in totals.items():
        lines.append(f"{k:16s} all videos: F1 {_f1(tp, fp, fn):.2f} (tp {tp} fp {fp} fn {fn}); "
                     f"gradual found {gradual_hits[k]}/{n_grad}")
    for det in DETECTORS:
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
