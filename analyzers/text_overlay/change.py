"""What changed in the picture between analyzed frames: nothing (reuse every reading), a cut, or a band
where text may have appeared."""
from __future__ import annotations

import numpy as np

from .records import FrameInfo, Params


def thumbnail(grey: np.ndarray) -> np.ndarray:
    """A 64x64 float copy of the frame."""
    import cv2

    return cv2.resize(grey, (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32)


def grey_histogram(thumb: np.ndarray) -> np.ndarray:
    """16-bin grey histogram of a thumbnail, as fractions."""
    return np.histogram(thumb, bins=16, range=(0, 256))[0] / thumb.size


def cell_edges(grey: np.ndarray) -> np.ndarray:
    """Edge strength per cell (8 rows x 4 columns) of a 128x128 copy."""
    import cv2

    g = cv2.resize(grey, (128, 128), interpolation=cv2.INTER_AREA).astype(np.float32)
    e = np.abs(np.diff(g, axis=1))[:-1, :] + np.abs(np.diff(g, axis=0))[:, :-1]
    e = np.pad(e, ((0, 1), (0, 1)))
    return e.reshape(8, 16, 4, 32).mean(axis=(1, 3)).ravel()


class PictureWatch:
    """Compares each analyzed frame with the last one that was not a repeat of its predecessor."""

    def __init__(self, params: Params):
        self.p = params
        self._thumb: np.ndarray | None = None
        self._hist16: np.ndarray | None = None
        self._band_hist: list[np.ndarray] = []
        self._edges: np.ndarray | None = None
        self._prev_edges: np.ndarray | None = None
        self._repeat = False  # the last frame compared repeated the picture before it
        self._calm = False    # ... and the one before that: the shot held still up to this frame

    def compare(self, thumb: np.ndarray, info: FrameInfo) -> bool:
        """Set ``info.change`` and ``info.cut``; True when the picture is the same as before (a still)."""
        self._calm = self._repeat
        if self._thumb is None:
            return False
        diff = np.abs(thumb - self._thumb)
        info.change = float(diff.mean())
        # a cut changes the picture's make-up, not just its place: a pan moves a lot of pixels
        # but keeps the grey histogram; a cut changes both
        info.cut = (info.change >= self.p.cut_diff
                    and float(np.abs(grey_histogram(thumb) - self._hist16).sum()) >= 0.5)
        # a repeat only when no 4x4 block of the thumbnail (40x40 px of a sampled frame) changed: a small
        # caption or handle appearing changes its block by several grey levels
        same = float(diff.reshape(16, 4, 16, 4).mean(axis=(1, 3)).max()) < self.p.same_frame_diff
        if same:
            # a repeat is what the picture usually does on a still: a sign appearing later stands out
            self._band_hist.append(_cell_change(diff))
        self._repeat = same
        return same

    def accept(self, thumb: np.ndarray, grey: np.ndarray) -> list[int]:
        """Make this frame the reference; the bands (rows 0..7) where a cell changed suddenly."""
        self._prev_edges, self._edges = self._edges, cell_edges(grey)
        spike = self._band_spike(thumb)
        self._thumb = thumb
        self._hist16 = grey_histogram(thumb)
        return spike

    def _band_spike(self, thumb: np.ndarray) -> list[int]:
        """Bands (row index 0..7) with a cell (8 x 16 pixels of the 64x64 thumbnail) that changed far more
        than it usually does (nothing, before there is a history) and gained edges."""
        if self._thumb is None:
            return []
        bands = _cell_change(np.abs(thumb - self._thumb))
        hist = self._band_hist[-6:]
        self._band_hist.append(bands)
        if self._prev_edges is None:
            return []
        usual = np.median(np.array(hist), axis=0) if hist else np.zeros_like(bands)
        # new text adds sharp edges to its cell; people walking or light changing mostly do not. In a shot
        # that held still until now, a cell that changed is enough if it did not lose edges (small text
        # over an already busy surface adds few edges at this scale)
        gain = 0.0 if self._calm else 0.3 * self._prev_edges + 2.0
        more_edges = self._edges > self._prev_edges + gain
        hit = np.flatnonzero((bands > self.p.spike_diff) & (bands > 3.0 * usual + 1.0) & more_edges)
        return sorted({int(i) // 4 for i in hit})


def _cell_change(diff: np.ndarray) -> np.ndarray:
    """Mean change per cell (8 rows x 4 columns) of a 64x64 absolute difference."""
    return diff.reshape(8, 8, 4, 16).mean(axis=(1, 3)).ravel()
