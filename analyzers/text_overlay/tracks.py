"""Text lines tracked over frames, with OCR spent only where the text changes.

The detector (CRAFT, the costly part) runs sparsely: on the first frame, every
``detect_every``-th analyzed frame, after a cut, and whenever a tracked line is
lost or reads differently. Between detections each line is followed by
template matching of its last crop, and re-read by the recognizer only when its
crop changed. A line found by a detection is traced back over the frames since
the previous detection so that its start is exact to one analyzed frame.

The OCR engine is a small interface (``records.OCR``: ``detect``/``recognize``) so the
tracking is testable without EasyOCR. Its parts: match (how alike two readings are),
line_boxes (box geometry), motion (following a crop, motion cues), change (cuts,
repeats, bands where text may have appeared), records (the records).
"""
from __future__ import annotations

import numpy as np

from analyzers.common.boxes import iou, overlap_of_smaller

from .line_boxes import (
    at_edge,
    centre_dist,
    clip_box,
    in_band,
    is_piece,
    merge_lines,
    same_row,
    shifted,
    unique_boxes,
)
from .change import PictureWatch, thumbnail
from .match import is_word, norm_text, same_line_text
from .motion import (
    box_crop,
    crop_diff,
    follow,
    global_shift,
    record_motion,
    to_grey,
)
from .records import OCR, FrameInfo, Params, Reading, Track


class Tracker:
    """Feed it the analyzed frames in order (``step``); ``tracks`` are the lines, ``frames`` what each frame cost."""

    def __init__(self, ocr: OCR, params: Params):
        self.ocr, self.p = ocr, params
        self.tracks: list[Track] = []
        self.frames: list[FrameInfo] = []
        self.detections = 0
        self.recognitions = 0
        self._hist: list[tuple[np.ndarray, np.ndarray]] = []  # (img, grey) since the last detection
        self._since_detect = 10 ** 9
        self._unchecked = False  # a frame that was not a repeat went by since the last detection
        self._gshift = (0.0, 0.0)
        self._watch = PictureWatch(params)

    # -- OCR calls, counted ------------------------------------------------
    def _recognize(self, img, box) -> tuple[str, float]:
        self.recognitions += 1
        self.frames[-1].recognized += 1
        text, conf = self.ocr.recognize(img, box, self.frames[-1].t)
        return text.strip(), float(min(max(conf, 0.0), 1.0))

    def active(self) -> list[Track]:
        return [t for t in self.tracks if not t.lost]

    # -- one analyzed frame ---------------------------------------------------
    def step(self, img: np.ndarray, t: float) -> None:
        k = len(self.frames)
        grey = to_grey(img)
        info = FrameInfo(t=t)
        self.frames.append(info)
        prev = self._hist[-1] if self._hist else None
        thumb = thumbnail(grey)
        if self._watch.compare(thumb, info):
            # the same picture: every line carries over unchanged (a still, a held card)
            info.reused = True
            for tr in self.active():
                if tr.last.frame == k - 1:  # a line missed in the frame before stays missed
                    tr.readings.append(tr.last.carried(k))
            self._hist.append((img, grey))
            self._since_detect += 1
            return
        spike = self._watch.accept(thumb, grey)
        # scheduled, a cut, or a sudden change in one horizontal band (a caption appearing)
        need_detect = prev is None or info.cut or self._since_detect + 1 >= self.p.detect_every
        gshift = global_shift(prev[1], grey) if prev is not None and not info.cut else (0.0, 0.0)
        self._gshift = gshift
        if info.cut:
            for tr in self.active():
                tr.lost = True
        other_text, gone = self._follow_lines(img, grey, None if prev is None else prev[1], k, gshift)
        # a band that changed suddenly may hold new text, unless a line that just ended explains it
        bands = [b for b in spike if not any(in_band(g, b, grey.shape[0]) for g in gone)]
        info.spike = bool(bands)
        need_detect = need_detect or other_text or info.spike
        if need_detect:
            self._detect(img, grey, k, full=prev is None or info.cut)
        else:
            self._since_detect += 1
            self._unchecked = True
        # lines not seen for more than max_gap frames are closed
        for tr in self.active():
            if k - tr.last.frame > self.p.max_gap:
                tr.lost = True
        if need_detect:
            self._hist = []
        self._hist.append((img, grey))

    def finish(self) -> None:
        """After the last frame: a detection there when the picture changed since the last one (text that
        appeared after it, without a sudden change, would otherwise never be looked for)."""
        if not self._unchecked:
            return
        img, grey = self._hist.pop()
        self._detect(img, grey, len(self.frames) - 1, full=False)
        self._hist = [(img, grey)]

    # -- following the open lines between detections ---------------------------------
    def _follow_lines(self, img, grey, prev_grey, k: int, gshift) -> tuple[bool, list[tuple]]:
        """Follow every line of the previous frame into frame ``k``.

        Returns (other text where a line was: the detector must decide, boxes of lines that ended).
        """
        other_text, gone = False, []
        for tr in self.active():
            if tr.last.frame != k - 1:
                continue
            outcome = self._follow_line(tr, img, grey, prev_grey, k, gshift)
            if outcome == "other":
                other_text = True
            elif outcome == "gone":
                gone.append(tr.last.box)  # nothing readable where it was: the line has ended
        return other_text, gone

    def _follow_line(self, tr: Track, img, grey, prev_grey, k: int, gshift) -> str:
        """One line into frame ``k``: "kept" (followed, or read again), "other" (other text in its
        place) or "gone" (nothing readable there)."""
        h, w = grey.shape
        box, score = follow(prev_grey, grey, tr.last.box, gshift)
        box = clip_box(box, w, h)
        if score >= self.p.min_match and crop_diff(tr.crop, box_crop(grey, box)) <= self.p.recog_diff:
            record_motion(tr, prev_grey, grey, tr.last.box, box, gshift)
            tr.readings.append(tr.last.carried(k, box))
            return "kept"
        # the crop changed (or the match is weak: thin text over a moving picture): read it again,
        # where the match put it, where it was, and where the picture's motion would take it
        pb = tr.last.box
        cands = [box] if score >= self.p.min_match else []
        cands += [pb, clip_box(shifted(pb, gshift), w, h)]
        best, readable = self._reread(tr, img, cands)
        if best is None:
            return "other" if readable else "gone"
        cb, text, conf = best
        record_motion(tr, prev_grey, grey, pb, cb, gshift)
        tr.crop, tr.crop_box = box_crop(grey, cb), cb
        tr.readings.append(Reading(k, text, conf, cb, True))
        return "kept"

    def _reread(self, tr: Track, img, cands: list[tuple]) -> tuple[tuple | None, bool]:
        """The first candidate box that reads as the line: ((box, text, conf) or None, anything readable)."""
        readable = False
        for cb in unique_boxes(cands):
            text, conf = self._recognize(img, cb)
            readable |= conf >= self.p.min_confidence and len(norm_text(text)) >= 2
            if conf >= self.p.min_confidence and same_line_text(text, tr.best_text()) >= self.p.same_text:
                return (cb, text, conf), readable
        return None, readable

    # -- a detector run -------------------------------------------------------------------
    def _detect(self, img, grey, k: int, full: bool) -> None:
        self.detections += 1
        self.frames[-1].detected = True
        self._since_detect = 0
        self._unchecked = False
        h, w = grey.shape
        boxes = [clip_box(b, w, h) for b in merge_lines(self.ocr.detect(img, full, self.frames[-1].t))]
        here = [tr for tr in self.active() if tr.last.frame == k]
        claimed: set[int] = set()
        for b in sorted(boxes, key=lambda b: (b[1], b[0])):
            self._place(img, grey, k, b, here, claimed)
        # followed lines that the detector no longer sees are kept only if they read well in this frame
        for tr in here:
            if tr.id not in claimed and not tr.lost and not tr.last.ocr:
                text, conf = self._recognize(img, tr.last.box)
                if conf < self.p.min_confidence or same_line_text(text, tr.best_text()) < self.p.same_text:
                    tr.pop_reading()
                    tr.lost = True

    def _place(self, img, grey, k: int, b: tuple, here: list[Track], claimed: set[int]) -> None:
        """One detected line box: a line already followed into this frame, one resumed after a miss,
        or a new line (traced back to where it appeared)."""
        h, w = grey.shape
        # a piece of a line already followed into this frame (the detector split it at a wide gap between
        # words): the line stays whole
        whole = next((tr for tr in here if not tr.lost and is_piece(b, tr.last.box)), None)
        if whole is not None:
            claimed.add(whole.id)
            return
        # a detection on a line already followed into this frame: keep the track (widen to the detection)
        match = next((tr for tr in here if tr.id not in claimed and overlap_of_smaller(tr.last.box, b) >= 0.5
                      and same_row(tr.last.box, b)), None)
        if match is not None and iou(match.last.box, b) >= 0.85:
            claimed.add(match.id)
            return
        text, conf = self._recognize(img, b)
        if conf < self.p.min_confidence or not is_word(text):
            return
        if match is not None:
            if same_line_text(text, match.best_text(), at_edge(b, w, h)) >= self.p.same_text:
                match.readings[-1] = Reading(k, text, conf, b, True)
                match.crop, match.crop_box = box_crop(grey, b), b
                claimed.add(match.id)
                return
            match.pop_reading()   # another text in its place: that line has ended
            match.lost = True
        track = self._resumed(text, b, k, w, h, claimed)
        new = track is None
        if new:
            track = Track(id=len(self.tracks))
            self.tracks.append(track)
        elif track.last.frame == k - 1 and self._hist:
            # found again one frame on, too far for following (a sign on a passing car): it moved
            record_motion(track, self._hist[-1][1], grey, track.last.box, b, self._gshift)
        track.readings.append(Reading(k, text, conf, b, True))
        track.crop, track.crop_box = box_crop(grey, b), b
        if new:
            self._backfill(track, k, grey)
        claimed.add(track.id)

    def _resumed(self, text: str, b: tuple, k: int, w: int, h: int, claimed: set[int]) -> Track | None:
        """The same line after a miss of up to max_gap frames (its box moved on with the picture)."""
        for tr in self.active():
            if tr.id in claimed or tr.last.frame == k or k - tr.last.frame > self.p.max_gap + 1:
                continue
            lb = tr.last.box
            near = any(iou(x, b) >= 0.3 or centre_dist(x, b) < 1.0 for x in (lb, shifted(lb, self._gshift)))
            alike = same_line_text(text, tr.best_text(), at_edge(b, w, h))
            if near and alike >= self.p.same_text:
                return tr
            # the same words at the same size, moved too far for following between two frames: a fast mover
            lh, bh = lb[3] - lb[1], b[3] - b[1]
            if tr.last.frame == k - 1 and alike >= 0.9 and 0.75 <= bh / max(1.0, lh) <= 1.33:
                return tr
        return None

    def _backfill(self, tr: Track, k: int, grey: np.ndarray) -> None:
        """Trace a new line back over the frames since the previous detection (following it if it moves)."""
        first = tr.first
        frames = self._hist  # frames k-len(hist) .. k-1
        readings: list[Reading] = []
        nxt_grey, box = grey, first.box
        for j in range(len(frames) - 1, -1, -1):
            fk = k - (len(frames) - j)
            img, g = frames[j]
            if self.frames[fk + 1].reused:
                # the later frame repeated this one (not the other way round): the same picture, the same line
                readings.append((readings[-1] if readings else first).carried(fk))
                continue
            if self.frames[fk].detected:
                break  # the detector looked at this frame and did not see the line: it appeared after it
            b, score = follow(nxt_grey, g, box, global_shift(nxt_grey, g))
            if score < self.p.min_match:
                break
            self.recognitions += 1
            self.frames[fk].recognized += 1
            text, conf = self.ocr.recognize(img, b, self.frames[fk].t)
            if conf < self.p.min_confidence or same_line_text(text, first.text, fragments=False) < self.p.same_text:
                break
            record_motion(tr, g, nxt_grey, b, box, global_shift(g, nxt_grey), at=-1)
            readings.append(Reading(fk, text.strip(), float(conf), b, True))
            nxt_grey, box = g, b
        if readings:
            tr.readings[:0] = readings[::-1]
