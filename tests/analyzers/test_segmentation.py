"""background_segmentation, run for real on bus.jpg (4 people) and vtest.avi (fixed camera)."""
from __future__ import annotations

from pathlib import Path

import pytest

from shared_schema.envelope import Status
from shared_schema.results.segmentation import BackgroundSegmentationResult
from tests.conftest import require_assets, require_env
from tests.media import MEDIA, ffmpeg

NAME = "background_segmentation"


def _asset(name: str) -> Path:
    path = MEDIA / name
    require_assets(path)
    return path


@pytest.fixture(scope="module")
def bus_video(tmp_path_factory) -> Path:
    """2 s still of bus.jpg (810x1080 portrait): four people in front of a bus."""
    out = tmp_path_factory.mktemp("seg") / "bus.mp4"
    ffmpeg("-loop", "1", "-t", "2", "-i", str(_asset("bus.jpg")), "-r", "10", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(out))
    return out


@pytest.fixture(scope="module")
def street_then_bus(tmp_path_factory) -> Path:
    """4 s of vtest.avi (fixed camera, people walking), then a hard cut to 2 s of bus.jpg."""
    out = tmp_path_factory.mktemp("seg") / "cut.mp4"
    ffmpeg("-t", "4", "-i", str(_asset("vtest.avi")),
           "-loop", "1", "-t", "2", "-i", str(_asset("bus.jpg")),
           "-filter_complex",
           "[0:v]fps=10,scale=768:576,setsar=1[a];[1:v]fps=10,scale=768:576,setsar=1[b];"
           "[a][b]concat=n=2:v=1:a=0[v]",
           "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(out))
    return out


def _result(outcome) -> BackgroundSegmentationResult:
    env = outcome.report.analyzers[NAME]
    assert env.status is Status.ok, (env.error, env.log_tail)
    assert not env.degraded
    assert env.models and env.models[0].name.startswith("selfie_segmentation")
    return BackgroundSegmentationResult.model_validate(env.result)


@pytest.mark.parametrize("precision", ["float32", "float16"])
def test_people_are_foreground_in_each_precision(settings, run, bus_video, precision):
    """The model takes float32; a float16 preprocessing path must be cast, not handed over."""
    require_env(settings, "face")
    result = _result(run(bus_video, [NAME], background_segmentation={"precision": precision}))
    assert result.precision == precision and result.model_dtype == "float32"
    assert result.model == "general"  # portrait frames
    assert result.frames_analyzed == 5  # 2 fps over the 2.2 s clip (`-t 2` before `-i`): 0 ... 2 s
    for f in result.frames:
        # four people, standing in front of the bus: a real share of the frame, not most of it
        assert 0.04 < f.foreground_ratio < 0.5
    assert result.background_changes == []  # a still image has one background


def test_float16_matches_float32(settings, run, bus_video):
    require_env(settings, "face")
    ratios = {}
    for precision in ("float32", "float16"):
        result = _result(run(bus_video, [NAME], background_segmentation={"precision": precision}))
        ratios[precision] = [f.foreground_ratio for f in result.frames]
    for a, b in zip(ratios["float32"], ratios["float16"]):
        assert a == pytest.approx(b, abs=0.01)


@pytest.mark.slow
def test_fixed_camera_then_cut(settings, run, street_then_bus):
    require_env(settings, "face")
    result = _result(run(street_then_bus, [NAME]))
    assert result.model == "landscape"  # 768x576 frames
    assert result.frames_analyzed == 12  # sampled set: 2 fps over 6 s
    street = [f for f in result.frames if f.t < 4.0]
    # people walk through a fixed scene: some foreground, never most of the frame
    assert max(f.foreground_ratio for f in street) > 0.005
    assert all(f.foreground_ratio < 0.5 for f in street)
    # the walkers do not change the background; the cut to the bus does, once
    assert [c.t for c in result.background_changes] == [4.0]
    assert all(f.background_distance is not None and f.background_distance < 0.2
               for f in street[1:])


@pytest.mark.slow
def test_vtest_over_time(settings, run):
    """The full 79.5 s street clip: people come and go, the background stays."""
    require_env(settings, "face")
    result = _result(run(_asset("vtest.avi"), [NAME]))
    assert result.frames_analyzed >= 150
    ratios = [f.foreground_ratio for f in result.frames]
    assert max(ratios) - min(ratios) > 0.005  # the foreground share moves with the walkers
    assert result.mean_foreground_ratio is not None and result.mean_foreground_ratio < 0.3
    assert result.background_changes == []
