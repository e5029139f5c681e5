"""text_overlay's caption-vs-scene classifier: measure the labelled set, fit the weights, evaluate held out.

The set is made by tests/analyzers/text_set.py (two halves split by source). Run in the cpu environment
(PP-OCR on ONNX Runtime), from the repository root:

    .venvs/cpu/bin/python -m tests.analyzers.text_calibration measure /tmp/textcal [fit|held_out]  # OCR -> cues
    .venvs/cpu/bin/python -m tests.analyzers.text_calibration fit                   # weights, from the fit half only
    .venvs/cpu/bin/python -m tests.analyzers.text_calibration eval                  # the held-out figures

``measure`` writes the cues of each half to tests/data/text_overlay_cues_{fit,held_out}.json (copy them there
from DIR only when the set or the analyzer's measurements change). ``fit`` reads the fit half and never
prints anything about the held-out half; ``eval`` is the one command that does: precision and recall of
overlay and scene with n and 95% lower bounds (Wilson), caption recall (drawn captions found), and a
reliability table of overlay_score. The weights fitted are deterministic (plain gradient descent from the
prior): tests/analyzers/test_text_classifier.py refits the stored fit cues and expects cues.WEIGHTS.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
CUES = {"fit": DATA / "text_overlay_cues_fit.json", "held_out": DATA / "text_overlay_cues_held_out.json"}
MATCH = 0.75  # a line's text and a drawn text this alike (match.ratio) are the same words


def sample(path: Path, fps: float = 2.0) -> list[tuple[float, np.ndarray]]:
    """Frames as the runner's `sampled` set has them (2 fps; the clips are 360x640 already)."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    rate = cap.get(cv2.CAP_PROP_FPS) or 10.0
    out, i, nxt = [], 0, 0.0
    while True:
        ok, img = cap.read()
        if not ok:
            break
        if i / rate + 1e-6 >= nxt:
            out.append((round(nxt, 3), img))
            nxt += 1 / fps
        i += 1
    return out


def engine(languages: tuple[str, ...] = ("en",)):
    from analyzers.text_overlay.engine import PPOCREngine
    from analyzers.text_overlay.ppocr import PPOCR, model_dir

    return PPOCREngine(PPOCR(model_dir(), threads=1, languages=languages))


def track_clip(eng, path: Path) -> list[dict]:
    """Tracks of one clip: text, start, frames and raw cues."""
    from analyzers.text_overlay.cues import block_lines, measure
    from analyzers.text_overlay.motion import to_grey
    from analyzers.text_overlay.records import Params
    from analyzers.text_overlay.tracks import Tracker

    tracker = Tracker(eng, Params())
    greys, wh = {}, (1, 1)
    for k, (t, img) in enumerate(sample(path)):
        tracker.step(img, t)
        greys[k] = to_grey(img)
        wh = (img.shape[1], img.shape[0])
    tracker.finish()
    cuts = {k for k, f in enumerate(tracker.frames) if f.cut}
    changes = [f.change for f in tracker.frames]
    blocks = block_lines(tracker.tracks)
    return [{"text": tr.best_text(), "start": tracker.frames[tr.first.frame].t, "frames": len(tr.readings),
             "cues": measure(tr, greys, wh, cuts, len(tracker.frames), changes, blocks.get(tr.id))}
            for tr in tracker.tracks if tr.readings]


def label_rows(clip, lines: list[dict]) -> tuple[list[dict], list[dict]]:
    """(labelled rows, one row per drawn text: found or not). A line matching the clip's drawn text gets the
    clip's label; any other line is scene text (lettering in the photos)."""
    from analyzers.text_overlay.match import ratio

    rows = []
    for ln in lines:
        hit = max((ratio(ln["text"], t) for t in clip.texts), default=0.0) >= MATCH
        lab = clip.label if (hit or clip.label == "scene") else "scene"
        cat = clip.category if (hit or clip.label == "scene") else "photo_lettering"
        rows.append({**ln, "label": lab, "category": cat, "clip": clip.name, "half": clip.half})
    drawn = [{"clip": clip.name, "half": clip.half, "category": clip.category, "text": t,
              "found": any(ratio(ln["text"], t) >= MATCH for ln in lines)} for t in clip.texts]
    return rows, drawn


def measure_set(out: Path, halves: tuple[str, ...] = tuple(CUES)) -> None:
    """Cues of the halves asked for (the held-out half is measured once the analyzer's cues are final)."""
    from tests.analyzers.text_set import all_clips, check_split, make_set

    check_split(all_clips())
    clips = make_set(out / "clips", halves)
    engines: dict = {}
    got: dict[str, dict] = {h: {"rows": [], "drawn": []} for h in halves}
    for clip, path in clips:
        eng = engines.setdefault(clip.languages, engine(clip.languages))
        rows, drawn = label_rows(clip, track_clip(eng, path))
        got[clip.half]["rows"] += rows
        got[clip.half]["drawn"] += drawn
        print(clip.name, flush=True)  # no figures here: the held-out half is read by eval only
    for half, data in got.items():
        (out / CUES[half].name).write_text(json.dumps(data, indent=1))
        print(out / CUES[half].name)


def wilson_lower(k: int, n: int, z: float = 1.96) -> float | None:
    """The lower end of the 95% Wilson score interval of a proportion k/n."""
    if n == 0:
        return None
    p = k / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return round((centre - spread) / (1 + z * z / n), 3)


def _share(k: int, n: int) -> dict:
    return {"k": k, "n": n, "value": round(k / n, 3) if n else None, "lower95": wilson_lower(k, n)}


def evaluate(rows: list[dict], weights: dict[str, float]) -> dict:
    """Precision and recall of overlay and scene (with n and 95% lower bounds), and how many were uncertain."""
    from analyzers.text_overlay.cues import kind, score

    got = [kind(*score(r["cues"], weights)) for r in rows]
    figs: dict = {}
    for k in ("overlay", "scene"):
        tp = sum(1 for g, r in zip(got, rows) if g == k and r["label"] == k)
        figs[k] = {"precision": _share(tp, sum(1 for g in got if g == k)),
                   "recall": _share(tp, sum(1 for r in rows if r["label"] == k))}
    figs["uncertain"] = sum(1 for g in got if g == "uncertain")
    figs["rows"] = len(rows)
    return figs


def by_category(rows: list[dict], weights: dict[str, float]) -> dict[str, dict]:
    """Per category: lines and how many got their label."""
    from analyzers.text_overlay.cues import kind, score

    out: dict[str, dict] = {}
    for r in rows:
        c = out.setdefault(r["category"], {"n": 0, "right": 0, "uncertain": 0})
        g = kind(*score(r["cues"], weights))
        c["n"] += 1
        c["right"] += g == r["label"]
        c["uncertain"] += g == "uncertain"
    return out


def reliability(rows: list[dict], weights: dict[str, float], bins: int = 5) -> list[dict]:
    """overlay_score in equal bins against the share of overlay lines in each (a probability would match)."""
    from analyzers.text_overlay.cues import score

    table = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        sel = [r for r in rows if lo <= score(r["cues"], weights)[0] < hi or (b == bins - 1 and score(r["cues"], weights)[0] == 1)]
        table.append({"score": f"{lo:.1f}-{hi:.1f}", "n": len(sel),
                      "overlay_share": round(sum(r["label"] == "overlay" for r in sel) / len(sel), 3) if sel else None})
    return table


def fit(rows: list[dict], l2: float = 0.001, steps: int = 20000, lr: float = 1.0) -> dict[str, float]:
    """Logistic regression on the fit half (class-balanced), plain numpy gradient descent from the prior in
    cues.PRIOR with an L2 pull towards it, so that a cue the set happens not to exercise keeps its
    expected sign and size. An unmeasured feature is 0: it adds nothing and its weight learns nothing from
    that line. Deterministic: the same rows give the same weights."""
    from analyzers.text_overlay.cues import PRIOR, features

    names = [k for k in PRIOR if k != "bias"]
    X = np.array([[features(r["cues"])[n] or 0.0 for n in names] for r in rows])
    y = np.array([1.0 if r["label"] == "overlay" else 0.0 for r in rows])
    wcls = np.where(y == 1, 0.5 / max(1, y.sum()), 0.5 / max(1, (1 - y).sum()))
    w0 = np.array([PRIOR[n] for n in names])
    w, b = w0.copy(), PRIOR["bias"]
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(X @ w + b)))
        g = (p - y) * wcls
        w -= lr * (X.T @ g + l2 * (w - w0))
        b -= lr * g.sum()
    return {"bias": round(float(b), 2), **{n: round(float(v), 2) for n, v in zip(names, w)}}


def _load(half: str, path: Path | None = None) -> dict:
    return json.loads((path or CUES[half]).read_text())


def main(argv: list[str]) -> None:
    from analyzers.text_overlay.cues import WEIGHTS

    cmd = argv[0]
    if cmd == "measure":
        measure_set(Path(argv[1]), tuple(argv[2:]) or tuple(CUES))
        return
    if cmd == "fit":  # the fit half only: nothing here reads the held-out file
        data = _load("fit", Path(argv[1]) if len(argv) > 1 else None)
        new = fit(data["rows"])
        print("fitted weights:", json.dumps(new))
        print("fit half, fitted weights:", json.dumps(evaluate(data["rows"], new)))
        print("fit half, by category:", json.dumps(by_category(data["rows"], new)))
        print("fit half, drawn captions found:", json.dumps(_share(sum(d["found"] for d in data["drawn"]),
                                                                   len(data["drawn"]))))
        return
    if cmd == "eval":  # the one command that reads the held-out half: the shipped weights on it, as JSON
        data = _load("held_out", Path(argv[1]) if len(argv) > 1 else None)
        drawn = data["drawn"]
        figs = evaluate(data["rows"], WEIGHTS)
        figs["by_category"] = by_category(data["rows"], WEIGHTS)
        figs["caption_recall"] = _share(sum(d["found"] for d in drawn), len(drawn))
        figs["reliability"] = reliability(data["rows"], WEIGHTS)
        print(json.dumps(figs))
        return
    raise SystemExit(f"unknown command {cmd!r}: measure DIR [fit|held_out] | fit [CUES] | eval [CUES]")


if __name__ == "__main__":
    main(sys.argv[1:])
