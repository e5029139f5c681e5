"""Text lines tracked over frames, with OCR spent only where the text changes.

The detector (CRAFT, the costly part) runs sparsely: on the first frame, every
``detect_every``-th analyzed frame, after a cut, and whenever a tracked line is
lost or reads differently. Between detections each line is followed by
template matching of its last crop, and re-read by the recognizer only when its
crop changed. A line found by a detection is traced back over the frames since
the previous detection so that its start is exact to one analyzed frame.

The OCR engine is a small interface (``detect``/``recognize``) so the tracking
is testable without EasyOCR.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

_NON_WORD = re.compile(r"[^0-9a-z]+")


def norm_text(s: str) -> str:
    return _NON_WORD.sub(" ", s.lower()).strip()


def ratio(a: str, b: str) -> float:
    a, b = norm_text(a), norm_text(b)
    if a == b:
        return 1.0
    return difflib.SequenceMatcher(None, a, b).ratio()


def partial_ratio(a: str, b: str) -> float:
    """How well the shorter text fits inside the longer one ("FOLLO" in "FOLLOW FOR PART 2")."""
    a, b = norm_text(a), norm_text(b)
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    m = difflib.SequenceMatcher(None, a, b)
    return sum(bl.size for bl in m.get_matching_blocks()) / len(a)


def same_line_text(new: str, known: str, may_grow: bool = False, fragments: bool = True) -> float:
    """Similarity of a new reading to a line's known text (0..1).

    The whole-string ratio, or, for a fragment of 4+ characters that fits inside the known text (a
    word the detector cut off), how well it fits (``fragments``). A reading that is the known text
    plus 3 or more characters is a new caption (captions that build up word by word): 0, unless
    ``may_grow`` (the line is at the frame's edge, entering the picture).
    """
    na, nb = norm_text(new), norm_text(known)
    if len(na) >= len(nb) + 3 and nb and partial_ratio(nb, na) >= 0.9:
        return 0.95 if may_grow else 0.0
    r = ratio(na, nb)
    if fragments and min(len(na), len(nb)) >= 4 and len(na) <= len(nb):
        pr = partial_ratio(na, nb)
        if pr >= 0.9:
            r = max(r, 0.95 * pr)
    return r


def at_edge(box, w: int, h: int, margin: float = 3.0) -> bool:
    return box[0] <= margin or box[1] <= margin or box[2] >= w - margin or box[3] >= h - margin


def overlap_small(a, b) -> float:
    """Intersection over the smaller box's area."""
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return inter / small if small > 0 else 0.0


def box_iou(a, b) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def overlap_1d(a0, a1, b0, b1) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def merge_lines(boxes: list[tuple], gap: float = 1.2) -> list[tuple]:
    """Words on one baseline -> one line box (pixel xyxy).

    Two boxes are on one line when they overlap vertically by most of the
    smaller height, their heights are alike, and the horizontal gap between
    them is under ``gap`` x the line height.
    """
    boxes = sorted([tuple(float(v) for v in b) for b in boxes], key=lambda b: b[0])
    merged = True
    while merged:
        merged = False
        out: list[tuple] = []
        for b in boxes:
            for j, a in enumerate(out):
                ha, hb = a[3] - a[1], b[3] - b[1]
                h = min(ha, hb)
                if h <= 0:
                    continue
                same_line = overlap_1d(a[1], a[3], b[1], b[3]) >= 0.6 * h and max(ha, hb) <= 1.6 * h
                dx = max(b[0] - a[2], a[0] - b[2], 0.0)
                if same_line and dx <= gap * max(ha, hb):
                    out[j] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    merged = True
                    break
            else:
                out.append(b)
        boxes = out
    return boxes


class OCR(Protocol):
    def detect(self, img: np.ndarray, full: bool) -> list[tuple]:
        """Pixel xyxy boxes of text (words or lines)."""

    def recognize(self, img: np.ndarray, box: tuple) -> tuple[str, float]:
        """(text, confidence) read inside a pixel box."""


@dataclass
class Reading:
    frame: int            # index among analyzed frames
    text: str
    conf: float
    box: tuple            # pixel xyxy in the analyzed frame
    ocr: bool             # recognized in this frame (False: carried over, the crop did not change)
    source: str = "sampled"  # or "hires"


@dataclass
class Track:
    id: int
    readings: list[Reading] = field(default_factory=list)
    crop: np.ndarray | None = None      # grey crop at the last recognition
    crop_box: tuple | None = None
    lost: bool = False
    # cue measurements, one per pair of consecutive frames the line was in
    ring_change: list[float] = field(default_factory=list)   # around the box, in the box's own frame
    inside_change: list[float] = field(default_factory=list)  # inside the box
    shift: list[float] = field(default_factory=list)          # box displacement / line height
    global_shift: list[float] = field(default_factory=list)   # camera/picture displacement / line height
    scale_change: list[float] = field(default_factory=list)   # |log| of the box height ratio

    @property
    def last(self) -> Reading:
        return self.readings[-1]

    @property
    def first(self) -> Reading:
        return self.readings[0]

    def texts(self) -> list[tuple[str, float]]:
        return [(r.text, r.conf) for r in self.readings if r.ocr]

    def best_text(self) -> str:
        """Confidence-weighted vote over whole-string candidates.

        Each distinct reading is a candidate; its score is the sum over all
        readings of confidence x similarity to it, with a mild preference for
        the longer of near-equal candidates (a fragment agrees with its whole,
        not the other way round).
        """
        reads = self.texts() or [(r.text, r.conf) for r in self.readings]
        cands = list(dict.fromkeys(t for t, _ in reads))
        if len(cands) == 1:
            return cands[0]
        longest = max(len(norm_text(c)) for c in cands) or 1

        def score(c: str) -> float:
            s = sum(conf * ratio(c, t) for t, conf in reads)
            return s * (0.85 + 0.15 * len(norm_text(c)) / longest)

        return max(cands, key=score)

    def confidence(self) -> float:
        reads = self.texts() or [(r.text, r.conf) for r in self.readings]
        return float(np.mean([c for _, c in reads]))


def _grey(img: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img


def _clip_box(b, w, h) -> tuple:
    x1, y1, x2, y2 = b
    x1, x2 = max(0.0, min(x1, w - 1.0)), max(0.0, min(x2, float(w)))
    y1, y2 = max(0.0, min(y1, h - 1.0)), max(0.0, min(y2, float(h)))
    return (x1, y1, max(x2, x1 + 1), max(y2, y1 + 1))


def _crop(grey: np.ndarray, b) -> np.ndarray:
    x1, y1, x2, y2 = (int(np.rint(v)) for v in b)
    return grey[max(0, y1):max(y1 + 1, y2), max(0, x1):max(x1 + 1, x2)]


def _ring(grey: np.ndarray, b) -> np.ndarray:
    h, w = grey.shape
    m = max(4.0, (b[3] - b[1]) * 0.6)
    o = _clip_box((b[0] - m, b[1] - m, b[2] + m, b[3] + m), w, h)
    mask = np.zeros(grey.shape, bool)
    mask[int(o[1]):int(o[3]), int(o[0]):int(o[2])] = True
    mask[int(b[1]):int(np.ceil(b[3])), int(b[0]):int(np.ceil(b[2]))] = False
    return mask


def crop_diff(a: np.ndarray | None, b: np.ndarray) -> float:
    """Mean absolute grey difference of two crops at a common 64x16 size."""
    import cv2

    if a is None or a.size == 0 or b.size == 0:
        return 255.0
    sz = (64, 16)
    return float(np.abs(cv2.resize(a, sz).astype(np.float32) - cv2.resize(b, sz).astype(np.float32)).mean())


def follow(prev_grey: np.ndarray, grey: np.ndarray, box: tuple, guess: tuple[float, float]) -> tuple[tuple, float]:
    """Where the crop at ``box`` in ``prev_grey`` is in ``grey``: (box, match score -1..1).

    Searches a window around the box shifted by ``guess`` (the picture's own
    motion) and around the unshifted box (a caption stays put).
    """
    import cv2

    h, w = grey.shape
    tpl = _crop(prev_grey, box)
    if tpl.shape[0] < 4 or tpl.shape[1] < 4 or float(tpl.std()) < 1.0:
        return box, 0.0
    bh = box[3] - box[1]
    best = (box, -1.0)
    for gx, gy in {(0.0, 0.0), (round(guess[0]), round(guess[1]))}:
        m = max(6.0, bh * 0.6)
        win = _clip_box((box[0] + gx - m, box[1] + gy - m, box[2] + gx + m, box[3] + gy + m), w, h)
        region = _crop(grey, win)
        if region.shape[0] < tpl.shape[0] or region.shape[1] < tpl.shape[1]:
            continue
        res = cv2.matchTemplate(region, tpl, cv2.TM_CCOEFF_NORMED)
        _, score, _, loc = cv2.minMaxLoc(res)
        if score > best[1]:
            x1, y1 = int(win[0]) + loc[0], int(win[1]) + loc[1]
            best = ((float(x1), float(y1), float(x1 + tpl.shape[1]), float(y1 + tpl.shape[0])), float(score))
    return best


def global_shift(prev_grey: np.ndarray, grey: np.ndarray) -> tuple[float, float]:
    """The picture's own translation between two frames (phase correlation on a 1/4 copy)."""
    import cv2

    a = cv2.resize(prev_grey, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA).astype(np.float32)
    b = cv2.resize(grey, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA).astype(np.float32)
    (dx, dy), resp = cv2.phaseCorrelate(a, b)
    if resp < 0.05:
        return 0.0, 0.0
    return dx * 4.0, dy * 4.0


@dataclass
class Params:
    detect_every: int = 6         # analyzed frames between two scheduled detections
    cut_diff: float = 30.0        # mean grey change of a 64x64 thumbnail that counts as a cut
    same_frame_diff: float = 2.0  # most-changed 8x8 block under which the frame reuses all readings
    recog_diff: float = 6.0       # crop change (mean abs grey) above which a line is read again
    min_match: float = 0.45       # template match under which a line is lost between detections
    min_confidence: float = 0.3
    same_text: float = 0.6        # similarity above which two readings are the same line
    max_gap: int = 1              # analyzed frames a line may be missed by the detector
    spike_diff: float = 6.0       # band change (mean abs grey of 8 thumbnail rows) that may be new text


@dataclass
class FrameInfo:
    t: float
    detected: bool = False
    recognized: int = 0
    reused: bool = False
    change: float = 0.0          # whole-picture change since the previous analyzed frame
    cut: bool = False
    spike: bool = False          # a band of the picture changed suddenly (text may have appeared)


class Tracker:
    def __init__(self, ocr: OCR, params: Params):
        self.ocr, self.p = ocr, params
        self.tracks: list[Track] = []
        self.frames: list[FrameInfo] = []
        self.detections = 0
        self.recognitions = 0
        self._hist: list[tuple[np.ndarray, np.ndarray]] = []  # (img, grey) since the last detection
        self._thumb = None
        self._since_detect = 10 ** 9
        self._gshift = (0.0, 0.0)
        self._band_hist: list[np.ndarray] = []
        self._edges: np.ndarray | None = None
        self._prev_edges: np.ndarray | None = None

    # -- OCR calls, counted ------------------------------------------------
    def _recognize(self, img, box) -> tuple[str, float]:
        self.recognitions += 1
        self.frames[-1].recognized += 1
        text, conf = self.ocr.recognize(img, box)
        return text.strip(), float(min(max(conf, 0.0), 1.0))

    def active(self) -> list[Track]:
        return [t for t in self.tracks if not t.lost]

    # -- one analyzed frame ---------------------------------------------------
    def step(self, img: np.ndarray, t: float) -> None:
        import cv2

        k = len(self.frames)
        grey = _grey(img)
        h, w = grey.shape
        thumb = cv2.resize(grey, (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32)
        info = FrameInfo(t=t)
        self.frames.append(info)
        prev = self._hist[-1] if self._hist else None
        if self._thumb is not None:
            diff = np.abs(thumb - self._thumb)
            info.change = float(diff.mean())
            # a cut changes the picture's make-up, not just its place: a pan moves a lot of pixels
            # but keeps the grey histogram; a cut changes both
            hist = np.histogram(thumb, bins=16, range=(0, 256))[0] / thumb.size
            info.cut = info.change >= self.p.cut_diff and float(np.abs(hist - self._hist16).sum()) >= 0.5
            if float(diff.reshape(8, 8, 8, 8).mean(axis=(1, 3)).max()) < self.p.same_frame_diff:
                # the same picture: every line carries over unchanged (a still, a held card)
                info.reused = True
                for tr in self.active():
                    r = tr.last
                    tr.readings.append(Reading(k, r.text, r.conf, r.box, False, r.source))
                self._hist.append((img, grey))
                self._since_detect += 1
                return
        self._prev_edges, self._edges = self._edges, self._cell_edges(grey)
        spike = self._band_spike(thumb)
        self._thumb = thumb
        self._hist16 = np.histogram(thumb, bins=16, range=(0, 256))[0] / thumb.size
        # scheduled, a cut, or a sudden change in one horizontal band (a caption appearing)
        need_detect = prev is None or info.cut or self._since_detect + 1 >= self.p.detect_every
        gone: list[tuple] = []
        gshift = global_shift(prev[1], grey) if prev is not None and not info.cut else (0.0, 0.0)
        self._gshift = gshift

        # follow every open line into this frame
        if info.cut:
            for tr in self.active():
                tr.lost = True
        for tr in self.active():
            if tr.last.frame != k - 1:
                continue
            box, score = follow(prev[1], grey, tr.last.box, gshift)
            box = _clip_box(box, w, h)
            cur = _crop(grey, box)
            if score >= self.p.min_match and crop_diff(tr.crop, cur) <= self.p.recog_diff:
                self._measure(tr, prev[1], grey, tr.last.box, box, gshift)
                r = tr.last
                tr.readings.append(Reading(k, r.text, r.conf, box, False, r.source))
                continue
            # the crop changed (or the match is weak: thin text over a moving picture): read it again,
            # where the match put it, where it was, and where the picture's motion would take it
            pb = tr.last.box
            cands = [box] if score >= self.p.min_match else []
            cands += [pb, _clip_box((pb[0] + gshift[0], pb[1] + gshift[1], pb[2] + gshift[0], pb[3] + gshift[1]), w, h)]
            best, readable = None, False
            for cb in _unique_boxes(cands):
                text, conf = self._recognize(img, cb)
                readable |= conf >= self.p.min_confidence and len(norm_text(text)) >= 2
                if conf >= self.p.min_confidence and same_line_text(text, tr.best_text()) >= self.p.same_text:
                    best = (cb, text, conf)
                    break
            if best is None:
                if readable:
                    need_detect = True   # other text in its place: the detector decides
                else:
                    gone.append(pb)      # nothing readable where it was: the line has ended
                continue
            cb, text, conf = best
            self._measure(tr, prev[1], grey, pb, cb, gshift)
            tr.crop, tr.crop_box = _crop(grey, cb), cb
            tr.readings.append(Reading(k, text, conf, cb, True))

        # a band that changed suddenly may hold new text, unless a line that just ended explains it
        bands = [b for b in spike if not any(_in_band(g, b, h) for g in gone)]
        info.spike = bool(bands)
        need_detect = need_detect or info.spike
        if need_detect:
            self._detect(img, grey, k, full=prev is None or info.cut)
        else:
            self._since_detect += 1
        # lines not seen for more than max_gap frames are closed
        for tr in self.active():
            if k - tr.last.frame > self.p.max_gap:
                tr.lost = True
        if need_detect:
            self._hist = []
        self._hist.append((img, grey))

    def _band_spike(self, thumb: np.ndarray) -> list[int]:
        """Bands (row index 0..7) with a cell (8 x 16 pixels of the 64x64 thumbnail) that changed far more
        than it usually does."""
        if self._thumb is None:
            return []
        bands = np.abs(thumb - self._thumb).reshape(8, 8, 4, 16).mean(axis=(1, 3)).ravel()  # 8 rows x 4 columns
        edges = self._edges
        hist = self._band_hist[-6:]
        self._band_hist.append(bands)
        if len(hist) < 2 or self._prev_edges is None:
            return []
        usual = np.median(np.array(hist), axis=0)
        # new text adds sharp edges to its cell; people walking or light changing mostly do not
        more_edges = edges > 1.3 * self._prev_edges + 2.0
        hit = np.flatnonzero((bands > self.p.spike_diff) & (bands > 3.0 * usual + 1.0) & more_edges)
        return sorted({int(i) // 4 for i in hit})

    @staticmethod
    def _cell_edges(grey: np.ndarray) -> np.ndarray:
        """Edge strength per cell (8 rows x 4 columns) of a 128x128 copy."""
        import cv2

        g = cv2.resize(grey, (128, 128), interpolation=cv2.INTER_AREA).astype(np.float32)
        e = np.abs(np.diff(g, axis=1))[:-1, :] + np.abs(np.diff(g, axis=0))[:, :-1]
        e = np.pad(e, ((0, 1), (0, 1)))
        return e.reshape(8, 16, 4, 32).mean(axis=(1, 3)).ravel()

    def _measure(self, tr: Track, prev_grey, grey, pbox, box, gshift) -> None:
        lh = max(1.0, box[3] - box[1])
        change = _aligned_ring_change(prev_grey, grey, pbox, box)
        if change is not None:
            tr.ring_change.append(change)
        tr.inside_change.append(crop_diff(_crop(prev_grey, pbox), _crop(grey, box)))
        cx0, cy0 = (pbox[0] + pbox[2]) / 2, (pbox[1] + pbox[3]) / 2
        cx1, cy1 = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        tr.shift.append(float(np.hypot(cx1 - cx0, cy1 - cy0)) / lh)
        tr.global_shift.append(float(np.hypot(*gshift)) / lh)
        tr.scale_change.append(abs(float(np.log(max(1.0, box[3] - box[1]) / max(1.0, pbox[3] - pbox[1])))))

    def _detect(self, img, grey, k: int, full: bool) -> None:
        self.detections += 1
        self.frames[-1].detected = True
        self._since_detect = 0
        h, w = grey.shape
        boxes = [_clip_box(b, w, h) for b in merge_lines(self.ocr.detect(img, full))]
        here = [tr for tr in self.active() if tr.last.frame == k]
        gs = self._gshift
        claimed: set[int] = set()
        for b in sorted(boxes, key=lambda b: (b[1], b[0])):
            # a detection on a line already followed into this frame: keep the track (widen to the detection)
            match = None
            for tr in here:
                if tr.id not in claimed and overlap_small(tr.last.box, b) >= 0.5 and _same_row(tr.last.box, b):
                    match = tr
                    break
            if match is not None and box_iou(match.last.box, b) >= 0.85:
                claimed.add(match.id)
                continue
            text, conf = self._recognize(img, b)
            if conf < self.p.min_confidence or not norm_text(text):
                continue
            if match is not None:
                if same_line_text(text, match.best_text(), at_edge(b, w, h)) >= self.p.same_text:
                    match.readings[-1] = Reading(k, text, conf, b, True)
                    match.crop, match.crop_box = _crop(grey, b), b
                    claimed.add(match.id)
                    continue
                match.readings.pop()   # another text in its place: that line has ended
                match.lost = True
            # the same line after a miss of up to max_gap frames (its box moved on with the picture)
            prior = None
            for tr in self.active():
                if tr.id in claimed or tr.last.frame == k or k - tr.last.frame > self.p.max_gap + 1:
                    continue
                lb = tr.last.box
                moved = (lb[0] + gs[0], lb[1] + gs[1], lb[2] + gs[0], lb[3] + gs[1])
                near = any(box_iou(x, b) >= 0.3 or _centre_dist(x, b) < 1.0 for x in (lb, moved))
                if near and same_line_text(text, tr.best_text(), at_edge(b, w, h)) >= self.p.same_text:
                    prior = tr
                    break
            if prior is None:
                prior = Track(id=len(self.tracks))
                self.tracks.append(prior)
                prior.readings.append(Reading(k, text, conf, b, True))
                prior.crop, prior.crop_box = _crop(grey, b), b
                self._backfill(prior, k, grey)
            else:
                prior.readings.append(Reading(k, text, conf, b, True))
                prior.crop, prior.crop_box = _crop(grey, b), b
            claimed.add(prior.id)
        # followed lines that the detector no longer sees are kept only if they read well in this frame
        for tr in here:
            if tr.id not in claimed and not tr.lost and not tr.last.ocr:
                text, conf = self._recognize(img, tr.last.box)
                if conf < self.p.min_confidence or same_line_text(text, tr.best_text()) < self.p.same_text:
                    tr.readings.pop()
                    tr.lost = True

    def _backfill(self, tr: Track, k: int, grey: np.ndarray) -> None:
        """Trace a new line back over the frames since the previous detection (following it if it moves)."""
        first = tr.first
        frames = self._hist  # frames k-len(hist) .. k-1
        readings: list[Reading] = []
        nxt_grey, box = grey, first.box
        for j in range(len(frames) - 1, -1, -1):
            fk = k - (len(frames) - j)
            img, g = frames[j]
            if self.frames[fk].reused and readings:
                r = readings[-1]
                readings.append(Reading(fk, r.text, r.conf, r.box, False, r.source))
                continue
            b, score = follow(nxt_grey, g, box, global_shift(nxt_grey, g))
            if score < self.p.min_match:
                break
            self.recognitions += 1
            self.frames[fk].recognized += 1
            text, conf = self.ocr.recognize(img, b)
            if conf < self.p.min_confidence or same_line_text(text, first.text, fragments=False) < self.p.same_text:
                break
            self._measure(tr, g, nxt_grey, b, box, global_shift(g, nxt_grey))
            readings.append(Reading(fk, text.strip(), float(conf), b, True))
            nxt_grey, box = g, b
        if readings:
            tr.readings[:0] = readings[::-1]


def _centre_dist(a, b) -> float:
    """Centre distance in line heights."""
    h = max(1.0, min(a[3] - a[1], b[3] - b[1]))
    return float(np.hypot((a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2)) / h


def _same_row(a, b) -> bool:
    h = min(a[3] - a[1], b[3] - b[1])
    return overlap_1d(a[1], a[3], b[1], b[3]) >= 0.5 * h


def _unique_boxes(boxes: list[tuple]) -> list[tuple]:
    out: list[tuple] = []
    for b in boxes:
        if all(box_iou(b, o) < 0.9 for o in out):
            out.append(b)
    return out


def _aligned_ring_change(prev_grey: np.ndarray, grey: np.ndarray, pbox, box) -> float | None:
    """Mean abs grey change of the band around a line, in the line's own frame of reference.

    The band around ``box`` in this frame is compared with the band around ``pbox`` in the previous
    one (the same offset from the text). A caption over a moving picture: large; text in the
    scene, moving with its surroundings: small.
    """
    h, w = grey.shape
    m = max(4, int(np.rint((box[3] - box[1]) * 0.6)))
    dx, dy = int(np.rint(box[0] - pbox[0])), int(np.rint(box[1] - pbox[1]))
    x1, y1, x2, y2 = int(box[0]) - m, int(box[1]) - m, int(np.ceil(box[2])) + m, int(np.ceil(box[3])) + m
    # keep the part valid in both frames
    x1, y1 = max(x1, 0, dx), max(y1, 0, dy)
    x2, y2 = min(x2, w, w + dx), min(y2, h, h + dy)
    if x2 - x1 < 8 or y2 - y1 < 8:
        return None
    cur = grey[y1:y2, x1:x2].astype(np.float32)
    old = prev_grey[y1 - dy:y2 - dy, x1 - dx:x2 - dx].astype(np.float32)
    mask = np.ones(cur.shape, bool)
    ix1, iy1 = int(box[0]) - x1, int(box[1]) - y1
    ix2, iy2 = int(np.ceil(box[2])) - x1, int(np.ceil(box[3])) - y1
    mask[max(0, iy1):max(0, iy2), max(0, ix1):max(0, ix2)] = False
    if mask.sum() < 16 or old.shape != cur.shape:
        return None
    return float(np.abs(cur - old)[mask].mean())


def _in_band(box, band: int, h: int) -> bool:
    """Whether a pixel box overlaps band ``band`` of 8 equal horizontal bands of a frame ``h`` tall."""
    return overlap_1d(box[1], box[3], band * h / 8, (band + 1) * h / 8) > 0
