"""text_overlay (PP-OCRv4 on ONNX Runtime) on made captions and real scene text."""
from __future__ import annotations

import re
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
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


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
    assert {m.name for m in env.models} == {"ch_PP-OCRv4_det_infer", "ch_PP-OCRv4_rec_infer"}
    return TextOverlayResult.model_validate(env.result)


def _words(res: TextOverlayResult) -> set[str]:
    return {w.strip(".,:;!?'\"").upper() for s in res.segments for w in s.text.split()}


def _words_of(seg) -> set[str]:
    return {w.strip(".,:;!?'\"").upper() for w in seg.text.split()}


@pytest.fixture(autouse=True)
def _needs_cpu_env(settings, assets):
    require_env(settings, "cpu")


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
    # OCR follows the text, not the frames: the recognizer reads a line when it is new or its crop changed
    assert res.recognitions is not None and res.recognitions <= res.frames_analyzed, res.recognitions
    # every per-frame reading of a caption belongs to its track
    follow = by_text["FOLLOW FOR PART 2"]
    assert sum(1 for f in res.frames for b in f.boxes if b.track == follow.track) == follow.frames


def test_caption_on_a_letterbox_bar_is_an_overlay(run, tmp_path):
    """A fixed camera (little changes) with the caption on the black bar under the picture."""
    clip = tmp_path / "letterbox.mp4"
    ffmpeg("-i", str(MEDIA / "vtest.avi"), "-t", "3",
           "-vf", "scale=360:-2,pad=360:640:0:(oh-ih)/2," + _draw("WAIT FOR IT", 0, 3, "h*0.82"),
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(clip))
    res = _result(run(clip, ["text_overlay"]))
    (seg,) = [s for s in res.segments if s.text.upper() == "WAIT FOR IT"]
    assert seg.kind == "overlay", (seg.overlay_score, seg.evidence)
    assert seg.cues["ring_std"] < 4 and "even_background" in seg.cue_contributions
    assert seg.vertical == "bottom" and seg.start == 0


@pytest.mark.parametrize("image, words, board", [
    ("scenetext01.jpg", {"DOUBLE", "PARKING", "PROHIBITED"}, False),
    ("scenetext02.jpg", {"SPORTS", "CONFERENCE", "CENTRE", "CAR", "PARKS"}, True),
], ids=["scenetext01", "scenetext02"])
def test_scene_text_is_read_once_per_still(run, tmp_path, image, words, board):
    res = _result(run(_still(MEDIA / image, tmp_path / "still.mp4"), ["text_overlay"]))
    assert res.has_text
    assert words <= _words(res), sorted(_words(res))
    # identical frames reuse the first reading instead of running OCR again
    assert res.frames_ocr == 1 and res.frames_analyzed >= 3
    assert all(f.boxes == res.frames[0].boxes for f in res.frames)
    # each sign is one segment that spans the clip, not one per frame
    assert all(s.frames == res.frames_analyzed and s.start == 0 for s in res.segments)
    # a still has no motion: only the rendering cues speak, and no sign line is called a caption.
    # scenetext02's board (white letters on one flat green) has lines centred on the frame within 0.02 of
    # its width, as a caption is: 3.0.0 called three of its four lines overlay. 3.1.0 sees them as one
    # block of four stacked lines (`in_block`), which a caption is not
    overlays = [s.text for s in res.segments if s.kind == "overlay"]
    assert not overlays, [(s.text, s.overlay_score, s.evidence) for s in res.segments]
    if board:
        assert all(s.cues["block_lines"] >= 3 for s in res.segments if _words_of(s) & words), \
            [(s.text, s.cues["block_lines"]) for s in res.segments]
    # no motion cue was measured on a still, and none adds anything
    assert all(s.cues["text_shift"] is None and s.cue_contributions["moves_with_picture"] is None for s in res.segments)


# ---- made clips for issue 15: lines, tracks, captions vs scene text, small text -------------------

def _clip(out: Path, inputs: list[str], vf: str, seconds: float = 4.0) -> Path:
    ffmpeg(*inputs, "-t", str(seconds), "-vf", vf + ",format=yuv420p", "-r", "10",
           "-c:v", "libx264", "-preset", "ultrafast", str(out))
    return out


def _photo(name: str) -> list[str]:
    return ["-loop", "1", "-framerate", "10", "-i", str(MEDIA / name)]


def _seg(res: TextOverlayResult, words: str) -> list:
    want = set(words.upper().split())
    return [s for s in res.segments if want <= set(re.sub(r"[^0-9A-Z]+", " ", s.text.upper()).split())]


def test_sign_under_a_pan_is_scene_text(run, tmp_path):
    """The street sign of scenetext01.jpg, the camera panning across it: text that moves with the picture."""
    clip = _clip(tmp_path / "pan.mp4", _photo("scenetext01.jpg"),
                 "scale=-2:700,crop=360:640:'250-t*25':'(ih-640)/2'")
    res = _result(run(clip, ["text_overlay"]))
    hits = _seg(res, "PARKING")
    assert hits, [(s.text, s.kind) for s in res.segments]
    for s in hits:
        assert s.kind == "scene", (s.text, s.overlay_score, s.evidence, s.cues)
        assert s.cues["text_shift"] > 0.1


def test_caption_over_a_pan_is_an_overlay(run, tmp_path):
    """A caption drawn over a pan across a real photo: fixed on screen while the picture moves."""
    clip = _clip(tmp_path / "cap_pan.mp4", _photo("bus.jpg"),
                 "scale=-2:800,crop=360:640:'min(iw-360,t*40)':'min(ih-640,t*10)',"
                 f"drawtext=fontfile={FONT}:text='SAVE THIS':fontsize=30:fontcolor=yellow:borderw=2:"
                 "bordercolor=black:x=(w-tw)/2:y=h*0.15")
    res = _result(run(clip, ["text_overlay"]))
    (seg,) = _seg(res, "SAVE THIS")
    assert seg.kind == "overlay", (seg.overlay_score, seg.evidence, seg.cues)
    assert seg.start == 0 and seg.frames == res.frames_analyzed


def test_caption_that_changes_word_by_word(run, tmp_path):
    """One segment per distinct caption as it builds up, each with its own time on screen."""
    steps = [("TRY", 0.0, 1.5), ("TRY THIS", 1.5, 3.0), ("TRY THIS TODAY", 3.0, 4.5)]
    draws = ",".join(f"drawtext=fontfile={FONT}:text='{t}':fontsize=32:fontcolor=white:borderw=3:bordercolor=black:"
                     f"x=(w-tw)/2:y=h*0.75:enable='gte(t,{a})*lt(t,{b})'" for t, a, b in steps)
    clip = _clip(tmp_path / "words.mp4", ["-i", str(MEDIA / "vtest.avi")], "scale=480:360," + draws, 4.5)
    res = _result(run(clip, ["text_overlay"]))
    caps = [s for s in res.segments if s.kind == "overlay" or "TRY" in s.text.upper()]
    assert [s.text.upper() for s in caps] == [t for t, _, _ in steps], [(s.text, s.start, s.end) for s in res.segments]
    for s, (_, a, b) in zip(caps, steps):
        assert abs(s.start - a) <= SAMPLE_INTERVAL and abs(s.end - b) <= SAMPLE_INTERVAL, (s.text, s.start, s.end)


def test_two_captions_at_once_are_two_segments(run, tmp_path):
    clip = _clip(tmp_path / "two.mp4", ["-i", str(MEDIA / "vtest.avi")],
                 "scale=480:360," + _draw("POV YOU WON", 0, 3, "h*0.08") + "," + _draw("WAIT FOR IT", 0, 3, "h*0.82"),
                 3.0)
    res = _result(run(clip, ["text_overlay"]))
    top, bottom = _seg(res, "POV YOU WON"), _seg(res, "WAIT FOR IT")
    assert len(top) == 1 and len(bottom) == 1, [(s.text, s.start, s.end) for s in res.segments]
    assert top[0].vertical == "top" and bottom[0].vertical == "bottom"
    assert top[0].kind == bottom[0].kind == "overlay"


def test_small_sign_on_a_still_is_found(run, tmp_path):
    """The sign photo at a fifth of a 720x1280 frame: too small for the sampled frames alone."""
    clip = _clip(tmp_path / "small.mp4", _photo("scenetext01.jpg"),
                 "scale=300:-2,pad=720:1280:(ow-iw)/2:(oh-ih)/3:color=gray", 2.0)
    res = _result(run(clip, ["text_overlay"]))
    words = _words(res)
    assert {"PARKING"} <= words or {"DOUBLE"} <= words, sorted(words)


@pytest.mark.parametrize("crop_x", ["120", "t*24"], ids=["still", "slow_pan"])
def test_small_sign_appearing_mid_shot_is_found_from_when_it_appears(run, tmp_path, crop_x):
    """A small red sign (a fifth of a 720x1280 frame wide, 11 px tall in the sampled frames) drawn onto
    the street photo at t=2.0 s, neither at a cut nor at the start, on a still and under a slow pan."""
    sign = (f"drawtext=fontfile={FONT}:text='OPEN 24 HOURS':fontsize=20:fontcolor=white:box=1:boxcolor=red:"
            "boxborderw=4:x=500:y=h*0.3:enable='gte(t,2)'")
    clip = _clip(tmp_path / "mid.mp4", _photo("bus.jpg"), f"scale=-2:1280,{sign},crop=720:1280:'{crop_x}':0", 5.0)
    res = _result(run(clip, ["text_overlay"]))
    hits = _seg(res, "OPEN HOURS")
    assert len(hits) == 1, [(s.text, s.start, s.end) for s in res.segments]
    assert abs(hits[0].start - 2.0) <= SAMPLE_INTERVAL, (hits[0].text, hits[0].start)
