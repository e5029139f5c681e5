"""PP-OCRv4 (``ppocr``) behind the tracker's OCR interface (``records.OCR``), with small text
read from the hires frames."""
from __future__ import annotations

import numpy as np

from .line_boxes import clip_box
from .motion import box_crop, to_grey
from .ppocr import PPOCR, db_boxes


class PPOCREngine:
    """The two PP-OCR stages behind the tracker's interface.

    The detector sees each frame at ``detect_scale`` of its long side. Small text: a shot's first
    detection also runs on the ``hires`` frame nearest in time (when there is one) and keeps the lines
    under ``small_px`` tall in the sampled frame that only it found; such a line is read from the hires
    crop (found again in the hires frame when that was taken at another time: the set is at 1 fps).
    Crops are read with a margin of ``pad`` x their height.
    """

    def __init__(self, ocr: PPOCR, detect_scale: float = 1.0, hires=None, small_px: float = 16.0,
                 pad: float = 0.12):
        self.ocr, self.detect_scale, self.small_px, self.pad = ocr, detect_scale, small_px, pad
        self.hires = hires
        self.hires_times = np.array(hires.times) if hires is not None and len(hires) else None
        self.hires_reads = self.hires_detections = 0
        self._cache: tuple[int, np.ndarray] | None = None

    def _hires_frame(self, t: float) -> tuple[np.ndarray | None, float]:
        """(the hires frame nearest to ``t`` if within half a second, its time)."""
        if self.hires_times is None:
            return None, t
        j = int(np.argmin(np.abs(self.hires_times - t)))
        if abs(self.hires_times[j] - t) > 0.51:
            return None, t
        if self._cache is None or self._cache[0] != j:
            self._cache = (j, self.hires.read(j))
        return self._cache[1], float(self.hires_times[j])

    def detect(self, img: np.ndarray, full: bool, t: float) -> list[tuple]:
        side = max(32, int(round(max(img.shape[:2]) * self.detect_scale)))
        prob, sx, sy = self.ocr.prob_map(img, side)
        boxes = [b[:4] for b in db_boxes(prob, sx, sy)]
        big, _ = self._hires_frame(t) if full else (None, t)
        if big is None or big.shape[1] <= img.shape[1] * 1.2:
            return boxes
        # a shot's first frame: the whole hires frame too (about 6x the CPU of a sampled frame, once a
        # shot), for text too small to be found in the sampled frame
        f = big.shape[1] / img.shape[1]
        self.hires_detections += 1
        p, hx, hy = self.ocr.prob_map(big, max(big.shape[:2]))
        for b in db_boxes(p, hx, hy):
            nb = (b[0] / f, b[1] / f, b[2] / f, b[3] / f)
            if nb[3] - nb[1] < self.small_px and not any(_inside(nb, o) for o in boxes):
                boxes.append(nb)
        return boxes

    def recognize(self, img: np.ndarray, box: tuple, t: float) -> tuple[str, float]:
        if box[3] - box[1] < self.small_px:
            big, th = self._hires_frame(t)
            if big is not None and big.shape[1] > img.shape[1] * 1.2:
                f = big.shape[1] / img.shape[1]
                moved = _find_in(big, f, img, box) if abs(th - t) > 0.05 else box
                if moved is not None:
                    self.hires_reads += 1
                    return self._read(big, tuple(v * f for v in moved))
        return self._read(img, box)

    def _read(self, img: np.ndarray, box: tuple) -> tuple[str, float]:
        h, w = img.shape[:2]
        m = (box[3] - box[1]) * self.pad
        x1, y1 = int(max(0, box[0] - m)), int(max(0, box[1] - m))
        x2, y2 = int(min(w, np.ceil(box[2] + m))), int(min(h, np.ceil(box[3] + m)))
        if x2 - x1 < 3 or y2 - y1 < 3:
            return "", 0.0
        return self.ocr.read(img[y1:y2, x1:x2])


def _inside(b: tuple, o: tuple, frac: float = 0.6) -> bool:
    """Whether most of box ``b`` lies inside box ``o``."""
    ix = max(0.0, min(b[2], o[2]) - max(b[0], o[0])) * max(0.0, min(b[3], o[3]) - max(b[1], o[1]))
    return ix >= frac * max(1e-6, (b[2] - b[0]) * (b[3] - b[1]))


def _find_in(big: np.ndarray, f: float, img: np.ndarray, box: tuple, min_match: float = 0.6) -> tuple | None:
    """Where the crop at ``box`` of ``img`` is in ``big`` (``f`` times larger, taken at another time),
    in ``img``'s pixels; None when it is not there (the text came or went in between)."""
    import cv2

    h, w = img.shape[:2]
    m = max(8.0, 1.5 * (box[3] - box[1]))
    win = clip_box((box[0] - m, box[1] - m, box[2] + m, box[3] + m), w, h)
    x1, y1, x2, y2 = (int(v) for v in win)
    region = cv2.resize(to_grey(big[int(y1 * f):int(y2 * f), int(x1 * f):int(x2 * f)]), (x2 - x1, y2 - y1),
                        interpolation=cv2.INTER_AREA)
    tpl = box_crop(to_grey(img), box)
    if tpl.shape[0] < 4 or tpl.shape[1] < 4 or region.shape[0] < tpl.shape[0] or region.shape[1] < tpl.shape[1]:
        return None
    _, score, _, loc = cv2.minMaxLoc(cv2.matchTemplate(region, tpl, cv2.TM_CCOEFF_NORMED))
    if score < min_match:
        return None
    dx, dy = x1 + loc[0] - int(np.rint(box[0])), y1 + loc[1] - int(np.rint(box[1]))
    return (box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy)
