"""Colour maths for color_analysis: CIELAB conversion, k-means palettes, tone statistics."""
from __future__ import annotations

import math

import cv2
import numpy as np

# k-means runs on a subsample: a palette does not need every pixel of every frame.
PIXELS_PER_FRAME = 64 * 64
MAX_KMEANS_PIXELS = 60_000
# Clusters closer than this (CIE76) are one colour to a viewer; merging them keeps a solid shot
# from being reported as five near-identical "dominant" colours.
MERGE_DELTA_E = 10.0


def to_lab(bgr: np.ndarray) -> np.ndarray:
    """float32 CIELAB (L 0..100, a/b about -128..127) of a uint8 BGR image."""
    return cv2.cvtColor(bgr.astype(np.float32) / 255.0, cv2.COLOR_BGR2LAB)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """uint8 sRGB triples of an (n, 3) CIELAB array."""
    bgr = cv2.cvtColor(lab.reshape(-1, 1, 3).astype(np.float32), cv2.COLOR_LAB2BGR).reshape(-1, 3)
    return np.clip(np.rint(bgr[:, ::-1] * 255), 0, 255).astype(int)


def small_pixels(bgr: np.ndarray) -> np.ndarray:
    """An evenly spread subsample of a frame's pixels, (n, 3) uint8 BGR."""
    h, w = bgr.shape[:2]
    scale = math.sqrt(PIXELS_PER_FRAME / (h * w))
    if scale < 1:
        bgr = cv2.resize(bgr, (max(1, round(w * scale)), max(1, round(h * scale))),
                         interpolation=cv2.INTER_AREA)
    return bgr.reshape(-1, 3)


def tone(bgr: np.ndarray, lab: np.ndarray) -> dict[str, float]:
    """Brightness, saturation, contrast, warmth (see ToneStats) of BGR pixels and their CIELAB."""
    hsv = cv2.cvtColor(bgr.reshape(-1, 1, 3), cv2.COLOR_BGR2HSV)
    bgr_f = bgr.reshape(-1, 3).astype(np.float32)
    L = lab.reshape(-1, 3)[:, 0]
    return {
        "brightness": float(np.clip(L.mean() / 100, 0, 1)),
        "saturation": float(np.clip(hsv[..., 1].mean() / 255, 0, 1)),
        "contrast": float(np.clip(L.std() / 100, 0, 1)),
        "warmth": float(np.clip((bgr_f[:, 2] - bgr_f[:, 0]).mean() / 255, -1, 1)),
    }


def color_name(L: float, a: float, b: float) -> str:
    chroma = math.hypot(a, b)
    if chroma < 12:
        return "black" if L < 20 else "white" if L > 85 else "grey"
    hue = math.degrees(math.atan2(b, a)) % 360
    # CIELAB hue angles of the sRGB primaries and secondaries: red ~40, orange ~70, yellow ~100,
    # green ~135, cyan ~195, blue ~305, magenta ~330.
    if 20 <= hue < 100 and L < 45 and chroma < 60:
        return "brown"
    for upper, name in ((20, "red"), (55, "red"), (85, "orange"), (115, "yellow"), (170, "green"),
                        (240, "cyan"), (315, "blue"), (345, "purple")):
        if hue < upper:
            break
    else:
        name = "red"
    if name in ("red", "purple") and L > 65:
        return "pink"
    return name


def palette(pixels_bgr: np.ndarray, k: int, seed: int = 0) -> list[dict]:
    """Dominant colours by k-means in CIELAB; near-duplicate clusters merged; largest first."""
    rng = np.random.default_rng(seed)
    if len(pixels_bgr) > MAX_KMEANS_PIXELS:
        pixels_bgr = pixels_bgr[rng.choice(len(pixels_bgr), MAX_KMEANS_PIXELS, replace=False)]
    lab = to_lab(pixels_bgr.reshape(-1, 1, 3)).reshape(-1, 3)
    distinct = len(np.unique(np.round(lab, 1), axis=0))
    k = max(1, min(k, distinct))
    if k == 1:
        centers, labels = lab.mean(axis=0, keepdims=True), np.zeros(len(lab), dtype=int)
    else:
        cv2.setRNGSeed(seed)
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.5)
        _, labels, centers = cv2.kmeans(lab, k, None, criteria, 3, cv2.KMEANS_PP_CENTERS)
        labels = labels.ravel()
    counts = np.bincount(labels, minlength=len(centers)).astype(float)
    clusters = [[centers[i].astype(float), counts[i]] for i in range(len(centers)) if counts[i] > 0]
    clusters.sort(key=lambda c: -c[1])
    merged: list[list] = []
    for center, n in clusters:
        for m in merged:
            if np.linalg.norm(m[0] - center) < MERGE_DELTA_E:
                m[0] = (m[0] * m[1] + center * n) / (m[1] + n)
                m[1] += n
                break
        else:
            merged.append([center, n])
    merged.sort(key=lambda c: -c[1])
    # Slivers under 1% are edge pixels between colours, not part of the palette.
    merged = [m for m in merged if m[1] >= 0.01 * len(lab)] or merged[:1]
    total = sum(n for _, n in merged)
    rgbs = lab_to_rgb(np.array([c for c, _ in merged]))
    out = []
    for (center, n), (r, g, b) in zip(merged, rgbs):
        out.append({
            "hex": f"#{r:02x}{g:02x}{b:02x}", "r": int(r), "g": int(g), "b": int(b),
            "lab": tuple(round(float(v), 2) for v in center), "share": round(n / total, 4),
            "name": color_name(*center),
        })
    # Rounding can leave the shares a hair off 1; give the remainder to the largest colour.
    out[0]["share"] = round(out[0]["share"] + 1 - sum(c["share"] for c in out), 4)
    return out
