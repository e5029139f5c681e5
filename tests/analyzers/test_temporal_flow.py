"""temporal_flow: the energy curve and segments follow known cuts and a loud section."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from analyzers.temporal_flow._flow import FlowParams, energy_curve, segments
from shared_schema.envelope import Status
from shared_schema.results.common import Span
from shared_schema.results.temporal import Signals, SpanValue, TemporalFlowResult
from tests.conftest import require_env
from tests.media import ffmpeg

LOUD = (3.0, 5.0)
CUTS = (3.5, 4.0)  # the quick shots sit inside the loud section


@pytest.fixture(scope="module")
def flow_video(tmp_path_factory) -> Path:
    """8 s: a long red shot, two 0.5 s shots (cuts at 3.5 and 4.0 s), a long yellow shot;
    a 440 Hz tone at -40 dB except 3-5 s, where it is at full scale."""
    path = tmp_path_factory.mktemp("flow") / "flow.mp4"
    shots = [("red", 3.5), ("green", 0.5), ("blue", 0.5), ("yellow", 3.5)]
    args: list[str] = []
    for color, d in shots:
        args += ["-f", "lavfi", "-i", f"color=c={color}:size=320x240:rate=30:duration={d}"]
    args += ["-f", "lavfi", "-i", "sine=frequency=440:duration=8"]
    graph = ("".join(f"[{i}:v]" for i in range(len(shots))) + f"concat=n={len(shots)}:v=1:a=0[v];"
             f"[{len(shots)}:a]volume='if(between(t,{LOUD[0]},{LOUD[1]}),1.0,0.01)':eval=frame[a]")
    ffmpeg(*args, "-filter_complex", graph, "-map", "[v]", "-map", "[a]", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path))
    return path


def _segment_at(res: TemporalFlowResult, t: float):
    return next(s for s in res.segments if s.start <= t < s.end)


def _bin_energy(res: TemporalFlowResult, t: float) -> float:
    return next(p.energy for p in res.energy if p.start <= t < p.end)


def test_pure_segments_follow_cut_burst():
    sig = Signals(duration=10.0, cuts=[6.0, 6.4, 6.8, 7.2])
    points, weights = energy_curve(sig, FlowParams())
    assert weights == {"cuts": 1.0}
    segs, peak_t = segments(points, 10.0, FlowParams())
    assert [s.label for s in segs][0] == "intro" and "peak" in [s.label for s in segs]
    peak = next(s for s in segs if s.label == "peak")
    assert peak.start <= 6.0 and peak.end >= 7.0 and 6.0 <= peak_t <= 7.5
    assert segs[-1].end == 10.0 and all(s.rule for s in segs)


def test_pure_flat_curve_is_one_steady_segment():
    sig = Signals(duration=5.0, cuts=[])
    points, _ = energy_curve(sig, FlowParams())
    segs, _ = segments(points, 5.0, FlowParams())
    assert [(s.label, s.start, s.end) for s in segs] == [("steady", 0.0, 5.0)]


def test_no_upstream_still_ok_names_missing_and_follows_audio(run, settings, flow_video):
    require_env(settings, "core")
    env = run(flow_video, ["temporal_flow"]).report.analyzers["temporal_flow"]
    assert env.status is Status.ok, env.error
    res = TemporalFlowResult.model_validate(env.result)
    assert res.inputs_used == [] and env.degraded is False  # nothing selected failed
    assert {m.name: m.status for m in res.inputs_missing} == {
        "cut_analysis": "not_selected", "camera_analysis": "not_selected",
        "audio_analysis": "not_selected", "speech_flow": "not_selected"}
    assert res.audio_source == "wav_rms" and res.weights == {"audio": 1.0}
    assert _segment_at(res, 4.0).label == "peak"
    peak = _segment_at(res, 4.0)
    assert LOUD[0] - 0.5 <= peak.start <= LOUD[0] + 0.5 and LOUD[1] - 0.5 <= peak.end <= LOUD[1] + 0.5
    assert _bin_energy(res, 4.0) > 3 * _bin_energy(res, 1.0)
    assert _segment_at(res, 1.0).label == "intro" and _segment_at(res, 7.0).label == "outro"
    assert res.hook.end == 3.0 and res.hook.intensity < _bin_energy(res, 4.0)


def test_failed_upstream_is_named_with_its_status(run, settings, flow_video):
    require_env(settings, "core")
    # a limit no analyzer can meet: cut_analysis times out (or is skipped where its env is absent)
    out = run(flow_video, ["cut_analysis", "temporal_flow"], cut_analysis={"timeout_s": 0.01})
    env = out.report.analyzers["temporal_flow"]
    assert env.status is Status.ok, env.error
    res = TemporalFlowResult.model_validate(env.result)
    cut_env = out.report.analyzers["cut_analysis"]
    assert cut_env.status is not Status.ok
    missing = {m.name: m for m in res.inputs_missing}
    # the runner writes its own verdicts (timeout, oom, crashed, skips) to out/<name>/result.json,
    # so the downstream analyzer names the real status
    assert missing["cut_analysis"].status == cut_env.status.value
    assert "cut_analysis" not in res.inputs_used and "cuts" not in res.weights
    assert env.degraded and any(r.startswith("cut_analysis was") for r in env.degraded_reasons)


@pytest.mark.slow
def test_cuts_and_loudness_drive_energy(run, settings, flow_video):
    require_env(settings, "cpu")
    out = run(flow_video, ["cut_analysis", "audio_analysis", "temporal_flow"])
    for up in ("cut_analysis", "audio_analysis"):
        assert out.report.analyzers[up].status is Status.ok, out.report.analyzers[up].error
    res = TemporalFlowResult.model_validate(out.report.analyzers["temporal_flow"].result)
    assert res.inputs_used == ["cut_analysis", "audio_analysis"] and res.audio_source == "audio_analysis"
    assert res.weights.keys() == {"cuts", "audio"}
    assert {m.name for m in res.inputs_missing} == {"camera_analysis", "speech_flow"}
    cut_bins = [p for p in res.energy if p.cuts]
    assert cut_bins and all(2.0 <= p.start <= 5.0 for p in cut_bins)
    peak = _segment_at(res, 4.0)
    assert peak.label == "peak" and peak.start <= CUTS[0] and peak.end >= CUTS[1]
    assert _bin_energy(res, 4.0) > 2 * _bin_energy(res, 7.0)


_t = st.floats(min_value=0, max_value=70, allow_nan=False)
_v = st.floats(min_value=0, max_value=1, allow_nan=False)


def _spans(value=_v):
    return st.none() | st.lists(st.tuples(_t, _t, value).map(
        lambda x: SpanValue(start=min(x[0], x[1]), end=max(x[0], x[1]), value=x[2])), max_size=12)


@hsettings(max_examples=300, deadline=None)
@given(duration=st.floats(min_value=0, max_value=65, allow_nan=False), cuts=st.none() | st.lists(_t, max_size=20),
       motion=_spans(), audio=_spans(), speech=_spans(st.just(0.0)),
       bin_s=st.sampled_from([0.25, 0.5, 1.0, 2.0]))
def test_any_signals_give_tiling_segments(duration, cuts, motion, audio, speech, bin_s):
    sig = Signals(duration=duration, cuts=cuts, motion=motion, audio_energy=audio,
                  speech=None if speech is None else [Span(start=s.start, end=s.end) for s in speech])
    p = FlowParams(bin_s=bin_s)
    points, weights = energy_curve(sig, p)
    segs, peak_t = segments(points, duration, p)
    if not weights or all(q.energy is None for q in points):
        # no input at all, or inputs whose series cover no bin: nothing measured, no invented flat curve
        assert segs == [] and peak_t is None and all(q.energy is None for q in points)
        return
    assert segs[0].start == 0 and segs[-1].end == pytest.approx(duration)
    assert all(a.end == b.start for a, b in zip(segs, segs[1:]))
    assert not weights or sum(weights.values()) == pytest.approx(1.0, abs=1e-3)
    assert sum(1 for s in segs if s.label == "peak") + (any(s.label == "steady" for s in segs)) == 1
    # issue 27: a bin no input covers is in no labelled segment, and every labelled one has measured bins
    for s in segs:
        inside = [q for q in points if q.start < s.end - 1e-9 and q.end > s.start + 1e-9]
        if s.label is None:
            assert all(q.energy is None for q in inside) and s.mean_energy is None
        else:
            assert all(q.energy is not None for q in inside) and s.mean_energy is not None


def test_silent_video_runs_without_audio(run, settings, silent_video):
    """`audio_optional = true`: a video with no audio stream is no reason to skip it (issue 16)."""
    require_env(settings, "core")
    out = run(silent_video, ["temporal_flow"])
    env = out.report.analyzers["temporal_flow"]
    assert env.status is Status.ok, (env.status, env.skip_reason, env.error)
    res = TemporalFlowResult.model_validate(env.result)
    assert res.audio_source == "none" and res.weights == {}
    # nothing was measured: nulls with the reason, not a flat curve of invented zeros
    assert all(p.energy is None for p in res.energy) and res.segments == [] and res.peak_t is None
    assert res.hook.intensity is None and res.hook.cuts is None
    assert "no audio stream" in res.not_measured["energy"] and "hook.cuts" in res.not_measured


def test_pure_no_input_is_null_not_zero():
    sig = Signals(duration=4.0)
    points, weights = energy_curve(sig, FlowParams())
    assert weights == {} and all(p.energy is None for p in points)
    assert segments(points, 4.0, FlowParams()) == ([], None)


def test_pure_uncovered_bin_is_null_not_zero():
    """A motion series that stops at 2 s says nothing about 2-4 s: those bins are null there, not 0 (issue 16)."""
    sig = Signals(duration=4.0, motion=[SpanValue(start=0.0, end=2.0, value=0.8)])
    points, weights = energy_curve(sig, FlowParams(bin_s=1.0))
    assert weights == {"motion": 1.0}
    assert [q.motion for q in points] == [0.8, 0.8, None, None]
    assert [q.energy for q in points] == [0.8, 0.8, None, None]
    segs, peak_t = segments(points, 4.0, FlowParams(bin_s=1.0))
    assert segs[0].start == 0 and segs[-1].end == 4.0 and peak_t is not None
    # with cuts covering every bin, the uncovered bins' energy comes from the cuts alone
    sig = Signals(duration=4.0, cuts=[3.0], motion=[SpanValue(start=0.0, end=2.0, value=0.8)])
    points, weights = energy_curve(sig, FlowParams(bin_s=1.0))
    assert points[3].motion is None and points[3].energy == pytest.approx(points[3].cuts, abs=1e-4)
    assert points[0].energy == pytest.approx(weights["motion"] * 0.8 + weights["cuts"] * points[0].cuts, abs=1e-3)


@pytest.mark.parametrize("motion_until", [2.0, 3.0])
def test_pure_bins_no_input_covers_get_no_label(motion_until):
    """Issue 27: motion that stops at 2-3 s says nothing about the rest; those bins were labelled
    `sustain` (after a peak) or folded into a `steady` segment. Now they are a segment with a null
    label and the reason."""
    for value in (0.8, [0.9, 0.2]):  # a flat curve (steady) and one with a peak
        vals = value if isinstance(value, list) else [value]
        step = motion_until / len(vals)
        sig = Signals(duration=6.0, motion=[SpanValue(start=k * step, end=(k + 1) * step, value=v)
                                            for k, v in enumerate(vals)])
        points, _ = energy_curve(sig, FlowParams(bin_s=1.0))
        segs, _ = segments(points, 6.0, FlowParams(bin_s=1.0))
        last = segs[-1]
        assert (last.start, last.end, last.label, last.mean_energy) == (motion_until, 6.0, None, None), segs
        assert "no input covers" in last.rule
        assert all(s.label is not None for s in segs[:-1]) and segs[0].start == 0.0


def test_pure_gap_inside_a_steady_curve_is_cut_out():
    sig = Signals(duration=6.0, motion=[SpanValue(start=0.0, end=2.0, value=0.5),
                                        SpanValue(start=4.0, end=6.0, value=0.5)])
    points, _ = energy_curve(sig, FlowParams(bin_s=1.0))
    segs, _ = segments(points, 6.0, FlowParams(bin_s=1.0))
    assert [(s.start, s.end, s.label) for s in segs] == [(0.0, 2.0, "steady"), (2.0, 4.0, None),
                                                          (4.0, 6.0, "steady")]
