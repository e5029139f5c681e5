"""Choose camera_analysis's label thresholds on the motion calibration set, and check them.

Run in the cpu analyzer environment (OpenCV), from the project root:

    .venvs/cpu/bin/python -m tests.analyzers.camera_calibration            # choose on calib, check on held_out
    .venvs/cpu/bin/python -m tests.analyzers.camera_calibration --split held_out --json out.json

Every clip of ``motion_set`` is measured once by the analyzer's own code (``_camera_flow.estimate``
and ``analyzer._stats`` over the whole clip as one shot) and labelled by ``analyzer._labels``; the
truth is the clip's label; precision and recall are per label on the dominant label.

Choosing: one threshold per motion (pan, tilt, zoom, roll, shake), in turns until none moves, each
set to the widest interval (in log scale) over which the worst per-label precision or recall on
the calib half is highest, at the interval's geometric middle, rounded to 2 significant figures.
Without ``--choose``, the thresholds are read from ``analyzer.toml``. ``--from-json`` reuses the
stats a previous ``--json`` run wrote (no re-measuring).
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from analyzers.base import manifest_params
from analyzers.camera_analysis import analyzer as camera
from analyzers.camera_analysis._camera_flow import estimate
from tests.analyzers import motion_set

ROOT = Path(__file__).resolve().parents[2]
ANALYZER = ROOT / "analyzers" / "camera_analysis"

STAT = {"pan": "pan_speed", "tilt": "tilt_speed", "zoom": "zoom_rate", "roll": "rotation_dps",
        "shake": "shake"}
LABELS = ("static", "pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out",
          "roll_cw", "roll_ccw", "handheld")


def manifest_thresholds() -> dict[str, float]:
    return camera.thresholds(manifest_params(ANALYZER))


def measure(clips) -> list[dict]:
    rows = []
    for c in clips:
        frames = motion_set.render(c)
        n = len(frames)
        stats = camera._stats(estimate(frames), 0, n - 1, frames.index.fps, np.zeros(n, bool))
        rows.append({"id": c.id, "truth": c.label, "speed": c.speed, "split": c.split,
                     "stats": stats})
    return rows


def label_all(rows, thr) -> list[str | None]:
    return [(camera._labels(r["stats"], thr) or [None])[0] for r in rows]


def scores(rows, thr) -> dict[str, tuple[float, float, int]]:
    """label -> (precision, recall, clips with that truth)."""
    got = label_all(rows, thr)
    out = {}
    for lab in LABELS:
        tp = sum(1 for r, g in zip(rows, got) if g == lab and r["truth"] == lab)
        said = sum(1 for g in got if g == lab)
        true = sum(1 for r in rows if r["truth"] == lab)
        if true == 0 and said == 0:
            continue
        out[lab] = (tp / said if said else 0.0, tp / true if true else 0.0, true)
    return out


def worst(rows, thr) -> float:
    return min(min(p, r) for p, r, _ in scores(rows, thr).values())


def _sig2(x: float) -> float:
    return float(f"{x:.2g}")


def choose(rows, thr: dict[str, float], rounds: int = 6) -> tuple[dict[str, float], dict]:
    thr = dict(thr)
    why = {}
    for _ in range(rounds):
        before = dict(thr)
        for k in camera.UNITS:
            vals = sorted({abs(getattr(r["stats"], STAT[k])) for r in rows
                           if getattr(r["stats"], STAT[k]) is not None} - {0.0})
            edges = [vals[0] / 10] + vals + [vals[-1] * 10]
            gaps = [(a, b) for a, b in itertools.pairwise(edges) if b > a]
            best, runs = -1.0, []
            for a, b in gaps:
                s = worst(rows, {**thr, k: math.sqrt(a * b)})
                if s > best + 1e-12:
                    best, runs = s, [[a, b]]
                elif abs(s - best) <= 1e-12:
                    if runs and runs[-1][1] == a:
                        runs[-1][1] = b
                    else:
                        runs.append([a, b])
            lo, hi = max(runs, key=lambda ab: math.log(ab[1] / ab[0]))
            thr[k] = _sig2(math.sqrt(lo * hi))
            why[k] = {"between": (lo, hi), "worst_p_or_r": round(best, 3)}
        if thr == before:  # settled
            break
    return thr, why


def report(rows, thr, title: str) -> dict:
    sc = scores(rows, thr)
    print(f"\n{title}: {len(rows)} clips, thresholds {thr}")
    print(f"  {'label':10s} {'precision':>9s} {'recall':>7s} {'clips':>5s}")
    for lab, (p, r, n) in sc.items():
        print(f"  {lab:10s} {p:9.3f} {r:7.3f} {n:5d}")
    wrong = [(r["id"], g) for r, g in zip(rows, label_all(rows, thr)) if g != r["truth"]]
    for cid, g in wrong:
        print(f"  wrong: {cid} -> {g}")
    return {lab: {"precision": round(p, 3), "recall": round(r, 3), "clips": n}
            for lab, (p, r, n) in sc.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=("calib", "held_out", "both"), default="both")
    ap.add_argument("--choose", action="store_true", help="choose thresholds on the calib half")
    ap.add_argument("--json", type=Path, help="write per-clip labels and per-label scores here")
    ap.add_argument("--stats", action="store_true", help="print every clip's stats")
    ap.add_argument("--from-json", type=Path, help="stats from an earlier --json run")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    split = None if args.split == "both" else args.split
    if args.from_json:
        from shared_schema.results.motion import MotionStats
        rows = [{"id": c["id"], "truth": c["truth"], "speed": c.get("speed"), "split": c["split"],
                 "stats": MotionStats(**c["stats"])}
                for c in json.loads(args.from_json.read_text())["clips"]
                if split is None or c["split"] == split]
    else:
        rows = measure(motion_set.clips(split))
        print(f"measured {len(rows)} clips in {time.monotonic() - t0:.1f} s")
    if args.stats:
        for r in rows:
            s = r["stats"]
            print(f"  {r['id']:45s} {r['split']:8s} pan={s.pan_speed} tilt={s.tilt_speed} "
                  f"zoom={s.zoom_rate} roll={s.rotation_dps} shake={s.shake} tracked={s.tracked}")
    thr = manifest_thresholds()
    out: dict = {"thresholds": thr}
    if args.choose:
        calib = [r for r in rows if r["split"] == "calib"]
        thr, why = choose(calib, thr)
        print("\nchosen on calib:", thr)
        for k, w in why.items():
            lo, hi = w["between"]
            print(f"  {k}: any value in ({lo:.4g}, {hi:.4g}) gives worst precision/recall "
                  f"{w['worst_p_or_r']}")
        out = {"thresholds": thr, "why": {k: {"between": list(w["between"]),
                                               "worst_p_or_r": w["worst_p_or_r"]}
                                           for k, w in why.items()}}
    for sp in ("calib", "held_out"):
        part = [r for r in rows if r["split"] == sp]
        if part:
            out[sp] = report(part, thr, sp)
    if args.json:
        got = label_all(rows, thr)
        out["clips"] = [{"id": r["id"], "truth": r["truth"], "speed": r["speed"], "label": g,
                         "split": r["split"],
                         "stats": r["stats"].model_dump()} for r, g in zip(rows, got)]
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
