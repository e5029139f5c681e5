"""camera_analysis labels on the held-out half of the motion calibration set, and its nulls.

The thresholds in ``analyzers/camera_analysis/analyzer.toml`` were chosen on the ``calib`` half
of ``motion_set`` (``camera_calibration.py --choose``); here the ``held_out`` half (other photos,
other parts of the real videos) is measured by the analyzer's own code in the ``cpu`` environment
and every clip must get its label: each motion at each speed, barely visible to fast, and the
static shots with moving subjects. Then the nulls: a clip with nothing to track has no label
(not ``static``), and a shot shorter than the 0.5 s shake window has no shake.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from runner.config import Settings
from shared_schema.envelope import Status
from shared_schema.results.motion import CameraResult
from tests.analyzers import media_cuts, motion_set
from tests.conftest import require_env
from tests.media import ffmpeg

ROOT = Path(__file__).resolve().parents[2]
HELD_OUT = motion_set.clips("held_out")
MIN_PRECISION = MIN_RECALL = 0.9


@pytest.fixture(scope="module")
def held_out(tmp_path_factory) -> dict:
    """Measure and label the held-out clips once (about 100 clips: 1-2 min on 2 busy cores)."""
    settings = Settings.from_env()
    require_env(settings, "cpu")
    out = tmp_path_factory.mktemp("calibration") / "held_out.json"
    py = settings.envs_dir / "cpu" / "bin" / "python"
    proc = subprocess.run([str(py), "-m", "tests.analyzers.camera_calibration",
                           "--split", "held_out", "--json", str(out)],
                          check=False, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    sys.stdout.write(proc.stdout)  # the per-label table, shown with -s
    data = json.loads(out.read_text())
    data["by_id"] = {c["id"]: c for c in data["clips"]}
    return data


@pytest.mark.parametrize("clip", HELD_OUT, ids=[c.id for c in HELD_OUT])
def test_held_out_clip_gets_its_label(held_out, clip):
    got = held_out["by_id"][clip.id]
    assert got["label"] == clip.label, got


def test_held_out_precision_and_recall_per_label(held_out):
    scores = held_out["held_out"]
    labels = {c.label for c in HELD_OUT}
    assert set(scores) == labels  # every label is in the held-out half, and no other was said
    low = {lab: s for lab, s in scores.items()
           if s["precision"] < MIN_PRECISION or s["recall"] < MIN_RECALL}
    assert not low, low


def test_slow_zooms_are_labelled(held_out):
    """Issue 16: a 3-5 %/s zoom (the edits' "slow zoom") is zoom_in/zoom_out, not static."""
    slow = [c for c in held_out["clips"] if c["truth"].startswith("zoom") and c["speed"] <= 0.05]
    assert len(slow) >= 8
    assert all(c["label"] == c["truth"] for c in slow), slow


def test_thresholds_are_the_manifests(held_out):
    from analyzers.base import manifest_params

    params = manifest_params(ROOT / "analyzers/camera_analysis")
    assert held_out["thresholds"] == {k: params[f"{k}_min"] for k in ("pan", "tilt", "zoom", "roll",
                                                                      "shake")}


def _camera(out) -> CameraResult:
    env = out.report.analyzers["camera_analysis"]
    assert env.status is Status.ok, env.error
    return CameraResult.model_validate(env.result)


def test_nothing_to_track_is_null_not_static(run, settings, tmp_path):
    """A flat grey clip: no corner anywhere, so the camera's motion is unknown."""
    require_env(settings, "cpu")
    video = tmp_path / "flat.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:size=320x568:rate=30:duration=2", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(video))
    res = _camera(run(video, ["camera_analysis"]))
    shot = res.shots[0]
    assert shot.stats.tracked == 0
    assert shot.label is None and shot.labels == [] and "label" in shot.not_measured, shot
    assert shot.stats.pan_speed is None and shot.stats.shake is None
    assert "tracked" in shot.stats.not_measured["pan_speed"]
    assert res.overall is None and "overall" in res.not_measured
    assert res.timeline and all(s.label is None and s.magnitude is None for s in res.timeline)


def test_short_shot_has_no_shake(run, settings, tmp_path):
    """A 0.3 s shot between two cuts: shorter than the 0.5 s shake window, so shake is null."""
    require_env(settings, "cpu")
    video = tmp_path / "short_shot.mp4"
    media_cuts.hard_cuts(video, seconds_each=(1.5, 0.3, 1.5))
    res = _camera(run(video, ["cut_analysis", "camera_analysis"]))
    assert res.shots_from == "cut_analysis" and len(res.shots) == 3, res.shots
    short = res.shots[1]
    assert short.end - short.start < 0.5
    assert short.stats.shake is None and "0.5 s" in short.stats.not_measured["shake"]
    assert short.label in ("pan_left", "pan_right") and short.stats.pan_speed is not None
    for long_shot in (res.shots[0], res.shots[2]):
        assert long_shot.stats.shake is not None and long_shot.stats.not_measured == {}


@pytest.mark.parametrize("move", ["zoom_in", "zoom_out"])
def test_slow_zoom_through_the_pipeline(run, settings, tmp_path, move):
    """The issue's case end to end (H.264, the runner's own extraction): a photo zoomed at 4 %/s
    (ffmpeg zoompan, as edits do) is zoom_in/zoom_out, with its rate, not static."""
    require_env(settings, "cpu")
    w, h = media_cuts.SIZE
    rate, seconds, r = media_cuts.RATE, 3.0, 0.04
    z = f"exp({r}*on/{rate})" if move == "zoom_in" else f"exp({r}*({seconds}-on/{rate}))"
    video = tmp_path / f"{move}.mp4"
    ffmpeg("-loop", "1", "-framerate", str(rate), "-i", str(media_cuts.MEDIA / "zidane.jpg"),
           "-filter_complex", f"[0:v]scale=-2:{4 * h},zoompan=z='{z}':x='iw/2-iw/zoom/2'"
           f":y='ih/2-ih/zoom/2':d=1:s={w}x{h}:fps={rate},trim=duration={seconds},"
           "setpts=PTS-STARTPTS,format=yuv420p,setsar=1[v]", "-map", "[v]", "-c:v", "libx264",
           "-preset", "veryfast", "-crf", "20", str(video))
    res = _camera(run(video, ["camera_analysis"]))
    shot = res.shots[0]
    assert shot.label == move and res.overall == move, shot
    assert abs(abs(shot.stats.zoom_rate) - r) < 0.01, shot.stats
    assert all(seg.label == move for seg in res.timeline), res.timeline
