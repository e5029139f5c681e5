"""Measure the motion calibration set, choose camera_analysis's label thresholds, and score them.

From the project root:

    # measure every clip with the analyzer's own code (cpu environment: OpenCV, ffmpeg; ~30 min CPU)
    .venvs/cpu/bin/python -m tests.analyzers.camera_calibration --measure [--cache DIR]
    # choose thresholds on the calib half of the stored statistics, and score both halves
    .venv/bin/python -m tests.analyzers.camera_calibration --choose
    # the tables docs/camera.md quotes (thresholds from analyzer.toml)
    .venv/bin/python -m tests.analyzers.camera_calibration --markdown

The statistics (``STATS``: per clip, ``stats.span_stats`` over the whole clip as one shot)
are stored with a digest of the code that measured them and of the set's definition, so a test
can tell when they are stale. Scoring is per label over label sets: a clip's predicted labels
are every motion over its threshold (``_labels.labels``), its truth one label, or two for
compound moves; precision and recall per label, with n and a 95 % Wilson lower bound.

Choosing: one threshold per motion (pan, tilt, zoom, roll, shake), in turns until none moves.
For each, every interval between consecutive measured values is scored on the calib half by the
sorted vector of per-label min(precision, recall) (the worst label first, then the next, ...);
the threshold is the geometric middle of the widest run of intervals with the best vector,
rounded to 2 significant figures. Everything but ``--measure`` runs without numpy or OpenCV.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from analyzers.base import manifest_params
from analyzers.camera_analysis._labels import UNITS, candidates, labels, thresholds
from shared_schema.results.motion import MotionStats
from tests.analyzers import motion_set

ROOT = Path(__file__).resolve().parents[2]
ANALYZER = ROOT / "analyzers" / "camera_analysis"
STATS = ROOT / "tests" / "data" / "camera_calibration.json"
#: what the stored statistics depend on: the measuring code and the set's definition
DIGEST_FILES = ("analyzers/camera_analysis/flow.py", "analyzers/camera_analysis/stats.py",
                "tests/analyzers/motion_set.py", "tests/analyzers/motion_render.py")
LABELS = ("static", "pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out",
          "roll_cw", "roll_ccw", "handheld")
Z95 = 1.959964


@dataclass(frozen=True)
class Row:
    clip: motion_set.Clip
    stats: MotionStats


def digest() -> str:
    h = hashlib.sha256()
    for rel in DIGEST_FILES:
        h.update(rel.encode() + b"\0" + (ROOT / rel).read_bytes() + b"\0")
    return h.hexdigest()


def manifest_thresholds() -> dict[str, float]:
    return thresholds(manifest_params(ANALYZER))


def load(path: Path = STATS, split: str | None = None) -> tuple[list[Row], dict]:
    """The stored statistics joined with the clip list (the truth comes from ``motion_set``)."""
    data = json.loads(path.read_text())
    stats = data["clips"]
    rows = [Row(c, MotionStats(**stats[c.id])) for c in motion_set.clips(split)]
    return rows, data


# ---- scoring -------------------------------------------------------------------------------------

def predicted(row: Row, thr: dict[str, float]) -> tuple[str, ...]:
    return tuple(labels(row.stats, thr))


def wilson_lower(k: int, n: int, z: float = Z95) -> float | None:
    """95 % Wilson score lower bound of a proportion k / n (None for n = 0)."""
    if n == 0:
        return None
    p = k / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - margin) / (1 + z * z / n))


def counts(rows: list[Row], preds: list[tuple[str, ...]]) -> dict[str, list[int]]:
    """label -> [true positives, said, true] over label sets."""
    out = {lab: [0, 0, 0] for lab in LABELS}
    for r, got in zip(rows, preds):
        for lab in set(got):
            out[lab][1] += 1
            out[lab][0] += lab in r.clip.truth
        for lab in set(r.clip.truth):
            out[lab][2] += 1
    return out


def _vector(cnt: dict[str, list[int]]) -> tuple[float, ...]:
    """Per-label min(precision, recall), worst first, over the labels said or true."""
    vals = []
    for tp, said, true in cnt.values():
        if said or true:
            vals.append(min(tp / said if said else 0.0, tp / true if true else 0.0))
    return tuple(sorted(round(v, 12) for v in vals))


def _sig2(x: float) -> float:
    return float(f"{x:.2g}")


def _sweep(rows: list[Row], thr: dict[str, float], unit: str) -> tuple[tuple, tuple[float, float]]:
    """The best score vector over thresholds of ``unit`` (others fixed), and the widest log
    interval of thresholds that reach it."""
    base, mine = [], []
    for r in rows:
        others = {k: t for k, t in thr.items() if k != unit}
        got = set(labels(r.stats, {**others, unit: math.inf})) - {"static"}
        cand = candidates(r.stats).get(unit) if r.stats.pan_speed is not None else None
        base.append(got)
        mine.append(cand if cand and cand[0] > 0 else None)
    tracked = [r.stats.tracked > 0 and r.stats.pan_speed is not None for r in rows]
    vals = sorted({c[0] for c in mine if c})
    edges = [vals[0] / 10] + vals + [vals[-1] * 10]
    order = sorted((c[0], i) for i, c in enumerate(mine) if c)

    def pred(i: int, with_mine: bool) -> tuple[str, ...]:
        if not tracked[i]:
            return ()
        got = base[i] | ({mine[i][1]} if with_mine and mine[i] else set())
        return tuple(got) or ("static",)

    current = [pred(i, True) for i in range(len(rows))]
    cnt = counts(rows, current)
    k, best, runs = 0, None, []
    for a, b in zip(edges, edges[1:]):
        while k < len(order) and order[k][0] <= a:  # rows at or under a lose the label
            i = order[k][1]
            for lab in set(current[i]):
                cnt[lab][1] -= 1
                cnt[lab][0] -= lab in rows[i].clip.truth
            current[i] = pred(i, False)
            for lab in set(current[i]):
                cnt[lab][1] += 1
                cnt[lab][0] += lab in rows[i].clip.truth
            k += 1
        score = _vector(cnt)
        if best is None or score > best:
            best, runs = score, [[a, b]]
        elif score == best:
            if runs[-1][1] == a:
                runs[-1][1] = b
            else:
                runs.append([a, b])
    lo, hi = max(runs, key=lambda ab: math.log(ab[1] / ab[0]))
    return best, (lo, hi)


def choose(rows: list[Row], thr: dict[str, float], rounds: int = 8) -> tuple[dict[str, float], dict]:
    thr = dict(thr)
    why = {}
    for _ in range(rounds):
        before = dict(thr)
        for unit in UNITS:
            best, (lo, hi) = _sweep(rows, thr, unit)
            thr[unit] = _sig2(math.sqrt(lo * hi))
            why[unit] = {"between": (lo, hi), "worst_p_or_r": round(best[0], 3)}
        if thr == before:  # settled
            break
    return thr, why


def scores(rows: list[Row], thr: dict[str, float]) -> dict[str, dict]:
    """label -> precision, recall, their n and 95 % lower bounds (labels with truth or said)."""
    out = {}
    for lab, (tp, said, true) in counts(rows, [predicted(r, thr) for r in rows]).items():
        if said or true:
            out[lab] = {"precision": round(tp / said, 3) if said else None, "said": said,
                        "precision_low95": _r3(wilson_lower(tp, said)),
                        "recall": round(tp / true, 3) if true else None, "true": true,
                        "recall_low95": _r3(wilson_lower(tp, true))}
    return out


def _r3(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def by_condition(rows: list[Row], thr: dict[str, float]) -> dict[str, tuple[int, int]]:
    """condition@variant -> (clips whose predicted label set is exactly the truth's, clips)."""
    out: dict[str, list[int]] = {}
    for r in rows:
        key = f"{r.clip.cond}@{r.clip.variant}"
        ok = set(predicted(r, thr)) == set(r.clip.truth)
        cell = out.setdefault(key, [0, 0])
        cell[0] += ok
        cell[1] += 1
    return {k: (a, b) for k, (a, b) in sorted(out.items())}


def wrong(rows: list[Row], thr: dict[str, float]) -> list[tuple[str, tuple, tuple]]:
    return [(r.clip.id, r.clip.truth, predicted(r, thr)) for r in rows
            if set(predicted(r, thr)) != set(r.clip.truth)]


# ---- measuring (cpu environment) -----------------------------------------------------------------

def measure(clips: list[motion_set.Clip], cache: Path | None = None, log=print) -> dict[str, dict]:
    """clip id -> its stats as the analyzer measures them (the whole clip as one shot)."""
    import numpy as np

    from analyzers.camera_analysis.flow import estimate
    from analyzers.camera_analysis.stats import span_stats
    from tests.analyzers import motion_render

    out: dict[str, dict] = {}
    by_base: dict[str, list[motion_set.Clip]] = {}
    for c in clips:
        by_base.setdefault(c.base_id, []).append(c)
    for k, group in enumerate(by_base.values()):
        for cid, frames in motion_render.render(group, cache).items():
            n = len(frames)
            stats = span_stats(estimate(frames), 0, n - 1, frames.index.fps, np.zeros(n, bool))
            out[cid] = stats.model_dump()
        if k % 25 == 0:
            log(f"  measured {len(out)} of {len(clips)} clips")
    return out


# ---- the command ---------------------------------------------------------------------------------

def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def markdown(rows: list[Row], thr: dict[str, float]) -> list[str]:
    """The per-label tables (held-out and calib) and the per-condition table docs/camera.md quotes."""
    lines = []
    for sp in ("held_out", "calib"):
        part = [r for r in rows if r.clip.split == sp]
        lines += [f"**{sp}** (synthetic: {len(part)} clips, "
                  f"{sum(r.clip.variant == 'h264' for r in part)} of them H.264)", "",
                  "| label | precision | n said | 95 % low | recall | n true | 95 % low |",
                  "|---|---|---|---|---|---|---|"]
        for lab, s in scores(part, thr).items():
            lines.append(f"| {lab} | {_fmt(s['precision'])} | {s['said']} | {_fmt(s['precision_low95'])} "
                         f"| {_fmt(s['recall'])} | {s['true']} | {_fmt(s['recall_low95'])} |")
        lines.append("")
    lines += ["Clips whose labels are exactly the truth's, by condition (synthetic; held-out | calib):", "",
              "| condition | held-out raw | held-out H.264 | calib raw | calib H.264 |", "|---|---|---|---|---|"]
    cells = {sp: by_condition([r for r in rows if r.clip.split == sp], thr) for sp in ("held_out", "calib")}
    conds = sorted({k.split("@")[0] for c in cells.values() for k in c})
    for cond in conds:
        row = [f"{a}/{b}" for sp in ("held_out", "calib") for v in ("raw", "h264")
               for a, b in [cells[sp].get(f"{cond}@{v}", (0, 0))]]
        lines.append(f"| {cond} | " + " | ".join(row) + " |")
    return lines


def _report(rows: list[Row], thr: dict[str, float]) -> None:
    for line in markdown(rows, thr):
        print(line)
    for cid, truth, got in wrong([r for r in rows if r.clip.split == "held_out"], thr):
        print(f"  held-out wrong: {cid}: truth {'+'.join(truth)}, said {'+'.join(got) or 'nothing'}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--measure", action="store_true", help="measure every clip and write --stats")
    ap.add_argument("--cache", type=Path, help="keep rendered dense frames here between --measure runs")
    ap.add_argument("--stats", type=Path, default=STATS, help=f"the stored statistics (default {STATS})")
    ap.add_argument("--choose", action="store_true", help="choose thresholds on the calib half")
    ap.add_argument("--markdown", action="store_true", help="print only the tables docs/camera.md quotes")
    args = ap.parse_args(argv)
    if args.measure:
        clips = motion_set.clips()
        stats = measure(clips, args.cache)
        args.stats.write_text(json.dumps({"digest": digest(), "files": list(DIGEST_FILES),
                                          "clips": stats}, indent=0, sort_keys=True) + "\n")
        print(f"wrote {args.stats}: {len(stats)} clips")
    rows, data = load(args.stats)
    if data.get("digest") != digest():
        print(f"WARNING: {args.stats} was measured with other code or another set (digest differs): "
              "re-run with --measure", file=sys.stderr)
    thr = manifest_thresholds()
    if args.choose:
        thr, why = choose([r for r in rows if r.clip.split == "calib"], thr)
        print("chosen on calib:", thr)
        for k, w in why.items():
            lo, hi = w["between"]
            print(f"  {k}: any value in ({lo:.4g}, {hi:.4g}) gives the best scores (worst label "
                  f"min(P, R) {w['worst_p_or_r']})")
    else:
        print("thresholds from analyzer.toml:", thr)
    if args.markdown:
        print("\n".join(markdown(rows, thr)))
    else:
        _report(rows, thr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
