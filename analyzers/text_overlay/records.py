"""The tracker's records: the OCR interface, one reading, one tracked line, the options, one frame's log."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .match import norm_text, ratio


class OCR(Protocol):
    """The two OCR stages the tracker calls (PP-OCR in engine.py; a fake in tests)."""

    def detect(self, img: np.ndarray, full: bool, t: float) -> list[tuple]:
        """Pixel xyxy boxes of text (words or lines) in the frame shown at ``t`` seconds; ``full``: a
        shot's first frame, worth a closer look for small text."""

    def recognize(self, img: np.ndarray, box: tuple, t: float) -> tuple[str, float]:
        """(text, confidence) read inside a pixel box of the frame shown at ``t`` seconds."""


@dataclass
class Reading:
    frame: int            # index among analyzed frames
    text: str
    conf: float
    box: tuple            # pixel xyxy in the analyzed frame
    ocr: bool             # recognized in this frame (False: carried over, the crop did not change)
    source: str = "sampled"  # or "hires"

    def carried(self, frame: int, box: tuple | None = None) -> Reading:
        """This reading carried over to ``frame`` (at ``box``, or where it was) without OCR."""
        return Reading(frame, self.text, self.conf, self.box if box is None else box, False, self.source)


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
    motion_at: list[int] = field(default_factory=list)        # per measurement: the reading index it led to
    ring_kept: list[bool] = field(default_factory=list)       # per measurement: whether ring_change got one

    def pop_reading(self) -> Reading:
        """Take back the last reading, and the motion measured on the way to it."""
        r = self.readings.pop()
        if self.motion_at and self.motion_at[-1] == len(self.readings):
            self.motion_at.pop()
            for values in (self.inside_change, self.shift, self.global_shift, self.scale_change):
                values.pop()
            if self.ring_kept.pop():
                self.ring_change.pop()
        return r

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


@dataclass
class Params:
    detect_every: int = 1         # analyzed frames between two scheduled detections (1: every frame)
    cut_diff: float = 30.0        # mean grey change of a 64x64 thumbnail that counts as a cut
    same_frame_diff: float = 2.0  # most-changed 8x8 block under which the frame reuses all readings
    recog_diff: float = 6.0       # crop change (mean abs grey) above which a line is read again
    min_match: float = 0.45       # template match under which a line is lost between detections
    min_confidence: float = 0.7
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
