"""EasyOCR behind the tracker's OCR interface (``_text_records.OCR``), and a reader that starts cheaply."""
from __future__ import annotations

import contextlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from ._text_boxes import clip_box
from ._text_motion import box_crop, to_grey


def load_reader(languages: list[str], gpu: bool, model_dir: Path):
    """``easyocr.Reader`` on the offline models (a missing file raises instead of being downloaded)."""
    import easyocr

    with _vgg_features_only():
        return easyocr.Reader(languages, gpu=gpu, model_storage_directory=str(model_dir), download_enabled=False,
                              verbose=False)


@contextlib.contextmanager
def _vgg_features_only():
    """EasyOCR's CRAFT detector keeps only the convolutional part of torchvision's vgg16_bn but builds the
    whole network first: a 120M-parameter classifier, allocated and initialised at random on every start
    (2-5 s of CPU and ~0.5 GB of peak memory), then dropped; the detector's weights are loaded over the rest.
    Here vgg16_bn without weights builds the convolutional part only (the loaded detector is the same)."""
    from easyocr.model import modules
    from torchvision.models import vgg

    real = getattr(modules, "models", None)
    if real is None or not hasattr(vgg, "make_layers"):
        yield
        return

    def vgg16_bn(weights=None, **kw):
        if weights is not None:
            return real.vgg16_bn(weights=weights, **kw)
        return SimpleNamespace(features=vgg.make_layers(vgg.cfgs["D"], batch_norm=True))

    modules.models = SimpleNamespace(vgg16_bn=vgg16_bn, VGG16_BN_Weights=real.VGG16_BN_Weights)
    try:
        yield
    finally:
        modules.models = real


class EasyOCREngine:
    """The two EasyOCR stages behind the tracker's interface.

    Small text: a shot's first detection runs on the ``hires`` frame nearest in time (when there is
    one), and a line under ``small_px`` tall in the sampled frame is read from the hires crop (found
    again in the hires frame when that was taken at another time: the set is at 1 fps).
    Everything else runs on the sampled frames, the detector at ``detect_scale``.
    """

    def __init__(self, reader, detect_scale: float, hires=None, small_px: float = 16.0):
        self.reader, self.detect_scale, self.small_px = reader, detect_scale, small_px
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
        if not full:
            return self._detect(img, self.detect_scale, 20)
        # a shot's first frame: full size, with lower thresholds so that small text shows up as
        # candidates; candidates under small_px tall are searched again in crops of the hires frame
        boxes = self._detect(img, 1.0, 4, text_threshold=0.5, low_text=0.3)
        big, _ = self._hires_frame(t)
        small = [b for b in boxes if b[3] - b[1] < self.small_px]
        if big is None or big.shape[1] <= img.shape[1] * 1.2 or not small:
            return [b for b in boxes if b[3] - b[1] >= 8]
        f = big.shape[1] / img.shape[1]
        out = [b for b in boxes if b[3] - b[1] >= self.small_px]
        for r in _regions(small, img.shape[1], img.shape[0]):
            x1, y1, x2, y2 = (int(v * f) for v in r)
            self.hires_detections += 1
            for b in self._detect(big[y1:y2, x1:x2], 1.0, 8):
                out.append(((b[0] + x1) / f, (b[1] + y1) / f, (b[2] + x1) / f, (b[3] + y1) / f))
        return out

    def _detect(self, img: np.ndarray, s: float, min_size: int, **kw) -> list[tuple]:
        import cv2

        small = img if s >= 1 else cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        horizontal, free = self.reader.detect(small, min_size=min_size, width_ths=1.0, **kw)
        boxes = [(b[0] / s, b[2] / s, b[1] / s, b[3] / s) for b in horizontal[0]]
        for poly in free[0]:
            pts = np.asarray(poly, float) / s
            boxes.append((*pts.min(axis=0), *pts.max(axis=0)))
        return boxes

    def recognize(self, img: np.ndarray, box: tuple, t: float) -> tuple[str, float]:
        if box[3] - box[1] < self.small_px:
            big, th = self._hires_frame(t)
            if big is not None and big.shape[1] > img.shape[1] * 1.2:
                f = big.shape[1] / img.shape[1]
                moved = _find_in(big, f, img, box) if abs(th - t) > 0.05 else box
                if moved is not None:
                    self.hires_reads += 1
                    pad = (box[3] - box[1]) * 0.1
                    return self._read(big, ((moved[0] - pad) * f, (moved[1] - pad) * f,
                                            (moved[2] + pad) * f, (moved[3] + pad) * f))
        return self._read(img, box)

    def _read(self, img: np.ndarray, box: tuple) -> tuple[str, float]:
        h, w = img.shape[:2]
        x1, y1 = int(max(0, box[0])), int(max(0, box[1]))
        x2, y2 = int(min(w, np.ceil(box[2]))), int(min(h, np.ceil(box[3])))
        if x2 - x1 < 3 or y2 - y1 < 3:
            return "", 0.0
        res = self.reader.recognize(img, horizontal_list=[[x1, x2, y1, y2]], free_list=[], detail=1, paragraph=False)
        if not res:
            return "", 0.0
        return " ".join(r[1] for r in res).strip(), float(np.mean([r[2] for r in res]))


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


def _regions(boxes: list[tuple], w: int, h: int) -> list[tuple]:
    """Small candidate boxes grown by a margin and merged into a few crop regions (pixel xyxy)."""
    regs: list[list[float]] = []
    for b in boxes:
        m = max(12.0, 3 * (b[3] - b[1]))
        r = [max(0.0, b[0] - m), max(0.0, b[1] - m), min(float(w), b[2] + m), min(float(h), b[3] + m)]
        for q in regs:
            if r[0] <= q[2] and q[0] <= r[2] and r[1] <= q[3] and q[1] <= r[3]:
                q[:] = [min(q[0], r[0]), min(q[1], r[1]), max(q[2], r[2]), max(q[3], r[3])]
                break
        else:
            regs.append(r)
    return [tuple(r) for r in regs]
