"""content_quality: technical quality measures, each scored 0..1, and their weighted sum."""
from __future__ import annotations

import math

import cv2
import numpy as np

from analyzers.base import Analyzer as Base
from shared_schema.results.appearance import ContentQualityResult, QualityComponent, QualityFrame

from . import _measures as M

# Share of each component in the overall score: sharpness counts most because it is what a
# viewer notices first on a phone; bitrate least, because the pixels already show its effect.
WEIGHTS = {"sharpness": 0.30, "exposure": 0.15, "noise": 0.15, "blockiness": 0.15,
           "resolution": 0.15, "bitrate": 0.10}
ASPECTS = {"9:16": 9 / 16, "16:9": 16 / 9, "1:1": 1.0, "4:5": 4 / 5, "3:4": 3 / 4, "4:3": 4 / 3}
ASPECT_TOLERANCE = 0.02
FULL_SHORT_SIDE = 1080
METHOD = ("1 fps frames at up to 1280 px; sharpness = variance of the Laplacian at 640 px; exposure "
          "= share of pixels with luma <= 4 or >= 251; noise = Immerkaer estimate on non-edge "
          "pixels; blockiness = small steps between smooth runs on the 8x8 grid over those off it "
          "(grid scaled to the frame size; the extracted JPEGs add a little of their own); "
          "resolution and bitrate from ffprobe")


def aspect_label(ratio: float) -> str:
    for label, target in ASPECTS.items():
        if abs(ratio / target - 1) <= ASPECT_TOLERANCE:
            return label
    return "other"


def video_bitrate(media) -> int | None:
    if media.video.bit_rate:
        return media.video.bit_rate
    if media.bit_rate:
        audio = media.audio.bit_rate if media.audio and media.audio.bit_rate else 0
        return max(0, media.bit_rate - audio) or None
    return None


def _clip01(x: float) -> float:
    return float(min(1.0, max(0.0, x)))


class Analyzer(Base):
    def analyze(self, ctx) -> ContentQualityResult:
        frames = ctx.frames("hires")
        if len(frames) == 0:
            raise ValueError("the hires frame set is empty")
        media = ctx.media
        v = media.video
        fw, fh = frames.index.width, frames.index.height
        period = 8 * fw / v.width

        rows = []
        for entry, bgr in frames:
            grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
            dark, bright = M.clipping(grey)
            rows.append(QualityFrame(t=entry.t, sharpness=M.sharpness(grey), clipped_dark=dark,
                                     clipped_bright=bright, noise_sigma=M.noise_sigma(grey),
                                     blockiness=M.blockiness(grey, period)))

        detailed = [r.sharpness for r in rows if r.sharpness is not None]
        sharp = float(np.median(detailed)) if detailed else None
        featureless = (f"featureless (luma std under {M.FLAT_STD:g} level at {M.SHARPNESS_SIDE} px: black, "
                       "a solid card): no detail to judge focus on")
        not_measured = {}
        if len(detailed) < len(rows):
            not_measured["frames[].sharpness"] = f"null at {len(rows) - len(detailed)} of {len(rows)} frames: " \
                + featureless
        clipped = float(np.mean([r.clipped_dark + r.clipped_bright for r in rows]))
        noise = float(np.median([r.noise_sigma for r in rows]))
        blocks = [r.blockiness for r in rows if r.blockiness is not None]
        block = float(np.median(blocks)) if blocks else None
        short = min(v.width, v.height)
        br = video_bitrate(media)
        bpp = br / (v.width * v.height * v.fps) if br and v.fps > 0 else None

        why = {"blockiness": f"the 8x8 grid scaled to the {fw} px frames is under 4 px, or no run is smooth",
               "bitrate": "ffprobe reports no video or container bitrate",
               "sharpness": "every analysed frame is " + featureless}
        measured = {
            "sharpness": (sharp, "Laplacian variance (median of the frames with detail)",
                          None if sharp is None else _clip01((math.log10(max(sharp, 1e-6)) - 1) / 2),
                          "(log10(value) - 1) / 2, clipped: <= 10 scores 0, >= 1000 scores 1; not measured "
                          f"when every frame is featureless (luma std < {M.FLAT_STD:g})"),
            "exposure": (clipped, "fraction of clipped pixels", _clip01(1 - 4 * clipped),
                         "1 - 4 * value, clipped: a quarter of the picture clipped scores 0"),
            "noise": (noise, "luma levels (median frame)", _clip01(1 - noise / 8),
                      "1 - value / 8, clipped: sigma >= 8 levels scores 0"),
            "blockiness": (block, "grid/off-grid edge ratio (median frame)",
                           None if block is None else _clip01(1 - (block - 1) / 1.5),
                           "1 - (value - 1) / 1.5, clipped: 1.0 (no grid) scores 1, >= 2.5 scores 0; "
                           "not measured when the scaled grid is under 4 px or nothing is smooth"),
            "resolution": (float(short), "px (short side)", _clip01(short / FULL_SHORT_SIDE),
                           f"value / {FULL_SHORT_SIDE}, clipped"),
            "bitrate": (bpp, "bits per pixel per frame", None if bpp is None else _clip01(bpp / ctx.params.full_bpp),
                        f"value / full_bpp ({ctx.params.full_bpp:g}: where libx264 reaches SSIM 0.98 against "
                        "the source, tests/quality_bpp.py), clipped; not measured when ffprobe reports no bitrate"),
        }
        components = _components(measured, why)
        missing = [c.name for c in components if c.score is None]
        if missing:
            ctx.degrade(f"not measured: {', '.join(missing)}; weights re-normalised over the rest")
        overall = sum(c.weight * c.score for c in components if c.score is not None)

        ratio = v.width / v.height
        return ContentQualityResult(
            method=METHOD, width=v.width, height=v.height, aspect_ratio=round(ratio, 4),
            aspect_label=aspect_label(ratio),
            vertical_9_16=abs(ratio / ASPECTS["9:16"] - 1) <= ASPECT_TOLERANCE,
            fps=v.fps, bitrate_bps=br, frames_analyzed=len(rows), frame_size=(fw, fh),
            components=components, overall_score=round(overall, 6), frames=rows, not_measured=not_measured)


def _components(measured: dict, why: dict[str, str]) -> list[QualityComponent]:
    """Each component with its score and its weight, re-normalised over the measured ones."""
    total_w = sum(WEIGHTS[n] for n, m in measured.items() if m[2] is not None)
    components = []
    for name, (value, unit, score, scoring) in measured.items():
        w = round(WEIGHTS[name] / total_w, 6) if score is not None else 0.0
        components.append(QualityComponent(
            name=name, value=None if value is None else round(value, 5), unit=unit,
            score=None if score is None else round(score, 4), weight=w, scoring=scoring,
            reason=None if score is not None else why.get(name, "not measured")))
    _fix_weight_rounding(components)
    return components


def _fix_weight_rounding(components: list[QualityComponent]) -> None:
    scored = [c for c in components if c.score is not None]
    scored[0].weight = round(scored[0].weight + 1 - sum(c.weight for c in scored), 6)
