"""Timelines from the picture: cuts and scenes, camera motion, persons, on-screen text, VLM windows.

Each reader takes the report and returns a :class:`Lane`, or a :class:`Missing`
saying why it cannot; it never raises on a missing analyzer or field.
"""
from __future__ import annotations

from shared_schema.report import Report

from runner.report.model import (Lane, Mark, Missing, Series, Span, clip, dicts, esc, num, result_of,
                                      span_of, text, why_missing, wrap, xy)

__all__ = ["cuts_lane", "camera_lane", "persons_lane", "text_lane", "vlm_lane", "shot_spans", "pack_rows"]

_MOTION_ORDER = ("static", "pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out",
                 "roll_cw", "roll_ccw", "handheld")
_MOTION_UNIT = {"pan": "frame widths/s", "tilt": "frame heights/s", "zoom": "log scale/s",
                "roll": "deg/s", "handheld": "% diagonal jitter"}


def shot_spans(report: Report) -> list[tuple[int, float, float]]:
    """``(index, start, end)`` of cut_analysis's shots, [] when it is not in the report."""
    res = result_of(report, "cut_analysis")
    out = []
    for i, s in enumerate(dicts(res, "shots")):
        ab = span_of(s)
        if ab:
            idx = s.get("index")
            out.append((idx if isinstance(idx, int) else i, *ab))
    return out


def pack_rows(spans: list[tuple[float, float]]) -> list[int]:
    """A row index per span so that no two spans in a row overlap (first fit, in order of start)."""
    ends: list[float] = []
    rows = [0] * len(spans)
    for i in sorted(range(len(spans)), key=lambda k: spans[k][0]):
        a, b = spans[i]
        r = next((k for k, e in enumerate(ends) if e <= a + 1e-6), len(ends))
        if r == len(ends):
            ends.append(b)
        else:
            ends[r] = b
        rows[i] = r
    return rows


def cuts_lane(report: Report) -> Lane | Missing:
    cuts, scenes = result_of(report, "cut_analysis"), result_of(report, "scene_segmentation")
    lane = Lane("cuts", "Cuts and scenes", "rows", sources=[])
    if cuts is not None:
        lane.sources.append("cut_analysis")
        for idx, a, b in shot_spans(report):
            lane.spans.append(Span(a, b, "shots", label=str(idx), color="shot" if idx % 2 else "shot_alt",
                                   hover=f"shot {idx}: {a:.2f}\u2013{b:.2f} s ({b - a:.2f} s)"))
        for tr in dicts(cuts, "transitions"):
            t, kind = num(tr.get("t")), text(tr.get("kind")) or "cut"
            if t is None:
                continue
            conf = num(tr.get("confidence"))
            via = text(tr.get("via"))
            hover = f"{esc(kind)} at {t:.2f} s" + (f"<br>confidence {conf:.2f}" if conf is not None else "") + \
                (f"<br>via {esc(via)}" if via else "")
            ab = span_of(tr)
            if ab and ab[1] - ab[0] > 1e-6:
                lane.spans.append(Span(ab[0], ab[1], "cuts", hover=hover, color=kind))
            lane.marks.append(Mark(t, "cuts", hover=hover, color=kind))
        if not lane.marks:
            lane.notes.append("cut_analysis found no shot boundary (one shot)")
    if scenes is not None:
        lane.sources.append("scene_segmentation")
        for i, sc in enumerate(dicts(scenes, "scenes")):
            ab = span_of(sc)
            if not ab:
                continue
            shots = [s for s in sc.get("shots", []) if isinstance(s, int)] if isinstance(sc.get("shots"), list) else []
            rep = num(sc.get("representative_t"))
            hover = (f"scene {i}: {ab[0]:.2f}\u2013{ab[1]:.2f} s<br>shots {', '.join(map(str, shots)) or '-'}"
                     + (f"<br>keyframe at {rep:.2f} s" if rep is not None else ""))
            lane.spans.append(Span(ab[0], ab[1], "scenes", label=f"scene {i}", hover=hover,
                                   color="scene" if i % 2 else "scene_alt"))
    if not lane.sources:
        return Missing("cuts", lane.title, why_missing(report, "cut_analysis", "scene_segmentation"))
    if cuts is None:
        lane.notes.append("cuts not in this report: " + why_missing(report, "cut_analysis"))
    if scenes is None:
        lane.notes.append("scenes not in this report: " + why_missing(report, "scene_segmentation"))
    lane.rows = [r for r in ("scenes", "shots", "cuts") if any(s.row == r for s in lane.spans + lane.marks)]
    return lane


def camera_lane(report: Report) -> Lane | Missing:
    res = result_of(report, "camera_analysis")
    if res is None:
        return Missing("camera", "Camera motion", why_missing(report, "camera_analysis"))
    lane = Lane("camera", "Camera motion", "rows", sources=["camera_analysis"])
    segs = dicts(res, "timeline")
    for s in segs:
        ab, label = span_of(s), text(s.get("label"))
        if not ab or not label:
            continue
        mag = num(s.get("magnitude"))
        unit = _MOTION_UNIT.get(label.split("_", 1)[0], "")
        hover = f"{esc(label)} {ab[0]:.2f}\u2013{ab[1]:.2f} s" + (
            f"<br>magnitude {mag:.3g} {unit}" if mag is not None and label != "static" else "")
        lane.spans.append(Span(ab[0], ab[1], label, hover=hover, color=label))
    if not lane.spans:  # no windowed timeline: the per-shot dominant motion
        for s in dicts(res, "shots"):
            ab, label = span_of(s), text(s.get("label"))
            if ab and label:
                lane.spans.append(Span(ab[0], ab[1], label, color=label,
                                       hover=f"shot {s.get('shot', '?')}: {esc(label)} {ab[0]:.2f}\u2013{ab[1]:.2f} s"))
    if not lane.spans:
        return Missing("camera", lane.title, "camera_analysis gave neither a timeline nor shots")
    present = {s.row for s in lane.spans}
    lane.rows = [m for m in _MOTION_ORDER if m in present] + sorted(present - set(_MOTION_ORDER))
    return lane


def _counts(res: dict | None, key: str, value_key: str | None) -> tuple[list[float], list[float]]:
    """(t, count) points: ``res[key]`` items with ``t`` and ``value_key`` (or the length of ``persons``)."""
    def count(p: dict) -> float | None:
        if value_key:
            return num(p.get(value_key))
        return float(len(p["persons"])) if isinstance(p.get("persons"), list) else None

    return xy(dicts(res, key), count)


def persons_lane(report: Report) -> Lane | Missing:
    lane = Lane("persons", "Persons (and faces) per frame", "values", sources=[], y_title="count")
    for name, key, value_key in (("object_detection", "person_count", "value"), ("body_pose", "frames", None)):
        xs, ys = _counts(result_of(report, name), key, value_key)
        if xs:
            lane.sources.append(name)
            lane.series.append(Series("persons", xs, ys, shape="hv", color="persons",
                                      hover=[f"{y:g} person(s) at {x:.2f} s ({name})" for x, y in zip(xs, ys)]))
            break
    xs, ys = _counts(result_of(report, "eye_tracking"), "frames", "faces")
    if xs:
        lane.sources.append("eye_tracking")
        lane.series.append(Series("faces", xs, ys, shape="hv", color="faces",
                                  hover=[f"{y:g} face(s) at {x:.2f} s" for x, y in zip(xs, ys)]))
    if not lane.series:
        return Missing("persons", lane.title, why_missing(report, "object_detection", "body_pose"))
    if not any(s.name == "persons" for s in lane.series):
        lane.notes.append("person counts not in this report: " + why_missing(report, "object_detection", "body_pose"))
    top = max(max(s.ys, default=0) for s in lane.series)
    lane.y_range = (0, max(1.0, top) + 0.5)
    return lane


def text_lane(report: Report) -> Lane | Missing:
    res = result_of(report, "text_overlay")
    if res is None:
        return Missing("text", "On-screen text", why_missing(report, "text_overlay"))
    lane = Lane("text", "On-screen text", "rows", sources=["text_overlay"])
    segs = [(s, span_of(s)) for s in dicts(res, "segments")]
    segs = [(s, ab) for s, ab in segs if ab and text(s.get("text"))]
    if not segs:
        return Missing("text", lane.title, "text_overlay found no text")
    rows = pack_rows([ab for _, ab in segs])
    for (s, (a, b)), r in zip(segs, rows):
        t, kind = text(s.get("text")), text(s.get("kind")) or "overlay"
        conf = num(s.get("confidence"))
        where = " ".join(x for x in (text(s.get("vertical")), text(s.get("horizontal"))) if x)
        hover = (f"{wrap(t)}<br>{esc(kind)}{', ' + esc(where) if where else ''}, {a:.2f}\u2013{b:.2f} s"
                 + (f", confidence {conf:.2f}" if conf is not None else ""))
        lane.spans.append(Span(a, b, f"text {r + 1}", label=esc(clip(t, 32)), hover=hover, color=f"text_{kind}"))
    lane.rows = [f"text {i + 1}" for i in range(max(rows) + 1)]
    return lane


def vlm_lane(report: Report) -> Lane | Missing:
    res = result_of(report, "qwen2_vl_temporal")
    if res is None:
        return Missing("vlm", "What the vision-language model saw", why_missing(report, "qwen2_vl_temporal"))
    lane = Lane("vlm", "What the vision-language model saw", "rows", sources=["qwen2_vl_temporal"],
                rows=["windows"])
    for i, w in enumerate(dicts(res, "windows")):
        ab, desc = span_of(w), text(w.get("description"))
        if ab:
            lane.spans.append(Span(ab[0], ab[1], "windows", label=esc(clip(desc, 40)),
                                   hover=f"{ab[0]:.1f}\u2013{ab[1]:.1f} s<br>{wrap(desc or '(empty)')}",
                                   color="vlm" if i % 2 else "vlm_alt"))
    if not lane.spans:
        return Missing("vlm", lane.title, "qwen2_vl_temporal gave no windows")
    return lane
