"""color_analysis and content_quality on made media whose truth is known, and on real footage."""
from __future__ import annotations

import pytest

from shared_schema.results.appearance import ColorAnalysisResult, ContentQualityResult
from tests.conftest import require_env
from tests.media import MEDIA, ffmpeg, solid_cuts


def _ok(outcome, name):
    env = outcome.report.analyzers[name]
    assert env.status.value == "ok", (env.error, env.log_tail)
    return env


def _pattern(path, size: str, blur: float = 0.0, seconds: float = 3, crf: int = 18):
    vf = f"gblur=sigma={blur}" if blur else "null"
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30:duration={seconds}", "-vf", vf,
           "-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf), "-pix_fmt", "yuv420p", str(path))
    return path


@pytest.fixture(scope="module")
def red_blue(tmp_path_factory):
    """2 s of solid red, then 2 s of solid blue, 360x640."""
    return solid_cuts(tmp_path_factory.mktemp("color") / "red_blue.mp4", ["red", "blue"],
                      seconds_each=2.0, size="360x640")


def test_palette_and_warmth_follow_the_shots(run, settings, red_blue):
    require_env(settings, "cpu")
    env = _ok(run(red_blue, ["color_analysis"]), "color_analysis")
    res = ColorAnalysisResult.model_validate(env.result)
    assert res.segmentation == "fixed_windows" and "not run" in res.segmentation_note
    first, second = res.shots
    assert first.palette[0].name == "red" and first.palette[0].share > 0.95
    assert first.palette[0].r > 230 and first.palette[0].b < 25
    assert second.palette[0].name == "blue" and second.palette[0].share > 0.95
    assert first.warmth > 0.8 and second.warmth < -0.8
    assert first.contrast < 0.05 and first.saturation > 0.9
    assert {c.name for c in res.palette} == {"red", "blue"}
    assert [round(c.t, 1) for c in res.changes] == [2.0]


def test_uses_cut_analysis_shots_when_it_ran(run, settings, tmp_path):
    require_env(settings, "cpu")
    video = solid_cuts(tmp_path / "rgb.mp4", ["red", "yellow", "blue"], seconds_each=1.5,
                       size="320x240")
    outcome = run(video, ["cut_analysis", "color_analysis"])
    _ok(outcome, "cut_analysis")
    res = ColorAnalysisResult.model_validate(_ok(outcome, "color_analysis").result)
    assert res.segmentation == "cut_analysis"
    assert [round(s.start, 1) for s in res.shots] == [0.0, 1.5, 3.0]
    assert [s.palette[0].name for s in res.shots] == ["red", "yellow", "blue"]


def test_blurred_copy_ranks_below_the_sharp_one(run, settings, tmp_path):
    require_env(settings, "cpu")
    scores = {}
    for label, blur in (("sharp", 0.0), ("blurred", 4.0)):
        video = _pattern(tmp_path / f"{label}.mp4", "360x640", blur=blur)
        res = ContentQualityResult.model_validate(
            _ok(run(video, ["content_quality"]), "content_quality").result)
        scores[label] = res
    sharp, blurred = scores["sharp"], scores["blurred"]
    comp = {k: {c.name: c for c in r.components} for k, r in scores.items()}
    assert comp["blurred"]["sharpness"].value < comp["sharp"]["sharpness"].value / 5
    assert comp["blurred"]["sharpness"].score < comp["sharp"]["sharpness"].score
    assert blurred.overall_score < sharp.overall_score
    assert sharp.aspect_label == "9:16" and sharp.vertical_9_16
    assert abs(sum(c.weight for c in sharp.components) - 1) < 1e-6


def test_heavy_compression_is_blockier(run, settings, tmp_path):
    require_env(settings, "cpu")
    comp = {}
    for crf in (18, 45):
        video = _pattern(tmp_path / f"crf{crf}.mp4", "360x640", seconds=2, crf=crf)
        res = ContentQualityResult.model_validate(
            _ok(run(video, ["content_quality"]), "content_quality").result)
        comp[crf] = {c.name: c for c in res.components}
    assert comp[45]["blockiness"].value > comp[18]["blockiness"].value + 0.3
    assert comp[45]["blockiness"].score < comp[18]["blockiness"].score
    assert comp[45]["bitrate"].value < comp[18]["bitrate"].value / 3


def test_landscape_is_not_9_16(run, settings, tmp_path):
    require_env(settings, "cpu")
    video = _pattern(tmp_path / "wide.mp4", "640x360", seconds=2)
    res = ContentQualityResult.model_validate(
        _ok(run(video, ["content_quality"]), "content_quality").result)
    assert res.aspect_label == "16:9" and not res.vertical_9_16
    assert (res.width, res.height) == (640, 360)
    comp = {c.name: c for c in res.components}
    assert comp["resolution"].value == 360 and comp["bitrate"].score is not None


@pytest.mark.slow
def test_real_handheld_footage(run, settings, assets):
    """tree.avi: real 320x240 (4:3) footage; both analyzers run on it and agree with ffprobe."""
    require_env(settings, "cpu")
    outcome = run(MEDIA / "tree.avi", ["color_analysis", "content_quality"])
    color = ColorAnalysisResult.model_validate(_ok(outcome, "color_analysis").result)
    quality = ContentQualityResult.model_validate(_ok(outcome, "content_quality").result)
    assert quality.aspect_label == "4:3" and not quality.vertical_9_16
    assert 25 <= quality.frames_analyzed <= 32  # 1 fps over 29.6 s
    assert color.frames_analyzed >= 55           # 2 fps
    assert len(color.palette) >= 3               # real footage is not one flat colour
    assert 0.05 < color.overall.contrast and 0.1 < color.overall.brightness < 0.9
