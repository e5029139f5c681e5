"""From a span's motion stats to its labels: pure rules (no OpenCV), shared with the calibration.

A motion is labelled when its mean over the span reaches its threshold (the ``<unit>_min``
params); the strongest relative to its threshold is the dominant label; none over: ``static``;
nothing tracked: no label at all. ``tests/analyzers/camera_calibration.py`` chooses the
thresholds with these same rules, in the runner's own environment (no OpenCV there).
"""
from __future__ import annotations

from collections.abc import Mapping

from shared_schema.results.motion import MotionStats

UNITS = ("pan", "tilt", "zoom", "roll", "shake")


def thresholds(params: Mapping[str, float]) -> dict[str, float]:
    """The label thresholds: the ``<unit>_min`` params (positive floats, as the manifest declares them)."""
    return {k: params[f"{k}_min"] for k in UNITS}


def candidates(s: MotionStats) -> dict[str, tuple[float, str]]:
    """unit -> (the span's measured magnitude in that unit, the label it would get); units that
    were not measured are left out (shake of a short span)."""
    out = {"pan": (abs(s.pan_speed), "pan_right" if s.pan_speed > 0 else "pan_left"),
           "tilt": (abs(s.tilt_speed), "tilt_down" if s.tilt_speed > 0 else "tilt_up"),
           "zoom": (abs(s.zoom_rate), "zoom_in" if s.zoom_rate > 0 else "zoom_out"),
           # + the picture turns clockwise: the camera rolls counterclockwise
           "roll": (abs(s.rotation_dps), "roll_ccw" if s.rotation_dps > 0 else "roll_cw")}
    if s.shake is not None:
        out["shake"] = (s.shake, "handheld")
    return out


def labels(s: MotionStats, thr: Mapping[str, float]) -> list[str]:
    """Every motion over its threshold, strongest (relative to its threshold) first; ``static``
    when none is; empty (no label) when nothing was tracked."""
    if s.tracked == 0 or s.pan_speed is None:
        return []
    found = [(v / thr[k], lab) for k, (v, lab) in candidates(s).items() if v >= thr[k]]
    return [lab for _, lab in sorted(found, reverse=True)] or ["static"]


def magnitude(s: MotionStats, label: str) -> float:
    """The span's magnitude in ``label``'s unit (0 for static)."""
    unit = {"pan": "pan", "tilt": "tilt", "zoom": "zoom", "roll": "roll", "handheld": "shake"}
    k = unit.get(label.split("_", 1)[0])
    return 0.0 if k is None else candidates(s)[k][0]
