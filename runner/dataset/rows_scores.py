"""Rows from the fusion analyzers: pacing (temporal_flow) and the cross-modal findings
(cross_analyzer_intelligence), all into ``scores``.

Same contract as :mod:`runner.dataset.rows_visual`.
"""
from __future__ import annotations

from runner.dataset.values import Rows, b, obj, s, strs

Results = dict[str, dict]


def temporal_flow(res: dict, results: Results, out: Rows) -> None:
    name = "temporal_flow"
    hook = obj(res.get("hook"))
    out.score(name, "hook_intensity", hook.get("intensity"), start=hook.get("start"), end=hook.get("end"))
    out.score(name, "hook_relative", hook.get("relative"), start=hook.get("start"), end=hook.get("end"))
    out.score(name, "peak_t", res.get("peak_t"))
    for seg in out.items(res.get("segments")):
        out.score(name, "flow_segment", seg.get("mean_energy"), seg.get("label"), seg.get("start"), seg.get("end"))


def cross_analyzer_intelligence(res: dict, results: Results, out: Rows) -> None:
    name = "cross_analyzer_intelligence"
    hook = obj(res.get("hook"))
    window = {"start": hook.get("start"), "end": hook.get("end")}
    out.score(name, "hook_score", hook.get("score"), "; ".join(strs(hook.get("signals"))) or None, **window)
    out.score(name, "hook_cues_checked", hook.get("cues_checked"), **window)
    out.score(name, "hook_text_onset", hook.get("text_onset"), hook.get("first_text"), **window)
    out.score(name, "hook_speech_onset", hook.get("speech_onset"), hook.get("first_words"), **window)
    for key in ("person_visible", "face_visible"):
        if b(hook.get(key)) is not None:
            out.score(name, f"hook_{key}", hook.get(key), **window)
    align = obj(res.get("alignment"))
    out.score(name, "overlay_coverage", align.get("overlay_coverage"), s(align.get("reason")))
    out.score(name, "mean_lag_s", align.get("mean_lag_s"))
    for item in out.items(align.get("items")):
        out.score(name, "text_spoken", item.get("coverage"), item.get("text"), item.get("start"), item.get("end"))
    for m in out.items(res.get("key_moments")):
        out.score(name, "key_moment", m.get("score"), "; ".join(strs(m.get("signals"))), m.get("t"), m.get("t"))


MAPPERS = {"temporal_flow": temporal_flow, "cross_analyzer_intelligence": cross_analyzer_intelligence}
