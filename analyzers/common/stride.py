"""Walking a frame set with a stride: every n-th frame, read once, with its place and time.

object_detection, body_pose and text_overlay analyze every ``stride``-th sampled frame (a retry
after an OOM or timeout raises the stride); trackers count in analyzed frames (``k``), results
are placed by the frame's time (``t``) and index in the set (``i``).
"""
from __future__ import annotations

from typing import Any, Iterator, NamedTuple

__all__ = ["Strided", "strided"]


class Strided(NamedTuple):
    k: int        # its place among the frames analyzed: 0, 1, 2, ...
    i: int        # its index in the frame set: 0, stride, 2 * stride, ...
    t: float      # seconds
    image: Any    # the decoded frame (numpy, BGR or grey as the set is)


def strided(frames, stride: int) -> Iterator[Strided]:
    """Every ``stride``-th frame of ``frames`` (an ``analyzers.base.FrameSet``), from the first."""
    for k, i in enumerate(range(0, len(frames), max(1, int(stride)))):
        yield Strided(k, i, frames.entries[i].t, frames.read(i))
