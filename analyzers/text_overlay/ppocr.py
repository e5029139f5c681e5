"""PP-OCRv4 text detection (DB) and recognition (CTC) on ONNX Runtime.

The weights are the ONNX files the ``rapidocr-onnxruntime`` wheel ships (Apache-2.0); only its
model files are used, not its pipeline: the detector runs at the size this analyzer asks for (the
package's pipeline scales every frame up to 736 px on its short side, 4-6x the CPU on a sampled
frame), and the recognizer's output is decoded here:

- the recognizer is the Chinese + Latin one: characters outside the scripts the job asks for
  (``languages``) are masked out before decoding, so a Latin caption never reads as a lookalike
  Chinese character;
- it drops the space between words on tight crops ("FOLLOWFORPART2"): the crop is read with a margin
  and a space is put back where the space class rose between two characters (``SPACE_AT``).
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PACKAGE = "rapidocr-onnxruntime==1.4.4"
DET_FILE, REC_FILE = "ch_PP-OCRv4_det_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx"
REC_HEIGHT = 48
#: probability of the space class, at its highest between two characters, above which they are two words
#: (seen here: word gaps the recognizer skipped rose to 0.04-0.3 (a bold caption on a 360 px frame,
#: scenetext02's "Sports Centre"), gaps inside words stayed under 0.01)
SPACE_AT = 0.02
#: scripts a job may ask for: a character is kept when it is in one of the requested ranges
SCRIPTS: dict[str, tuple[tuple[int, int], ...]] = {
    "en": ((0x20, 0x7E), (0xA0, 0x24F), (0x2018, 0x201F), (0x2026, 0x2026)),
    "zh": ((0x3000, 0x303F), (0x4E00, 0x9FFF), (0xFF00, 0xFFEF), (0x20, 0x7E)),
}


def model_dir() -> Path:
    """The folder of ONNX files inside the installed ``rapidocr_onnxruntime`` package (not imported: its
    pipeline is not used)."""
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"rapidocr_onnxruntime is not installed (pip install {PACKAGE})")
    return Path(list(spec.submodule_search_locations)[0]) / "models"


@dataclass(frozen=True)
class DBOptions:
    thresh: float = 0.3       # text probability of a pixel that belongs to a text region
    box_thresh: float = 0.5   # mean probability inside a region for it to count as text
    unclip: float = 1.6       # the region is grown by area x unclip / perimeter (DB's shrink, undone)
    min_side: float = 3.0     # regions thinner than this (map pixels) are dropped


class PPOCR:
    """The two ONNX sessions, loaded once, each on ``threads`` intra-op threads."""

    def __init__(self, folder: Path, threads: int = 1, languages: tuple[str, ...] = ("en",)):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = max(1, threads)
        so.inter_op_num_threads = 1
        so.log_severity_level = 3
        cpu = ["CPUExecutionProvider"]
        self.det = ort.InferenceSession(str(folder / DET_FILE), so, providers=cpu)
        self.rec = ort.InferenceSession(str(folder / REC_FILE), so, providers=cpu)
        chars = self.rec.get_modelmeta().custom_metadata_map["character"].splitlines()
        self.alphabet = ["", *chars, " "]  # CTC blank first, the space class last (PaddleOCR's layout)
        self.keep = allowed(self.alphabet, languages)
        self.pair = case_pairs(self.alphabet)
        self.det_runs = self.rec_runs = 0

    # -- detection ------------------------------------------------------------------------------------
    def prob_map(self, img: np.ndarray, long_side: int) -> tuple[np.ndarray, float, float]:
        """The detector's text probability map of ``img`` resized so that its long side is about
        ``long_side`` (both sides multiples of 32); (map, x scale, y scale) from map to ``img`` pixels."""
        import cv2

        h, w = img.shape[:2]
        s = long_side / max(h, w)
        mw, mh = max(32, int(round(w * s / 32)) * 32), max(32, int(round(h * s / 32)) * 32)
        x = cv2.resize(img, (mw, mh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
        if x.ndim == 2:
            x = cv2.cvtColor(x, cv2.COLOR_GRAY2BGR)
        x = (x.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None]
        self.det_runs += 1
        prob = self.det.run(None, {self.det.get_inputs()[0].name: x})[0][0, 0]
        return prob, w / mw, h / mh

    # -- recognition ----------------------------------------------------------------------------------
    def read(self, crop: np.ndarray) -> tuple[str, float]:
        """(text, confidence) of one line crop (BGR): greedy CTC over the allowed characters."""
        import cv2

        h, w = crop.shape[:2]
        if h < 3 or w < 3:
            return "", 0.0
        if crop.ndim == 2:
            crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
        width = int(min(2400, max(16, np.ceil(REC_HEIGHT * w / h))))
        x = cv2.resize(crop, (width, REC_HEIGHT), interpolation=cv2.INTER_LINEAR)
        x = (x.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None]
        self.rec_runs += 1
        probs = self.rec.run(None, {self.rec.get_inputs()[0].name: x})[0][0]
        return decode(probs, self.alphabet, self.keep, self.pair)


def allowed(alphabet: list[str], languages: tuple[str, ...]) -> np.ndarray:
    """Mask over the recognizer's classes: blank, space and the characters of the requested scripts."""
    ranges = [r for lang in languages for r in SCRIPTS.get(lang, ())]
    keep = np.zeros(len(alphabet), bool)
    keep[0] = keep[-1] = True
    for i, c in enumerate(alphabet[1:-1], start=1):
        o = ord(c[0]) if c else 0
        keep[i] = any(a <= o <= b for a, b in ranges)
    return keep


def case_pairs(alphabet: list[str]) -> np.ndarray:
    """For each class, the class of the same letter in the other case (itself when there is none)."""
    where = {c: i for i, c in enumerate(alphabet)}
    return np.array([where.get(c.swapcase(), i) if len(c) == 1 else i for i, c in enumerate(alphabet)])


def decode(probs: np.ndarray, alphabet: list[str], keep: np.ndarray, pair: np.ndarray | None = None
           ) -> tuple[str, float]:
    """Greedy CTC decoding restricted to ``keep``, with the spaces the recognizer skipped put back.

    The confidence is the mean probability of the characters read, each counted whatever its case
    (a bold "SO" splits its probability between "S" and "s": it is still surely an S)."""
    p = np.where(keep[None, :], probs, 0.0)
    idx = p.argmax(axis=1)
    space = len(alphabet) - 1
    out: list[str] = []
    confs: list[float] = []
    last, last_pos = 0, -1
    for i, k in enumerate(idx):
        if k != 0 and k != last:
            if k != space and out and out[-1] != " " and last_pos >= 0 and i - last_pos > 1 \
                    and float(probs[last_pos + 1:i, space].max()) >= SPACE_AT:
                out.append(" ")
            out.append(alphabet[k])
            other = k if pair is None else int(pair[k])
            confs.append(float(p[i, k] + (p[i, other] if other != k else 0.0)))
            last_pos = i
        last = k
    text = " ".join("".join(out).split())
    if not text:
        return "", 0.0
    return text, float(np.mean(confs))


def db_boxes(prob: np.ndarray, sx: float, sy: float, opt: DBOptions = DBOptions()) -> list[tuple]:
    """Text regions of a DB probability map as pixel xyxy boxes (scaled by ``sx``, ``sy``), each with its
    score: [(x1, y1, x2, y2, score)]."""
    import cv2

    seg = (prob > opt.thresh).astype(np.uint8)
    seg = cv2.dilate(seg, np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(seg, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    mh, mw = prob.shape
    out = []
    for c in contours[:1000]:
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(c)
        if min(rw, rh) < opt.min_side:
            continue
        x, y, bw, bh = cv2.boundingRect(c)
        mask = np.zeros((bh, bw), np.uint8)
        cv2.fillPoly(mask, [c.reshape(-1, 2) - [x, y]], 1)
        score = float(prob[y:y + bh, x:x + bw][mask > 0].mean()) if mask.any() else 0.0
        if score < opt.box_thresh:
            continue
        d = rw * rh * opt.unclip / max(1e-6, 2 * (rw + rh))
        pts = cv2.boxPoints(((cx, cy), (rw + 2 * d, rh + 2 * d), angle))
        x1, y1 = np.clip(pts.min(axis=0), 0, [mw, mh])
        x2, y2 = np.clip(pts.max(axis=0), 0, [mw, mh])
        if min(x2 - x1, y2 - y1) < opt.min_side + 2:
            continue
        out.append((float(x1 * sx), float(y1 * sy), float(x2 * sx), float(y2 * sy), score))
    return out
