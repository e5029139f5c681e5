"""A labelled set for text_overlay's caption-vs-scene model, the fit of its weights, and its figures.

Clips are made from real footage and real sign photos (../shared/assets/media):
  overlay: captions drawn with ffmpeg drawtext (DejaVu Sans/Serif/Mono/Condensed, bold and light; white,
           yellow, black, red; outline, shadow, box or none; top/middle/bottom, centred or left) over moving
           footage (vtest.avi people walking, tree.avi handheld, a pan over a street photo);
  scene:   scenetext01/02.jpg panned (left, right, up), zoomed in and out, and held still, at two sizes.
Every segment read in an overlay clip whose text matches the caption is labelled overlay; every other
segment is scene. Clips alternate between the fit part (even) and the held-out part (odd).

Run with the torch environment (it needs EasyOCR), from the repository root:

    .venvs/torch/bin/python -m tests.analyzers.text_calibration measure /tmp/textcal   # OCR every clip, cues -> JSON
    .venvs/torch/bin/python -m tests.analyzers.text_calibration fit /tmp/textcal       # weights + held-out figures
    .venvs/torch/bin/python -m tests.analyzers.text_calibration eval tests/data/text_overlay_cues.json

The stored tests/data/text_overlay_cues.json is the cues.json of the last measure (text_overlay 2.1.0);
_text_cues.WEIGHTS were fitted on 2.0.0's and kept: a refit on 2.1.0's scores the same (1.00 everywhere).
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
MEDIA = REPO.parent / "shared" / "assets" / "media"
FONTS = "/usr/share/fonts/truetype/dejavu/"

CAPTIONS = ["FOLLOW FOR PART 2", "WAIT FOR IT", "LINK IN BIO", "THE END", "TRY THIS TODAY", "DAY 3 OF 30",
            "SAVE THIS", "NEW RECIPE", "WATCH TILL END", "STORY TIME"]
FONT_FILES = ["DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansCondensed.ttf",
              "DejaVuSerif-Bold.ttf", "DejaVuSans.ttf"]
STYLES = [  # drawtext options after the text
    "fontcolor=white:borderw=3:bordercolor=black",
    "fontcolor=yellow:borderw=2:bordercolor=black",
    "fontcolor=white:shadowx=3:shadowy=3:shadowcolor=black",
    "fontcolor=black:box=1:boxcolor=white@0.9:boxborderw=8",
    "fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=6",
    "fontcolor=red:borderw=2:bordercolor=white",
    "fontcolor=white",
]
POSITIONS = [("(w-tw)/2", "h*0.80"), ("(w-tw)/2", "h*0.12"), ("(w-tw)/2", "(h-th)/2"), ("w*0.06", "h*0.70"),
             ("(w-tw)/2", "h*0.65")]


def _ff(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def _backgrounds(k: int) -> tuple[list[str], str]:
    """(ffmpeg input args, filter producing a 360x640 moving picture) for overlay clip k."""
    kind = k % 4
    if kind == 0:
        return ["-ss", str(k % 20), "-i", str(MEDIA / "vtest.avi")], "scale=-2:640,crop=360:640"
    if kind == 1:
        return ["-ss", str(k % 10), "-i", str(MEDIA / "tree.avi")], "scale=-2:640,crop=360:640"
    if kind == 2:
        return ["-ss", str(k % 20), "-i", str(MEDIA / "vtest.avi")], "scale=360:-2,pad=360:640:0:(oh-ih)/2"
    photo = MEDIA / ("bus.jpg" if k % 8 == 3 else "zidane.jpg")
    return (["-loop", "1", "-framerate", "10", "-i", str(photo)],
            "scale=-2:800,crop=360:640:'min(iw-360,t*40)':'min(ih-640,t*10)'")


def make_set(out: Path, n_overlay: int = 28, n_scene: int = 24, seconds: float = 3.0) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    clips = []
    for k in range(n_overlay):
        text = CAPTIONS[k % len(CAPTIONS)]
        font = FONT_FILES[k % len(FONT_FILES)]
        style = STYLES[(k * 3) % len(STYLES)]
        x, y = POSITIONS[k % len(POSITIONS)]
        size = (26, 30, 36)[k % 3]
        inputs, bg = _backgrounds(k)
        start = 0.5 if k % 2 else 0.0
        draw = (f"drawtext=fontfile={FONTS}{font}:text='{text}':fontsize={size}:{style}:x={x}:y={y}"
                f":enable='gte(t,{start})'")
        path = out / f"overlay{k:02d}.mp4"
        if not path.exists():
            _ff(*inputs, "-t", str(seconds), "-vf", f"{bg},{draw},format=yuv420p", "-r", "10",
                "-c:v", "libx264", "-preset", "ultrafast", str(path))
        clips.append({"path": str(path), "label": "overlay", "caption": text, "part": "fit" if k % 2 == 0 else "held_out"})
    for k in range(n_scene):
        photo = MEDIA / ("scenetext01.jpg" if k % 2 == 0 else "scenetext02.jpg")
        motion = ["pan_right", "pan_left", "pan_up", "zoom_in", "zoom_out", "still", "pan_slow", "still_small"][(k // 2) % 8]
        hgt = (900, 760, 1000)[(k // 4 + k // 16) % 3]
        if motion == "pan_right":
            vf = f"scale=-2:{hgt},crop=360:640:'min(iw-360,t*60)':'(ih-640)/2'"
        elif motion == "pan_left":
            vf = f"scale=-2:{hgt},crop=360:640:'max(0,iw-360-t*60)':'(ih-640)/2'"
        elif motion == "pan_up":
            vf = f"scale=-2:{hgt},crop=360:640:'(iw-360)/2':'max(0,ih-640-t*50)'"
        elif motion == "pan_slow":
            vf = f"scale=-2:{hgt},crop=360:640:'min(iw-360,t*15)':'(ih-640)/2'"
        elif motion == "zoom_in":
            vf = "scale=-2:1280,zoompan=z='1+0.02*on':d=1:x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':s=360x640:fps=10"
        elif motion == "zoom_out":
            vf = "scale=-2:1280,zoompan=z='1.6-0.02*on':d=1:x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':s=360x640:fps=10"
        elif motion == "still":
            vf = "scale=640:-2,pad=640:ih+mod(ih\\,2)"
        else:
            vf = "scale=360:-2,pad=360:640:0:(oh-ih)/2"
        path = out / f"scene{k:02d}.mp4"
        if not path.exists():
            _ff("-loop", "1", "-framerate", "10", "-i", str(photo), "-t", str(seconds), "-vf", f"{vf},format=yuv420p",
                "-r", "10", "-c:v", "libx264", "-preset", "ultrafast", str(path))
        clips.append({"path": str(path), "label": "scene", "caption": None, "part": "fit" if k % 2 == 0 else "held_out",
                      "motion": motion})
    return clips


def sample(path: str, fps: float = 2.0, max_side: int = 640) -> list[tuple[float, np.ndarray]]:
    """Frames as the runner's `sampled` set has them (2 fps, at most 640 px on the long side)."""
    import cv2

    cap = cv2.VideoCapture(path)
    rate = cap.get(cv2.CAP_PROP_FPS) or 10.0
    out, i, nxt = [], 0, 0.0
    while True:
        ok, img = cap.read()
        if not ok:
            break
        t = i / rate
        if t + 1e-6 >= nxt:
            s = max_side / max(img.shape[:2])
            if s < 1:
                img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
            out.append((round(nxt, 3), img))
            nxt += 1 / fps
        i += 1
    return out


def engine():
    import easyocr_en_models
    import torch

    torch.set_num_threads(1)  # as the analyzer runs (cpus = 1)
    from analyzers.text_overlay._text_engine import EasyOCREngine, load_reader

    return EasyOCREngine(load_reader(["en"], False, easyocr_en_models.model_dir()), 0.6)


def track_clip(eng, path: str) -> list[dict]:
    """Tracks of one clip: text, times and raw cues."""
    from analyzers.text_overlay._text_cues import measure
    from analyzers.text_overlay._text_motion import to_grey
    from analyzers.text_overlay._text_records import Params
    from analyzers.text_overlay._text_tracks import Tracker

    tracker = Tracker(eng, Params())
    greys, wh = {}, (1, 1)
    for k, (t, img) in enumerate(sample(path)):
        tracker.step(img, t)
        greys[k] = to_grey(img)
        wh = (img.shape[1], img.shape[0])
    tracker.finish()
    cuts = {k for k, f in enumerate(tracker.frames) if f.cut}
    changes = [f.change for f in tracker.frames]
    return [{"text": tr.best_text(), "start": tracker.frames[tr.first.frame].t, "frames": len(tr.readings),
             "cues": measure(tr, greys, wh, cuts, len(tracker.frames), changes)}
            for tr in tracker.tracks if tr.readings]


def measure_set(out: Path) -> Path:
    from analyzers.text_overlay._text_match import ratio

    clips = make_set(out)
    eng = engine()
    rows = []
    for c in clips:
        for tr in track_clip(eng, c["path"]):
            label = "overlay" if c["caption"] and ratio(tr["text"], c["caption"]) >= 0.6 else "scene"
            if c["caption"] and label == "scene" and len(tr["text"]) < 3:
                continue
            rows.append({**tr, "label": label, "clip": Path(c["path"]).name, "part": c["part"]})
        print(c["path"], [(r["text"], r["label"]) for r in rows if r["clip"] == Path(c["path"]).name], flush=True)
    dest = out / "cues.json"
    dest.write_text(json.dumps(rows, indent=1))
    return dest


def evaluate(rows: list[dict], weights: dict[str, float]) -> dict[str, dict[str, float]]:
    from analyzers.text_overlay._text_cues import kind, score

    got = [kind(*score(r["cues"], weights)) for r in rows]
    figs = {}
    for k in ("overlay", "scene"):
        tp = sum(1 for g, r in zip(got, rows) if g == k and r["label"] == k)
        said = sum(1 for g in got if g == k)
        truth = sum(1 for r in rows if r["label"] == k)
        figs[k] = {"precision": round(tp / said, 3) if said else float("nan"),
                   "recall": round(tp / truth, 3) if truth else float("nan"), "n": truth}
    figs["uncertain"] = {"n": sum(1 for g in got if g == "uncertain")}
    return figs


def fit(rows: list[dict], l2: float = 0.01, steps: int = 20000, lr: float = 1.0) -> dict[str, float]:
    """Logistic regression on the fit part (class-balanced), plain numpy gradient descent, with an L2
    pull towards the hand-set prior weights in _text_cues.PRIOR (what the physics says), so a cue the
    small set happens not to exercise (a centred sign under a pan) keeps its expected sign and size."""
    from analyzers.text_overlay._text_cues import PRIOR, features

    names = [k for k in PRIOR if k != "bias"]
    X = np.array([[features(r["cues"])[n] for n in names] for r in rows])
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


def main(argv: list[str]) -> None:
    cmd, out = argv[0], Path(argv[1])
    if cmd == "measure":
        print(measure_set(out))
        return
    from analyzers.text_overlay._text_cues import WEIGHTS

    if cmd == "eval":  # the analyzer's weights on the held-out rows of a stored cues file, as JSON
        rows = json.loads(out.read_text())
        print(json.dumps(evaluate([r for r in rows if r["part"] == "held_out"], WEIGHTS)))
        return

    rows = json.loads((out / "cues.json").read_text())
    fit_rows = [r for r in rows if r["part"] == "fit"]
    held = [r for r in rows if r["part"] == "held_out"]
    print("rows: fit", len(fit_rows), "held out", len(held))
    print("current weights, held out:", evaluate(held, WEIGHTS))
    new = fit(fit_rows)
    print("fitted weights:", json.dumps(new))
    print("fitted, fit part:", evaluate(fit_rows, new))
    print("fitted, held out:", evaluate(held, new))
    for r in held:
        from analyzers.text_overlay._text_cues import kind, score
        got = kind(*score(r["cues"], new))
        if got != r["label"]:
            print("  miss:", r["clip"], repr(r["text"]), r["label"], "->", got, {k: round(v, 2) for k, v in r["cues"].items()})
    _ = math


if __name__ == "__main__":
    main(sys.argv[1:])
