"""Window planning and frame sizing for qwen2_vl_temporal (pure; no torch)."""
from __future__ import annotations

import math
from dataclasses import dataclass

#: Qwen2-VL's vision patches are 14 px, merged 2x2: sides are multiples of 28
FACTOR = 28


@dataclass(frozen=True)
class Window:
    index: int
    start: float
    end: float
    frames: tuple[int, ...]  # indexes into the frame set


def spread(items: list[int], k: int) -> list[int]:
    """Up to ``k`` items spread evenly over ``items`` (first and last included)."""
    if k >= len(items):
        return list(items)
    if k == 1:
        return [items[len(items) // 2]]
    return [items[round(i * (len(items) - 1) / (k - 1))] for i in range(k)]


def plan_windows(times: list[float], duration: float, window_s: float, max_frames: int) -> list[Window]:
    """Windows of ``window_s`` tiling [0, duration]; windows holding no frame are dropped."""
    n = max(1, math.ceil(duration / window_s - 1e-9))
    out: list[Window] = []
    for w in range(n):
        start = round(w * window_s, 4)
        end = round(min(duration, (w + 1) * window_s), 4) if w < n - 1 else round(duration, 4)
        inside = [i for i, t in enumerate(times) if start <= t < end or (w == n - 1 and t >= start)]
        if inside:
            picked = spread(inside, max_frames)
            end = max(end, times[picked[-1]])  # a frame stamped at the very end still belongs here
            out.append(Window(len(out), start, end, tuple(picked)))
    return out


def fit_size(width: int, height: int, max_pixels: int, min_pixels: int = 56 * 56) -> tuple[int, int]:
    """(w, h) keeping the aspect ratio, multiples of FACTOR, area within [min_pixels, max_pixels]."""
    w = max(FACTOR, round(width / FACTOR) * FACTOR)
    h = max(FACTOR, round(height / FACTOR) * FACTOR)
    if w * h > max_pixels:
        beta = math.sqrt(width * height / max_pixels)
        w = max(FACTOR, math.floor(width / beta / FACTOR) * FACTOR)
        h = max(FACTOR, math.floor(height / beta / FACTOR) * FACTOR)
    elif w * h < min_pixels:
        beta = math.sqrt(min_pixels / (width * height))
        w = math.ceil(width * beta / FACTOR) * FACTOR
        h = math.ceil(height * beta / FACTOR) * FACTOR
    return w, h
