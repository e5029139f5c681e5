"""text_overlay (EasyOCR, offline English models) on made captions and real scene text."""
from __future__ import annotations

from pathlib import Path

import pytest

from shared_schema.envelope import Status
from shared_schema.results.text import TextOverlayResult
from tests.conftest import require_env
from tests.media import MEDIA, ffmpeg

pytestmark = pytest.mark.slow

#: (text, shown from, shown until) burnt into the captions clip
CAPTIONS = [("FOLLOW FOR PART 2", 1.0, 3.5), ("LINK IN BIO", 4.0, 6.0)]
SAMPLE_INTERVAL = 0.5  # the `sampled` set runs at 2 fps


def _draw(text: str, start: float, end: float, y: str) -> str:
    return (f"drawtext=text='{text}':fontcolor=white:fontsize=30:borderw=2:bordercolor=black:"
            f"x=(w-tw)/2:y={y}:enable='between(t,{start},{end})'")


@pytest.fixture(scope="module")
def captions_video(tmp_path_factory) -> Path:
    """6.5 s of real street footage (people walking) with two captions at known times.

    Not a lavfi test pattern: those draw their own timecode and frame numbers,
    which are text too.
    """
    out = tmp_path_factory.mktemp("text") / "captions.mp4"
    (t1, s1, e1), (t2, s2, e2) = CAPTIONS
    ffmpeg("-i", str(MEDIA / "vtest.avi"), "-t", "6.5",
           "-vf", ",".join(["scale=480:360", _draw(t1, s1, e1, "h*0.8"), _draw(t2, s2, e2, "h*0.1")]),
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(out))
    return out


def _still(image: Path, out: Path) -> Path:
    ffmpeg("-loop", "1", "-i", str(image), "-t", "2", "-r", "10",
           "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", str(out))
    return out


def _result(outcome) -> TextOverlayResult:
    env = outcome.report.analyzers["text_overlay"]
    assert env.status is Status.ok, (env.status, env.error, env.log_tail)
    assert {m.name for m in env.models} == {"craft_mlt_25k", "english_g2"}
    return TextOverlayResult.model_validate(env.result)


def _words(res: TextOverlayResult) -> set[str]:
    return {w.strip(".,:;!?'\"").upper() for s in res.segments for w in s.text.split()}


@pytest.fixture(autouse=True)
def _needs_torch_env(settings, assets):
    require_env(settings, "torch")


def test_captions_are_timed_segments(run, captions_video):
    res = _result(run(captions_video, ["text_overlay"]))
    for text, start, end in CAPTIONS:
        hits = [s for s in res.segments if s.text.upper().replace("  ", " ") == text]
        assert len(hits) == 1, (text, [(s.text, s.start, s.end) for s in res.segments])
        seg = hits[0]
        assert abs(seg.start - start) <= SAMPLE_INTERVAL, (text, seg.start)
        assert abs(seg.end - end) <= SAMPLE_INTERVAL, (text, seg.end)
        assert seg.horizontal == "center"
        assert seg.kind == "overlay", (text, seg.overlay_score, seg.evidence)
    by_text = {s.text.upper(): s for s in res.segments}
    assert by_text["FOLLOW FOR PART 2"].vertical == "bottom" and by_text["LINK IN BIO"].vertical == "top"
    assert [t.upper() for t in res.overlay_text] == [t for t, _, _ in CAPTIONS]
    # per-frame boxes agree: nothing before the first caption, the first one gone after it
    assert all(not f.boxes for f in res.frames if f.t < 0.9)
    assert not any("FOLLOW" in b.text.upper() for f in res.frames if f.t > 4.1 for b in f.boxes)
    assert res.frames_ocr == res.frames_analyzed  # moving footage: no frame is reused


def test_caption_on_a_letterbox_bar_is_an_overlay(run, tmp_path):
    """A fixed camera (little changes) with the caption on the black bar under the picture."""
    clip = tmp_path / "letterbox.mp4"
    ffmpeg("-i", str(MEDIA / "vtest.avi"), "-t", "3",
           "-vf", "scale=360:-2,pad=360:640:0:(oh-ih)/2," + _draw("WAIT FOR IT", 0, 3, "h*0.82"),
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(clip))
    res = _result(run(clip, ["text_overlay"]))
    (seg,) = [s for s in res.segments if s.text.upper() == "WAIT FOR IT"]
    assert seg.kind == "overlay", (seg.overlay_score, seg.evidence)
    assert any("even, drawn background" in e for e in seg.evidence)
    assert seg.vertical == "bottom" and seg.start == 0


@pytest.mark.parametrize("image, words", [
    ("scenetext01.jpg", {"DOUBLE", "PARKING", "PROHIBITED"}),
    ("scenetext02.jpg", {"SPORTS", "CONFERENCE", "CENTRE", "CAR", "PARKS"}),
], ids=["scenetext01", "scenetext02"])
def test_scene_text_is_read_once_per_still(run, tmp_path, image, words):
    res = _result(run(_still(MEDIA / image, tmp_path / "still.mp4"), ["text_overlay"]))
    assert res.has_text
    assert words <= _words(res), sorted(_words(res))
    # identical frames reuse the first reading instead of running OCR again
    assert res.frames_ocr == 1 and res.frames_analyzed >= 3
    assert all(f.boxes == res.frames[0].boxes for f in res.frames)
    # each sign is one segment that spans the clip, not one per frame
    assert all(s.frames == res.frames_analyzed and s.start == 0 for s in res.segments)
    # a still shows no caption fixed over a moving picture: signage is never called an overlay
    assert not any(s.kind == "overlay" for s in res.segments), [(s.text, s.overlay_score) for s in res.segments]
