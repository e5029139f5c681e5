"""The ``text`` table: on-screen text lines from text_overlay. The only module that reads its result.

text_overlay's result schema is still moving (the engine, the classifier and the cue names are being
reworked), so this mapping reads each line defensively from the report's JSON: the field names are
those of the current :class:`shared_schema.results.text.TextSegment` (a unit test checks that each
primary name below is still one of its fields), a known earlier or later name is accepted as an
alias, and a value of an unexpected type is NULL. A line without text or times is not a row: it is
counted in the analyzer's ``result_error``, never silently dropped.
"""
from __future__ import annotations

from runner.dataset.values import PartialResult, Rows, box, f, i, lst, obj, s, tokens

#: column -> the TextSegment field it comes from, then accepted aliases (first present wins)
FIELDS: dict[str, tuple[str, ...]] = {
    "text": ("text",),
    "start": ("start",),
    "end": ("end",),
    "kind": ("kind",),
    "score": ("overlay_score", "score", "caption_score"),
    "confidence": ("confidence",),
    "frames": ("frames",),
    "track": ("track", "track_id"),
    "vertical": ("vertical",),
    "horizontal": ("horizontal",),
    "box": ("box",),
}


def _get(seg: dict, column: str):
    for key in FIELDS[column]:
        if key in seg:
            return seg[key]
    return None


def text_overlay(res: dict, results: dict[str, dict], out: Rows) -> None:
    bad = 0
    overlay = 0
    segments = lst(res.get("segments"))
    for n, seg in enumerate(map(obj, segments)):
        text, start, end = s(_get(seg, "text")), f(_get(seg, "start")), f(_get(seg, "end"))
        if not text or start is None or end is None:
            bad += 1
            continue
        kind = s(_get(seg, "kind"))
        overlay += kind == "overlay"
        out.add("text", segment=n, track=i(_get(seg, "track")), start_s=start, end_s=end, text=text,
                tokens=tokens(text), kind=kind, score=f(_get(seg, "score")), confidence=f(_get(seg, "confidence")),
                frames=i(_get(seg, "frames")), vertical=s(_get(seg, "vertical")),
                horizontal=s(_get(seg, "horizontal")), **box(_get(seg, "box")))
    out.score("text_overlay", "text_lines", len(segments) - bad)
    out.score("text_overlay", "overlay_lines", overlay)
    if bad:
        raise PartialResult(f"{bad} of {len(segments)} text lines have no text, start or end")


MAPPERS = {"text_overlay": text_overlay}
