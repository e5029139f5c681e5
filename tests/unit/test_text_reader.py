"""What temporal_flow and cross_analyzer_intelligence take from text_overlay: captions, not scene lettering."""
from __future__ import annotations

from shared_schema.results.common import Box
from shared_schema.results.temporal import signals_from
from shared_schema.results.text import TextOverlayResult, TextSegment


def _seg(text: str, kind: str, start: float) -> TextSegment:
    return TextSegment(start=start, end=start + 1, text=text, confidence=0.9, frames=2,
                       box=Box(x1=0.1, y1=0.1, x2=0.5, y2=0.2), vertical="top", horizontal="center", kind=kind,
                       overlay_score={"overlay": 0.9, "scene": 0.1}.get(kind, 0.5), evidence=[],
                       cues={"text_shift": None, "outline": 0.8}, cue_contributions={"moves_with_picture": None})


def test_only_overlay_segments_are_captions():
    res = TextOverlayResult(method="ppocr", languages=["en"], frame_set="sampled", scale=1, detect_scale=1, stride=1,
                            min_confidence=0.7, frames_total=0, frames_analyzed=0, frames_ocr=0, frames=[],
                            has_text=True, overlay_text=["LINK IN BIO"],
                            segments=[_seg("LINK IN BIO", "overlay", 1.0), _seg("PARKING", "scene", 0.5),
                                      _seg("TAXI", "uncertain", 2.0)])
    sig = signals_from({"text_overlay": res}, 5.0)
    assert [o.text for o in sig.overlays] == ["LINK IN BIO"]


def test_unmeasured_cues_are_null_in_the_result():
    seg = _seg("IS", "overlay", 1.0)
    dumped = seg.model_dump(mode="json")
    assert dumped["cues"]["text_shift"] is None and dumped["cue_contributions"]["moves_with_picture"] is None
