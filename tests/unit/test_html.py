"""The HTML report renderer on hand-built reports (results built with the real result models)."""
from __future__ import annotations

import base64
import io
import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.commands.main import cli
from runner.report import render, write_html
from runner.report import build_lanes
from runner.report.lanes_visual import pack_rows
from runner.report.model import Lane, Missing
from runner.report.page import _plotly_js
from runner.report.thumbs import BOX, MAX_THUMBS, keyframes, strip
from runner.report.timeline import figure
from shared_schema.envelope import CacheInfo, Envelope, ErrorInfo, ModelUse, SkipReason, Status
from shared_schema.media import AudioStream, MediaInfo, VideoStream
from shared_schema.report import InputInfo, Report, RunInfo, Timings
from shared_schema.results.audio_features import AudioAnalysisResult, LoudnessPoint, LoudnessSummary, Rhythm, SpectralPoint
from shared_schema.results.common import Box, Span, TimedValue
from shared_schema.results.cross import Alignment, CrossResult, HookAnalysis, KeyMoment, SecondSignals
from shared_schema.results.cuts import CutResult, Scene, SceneResult, Shot, Transition
from shared_schema.results.detection import FrameDetections, ObjectDetectionResult
from shared_schema.results.motion import CameraResult, MotionSegment, MotionStats, ShotMotion
from shared_schema.results.speech import (AudioEnvironment, EnvironmentSegment, EventClassifier, Filler, Loudness,
                                          SpectralSummary, SpeechFlow, Transcript, TranscriptSegment, Word)
from shared_schema.results.temporal import EnergyPoint, FlowSegment, HookIntensity, InputState, TemporalFlowResult
from shared_schema.results.text import TextOverlayResult, TextSegment
from shared_schema.results.vlm import VlmSettings, VlmSummary, VlmTemporalResult, VlmWindow
from tests import media

DUR = 10.0
CUTS = [2.5, 5.5]
EVIL = "<script>alert(1)</script>"


# ---- builders ------------------------------------------------------------------
def _results() -> dict[str, object]:
    """One valid result per analyzer a timeline reads: a 10 s clip, a cut at 2.5 s, a dissolve around 5.5 s."""
    box = Box(x1=0.1, y1=0.8, x2=0.9, y2=0.9)
    stats = MotionStats(pan_speed=0, tilt_speed=0, zoom_rate=0, rotation_dps=0, shake=0, tracked=1)
    words = [Word(start=0.5, end=0.8, word=" ask", probability=0.9), Word(start=0.8, end=1.1, word=" not", probability=0.8),
             Word(start=1.1, end=1.6, word=" what", probability=0.95)]
    return {
        "cut_analysis": CutResult(
            method="test", fps=30, frames=300, duration_s=DUR, cut_count=2, hard_cuts=1, gradual=1,
            cuts_per_minute=12, mean_shot_s=3.3, median_shot_s=3,
            transitions=[Transition(kind="cut", start=2.5, end=2.5, t=2.5, frame=75, confidence=0.9, via="content"),
                         Transition(kind="dissolve", start=5.0, end=6.0, t=5.5, frame=165, confidence=0.7, via="blend")],
            shots=[Shot(index=0, start=0, end=2.5, start_frame=0, end_frame=74, duration=2.5),
                   Shot(index=1, start=2.5, end=5.5, start_frame=75, end_frame=164, duration=3),
                   Shot(index=2, start=5.5, end=DUR, start_frame=165, end_frame=299, duration=4.5)]),
        "scene_segmentation": SceneResult(
            method="test", threshold=0.6, shot_count=3,
            scenes=[Scene(index=0, start=0, end=5.5, shots=[0, 1], representative_frame=30, representative_t=1),
                    Scene(index=1, start=5.5, end=DUR, shots=[2], representative_frame=200, representative_t=6.7)]),
        "camera_analysis": CameraResult(
            method="test", shots_from="cut_analysis", window_s=1, overall="static",
            shots=[ShotMotion(start=0, end=DUR, shot=0, label="static", labels=["static"], stats=stats)],
            timeline=[MotionSegment(start=0, end=2.5, label="static", magnitude=0),
                      MotionSegment(start=2.5, end=5.5, label="pan_right", magnitude=0.2)]),
        "object_detection": ObjectDetectionResult(
            model="yolo.pt", model_format="pytorch", frame_set="sampled", imgsz=640, conf_threshold=0.25,
            frames_analyzed=3, frames=[FrameDetections(t=t) for t in (0, 5, 9)], tracks=[], classes=[], counts=[],
            person_count=[TimedValue(t=0, value=1), TimedValue(t=5, value=2), TimedValue(t=9, value=0)], max_persons=2),
        "text_overlay": TextOverlayResult(
            languages=["en"], frame_set="sampled", scale=1, detect_scale=0.6, stride=1, min_confidence=0.3,
            frames_total=0, frames_analyzed=0, frames_ocr=0, frames=[], has_text=True,
            overlay_text=["FOLLOW FOR PART 2", EVIL],
            segments=[TextSegment(start=1, end=4, text="FOLLOW FOR PART 2", confidence=0.9, frames=6, box=box,
                                  vertical="bottom", horizontal="center", kind="overlay", overlay_score=0.8,
                                  evidence=["static"]),
                      TextSegment(start=2, end=3, text=EVIL, confidence=0.5, frames=2, box=box, vertical="top",
                                  horizontal="left", kind="scene", overlay_score=0.2, evidence=[])]),
        "speech_transcription": Transcript(
            model="tiny.en", model_source="package", compute_type="int8", multilingual=False, language=None,
            decoded_language="en", language_check="none", language_detected=False, vad_filter=True, verbatim=False, beam_size=1, audio_duration=DUR,
            speech_duration=1.1, text="Ask not what", word_count=3,
            segments=[TranscriptSegment(start=0.5, end=1.6, text=" Ask not what", avg_logprob=-0.2,
                                        no_speech_prob=0.01, words=words)]),
        "speech_flow": SpeechFlow(
            method="test", audio_duration=DUR, speech_spans=[Span(start=0.4, end=1.7)], speech_duration=1.3,
            speech_ratio=0.13, pauses=[], min_pause_s=0.3, word_count=3, wpm_series=[], rate_window_s=5,
            fillers=[Filler(t=1.0, word="um")], filler_vocabulary=["um"]),
        "audio_analysis": AudioAnalysisResult(
            method="test", sample_rate=16000, duration_s=DUR, series_step_s=0.5,
            loudness=LoudnessSummary(integrated_lufs_approx=-20, rms_dbfs=-20, peak_dbfs=-3),
            loudness_series=[LoudnessPoint(t=0.25 + 0.5 * i, rms_dbfs=-20 - i, momentary_lufs_approx=-18 - i)
                             for i in range(20)],
            rhythm=Rhythm(tempo_bpm=120, tempogram_bpm=120, beat_times=[0.5, 1.0, 1.5], onset_times=[],
                          onset_density_per_s=0),
            spectral=SpectralPoint(t=5, centroid_hz=1000, rolloff_hz=2000, bandwidth_hz=500, flatness=0.1,
                                   zero_crossing_rate=0.1),
            spectral_series=[], silence_threshold_dbfs=-50, min_silence_s=0.3,
            silent_segments=[Span(start=8, end=DUR)], silent_fraction=0.2),
        "audio_environment": AudioEnvironment(
            method="test", audio_duration=DUR, speech_ratio=0.2, singing_ratio=0, music_ratio=0.4, silence_ratio=0.2,
            noise_ratio=0, dominant="music", loudness=Loudness(),
            timeline=[EnvironmentSegment(start=0, end=4, label="music", source="energy"),
                      EnvironmentSegment(start=0.4, end=1.7, label="speech", source="energy"),
                      EnvironmentSegment(start=8, end=DUR, label="silence", source="energy")],
            spectral=SpectralSummary(centroid_hz_mean=1000, flatness_mean=0.2, zero_crossing_rate_mean=0.1,
                                     rms_dbfs_series=[]),
            event_classifier=EventClassifier(used=False, reason="no model in the store")),
        "temporal_flow": TemporalFlowResult(
            method="weighted_energy_bins", duration=DUR, bin_s=2.5, weights={"cuts": 0.5, "audio": 0.5},
            hook=HookIntensity(start=0, end=3, intensity=0.5, cuts=1, signals=["cut at 2.50s"]),
            energy=[EnergyPoint(start=2.5 * i, end=2.5 * (i + 1), energy=0.2 * (i + 1), cuts=0.1, audio=0.5)
                    for i in range(4)],
            segments=[FlowSegment(start=0, end=5, label="intro", mean_energy=0.3, rule="first bins"),
                      FlowSegment(start=5, end=DUR, label="peak", mean_energy=0.7, rule="top bins")],
            peak_t=8.75, inputs_used=["cut_analysis"], inputs_missing=[], audio_source="audio_analysis"),
        "cross_analyzer_intelligence": CrossResult(
            method="rule_based_fusion", duration=DUR, inputs_used=["cut_analysis"],
            inputs_missing=[InputState(name="body_pose", status="not_selected"),
                            InputState(name="eye_tracking", status="timeout", reason="over 5s")],
            inputs_ignored=[], signal_sources={"cuts": "cut_analysis"},
            timeline=[SecondSignals(start=i, end=i + 1, activity=0.1 * i) for i in range(10)],
            hook=HookAnalysis(start=0, end=3, score=0.5, cues_checked=2, signals=["cut at 2.50s"], unavailable=[]),
            alignment=Alignment(available=False, reason="no text", window_s=2),
            key_moments=[KeyMoment(t=2.5, score=0.8, signals=["cut", "speech starts"])]),
        "qwen2_vl_temporal": VlmTemporalResult(
            model="Qwen2-VL-2B-Instruct", architecture="Qwen2VLForConditionalGeneration", device="cpu",
            settings=VlmSettings(dtype="float32", max_frames_per_window=4, max_pixels=50176, batch_size=1,
                                 window_s=5, max_new_tokens=64),
            duration=DUR, summary=VlmSummary(text="A street with a bus.", frame_times=[1.0],
                                             method="model_over_sampled_video"),
            windows=[VlmWindow(start=0, end=5, index=0, frame_times=[1.0], input="image",
                               description="A blue bus on a street.", new_tokens=7),
                     VlmWindow(start=5, end=DUR, index=1, frame_times=[6.0], input="image",
                               description="A man in a suit.", new_tokens=6)]),
    }


def ok(name: str, result) -> Envelope:
    data = result.model_dump(mode="json") if hasattr(result, "model_dump") else result
    return Envelope(analyzer=name, analyzer_version="1.0.0", status=Status.ok, duration_s=1.5, result=data,
                    models=[ModelUse(name=f"{name}-model", source="test")])


def failed(name: str, status: Status, message: str, **kw) -> Envelope:
    return Envelope(analyzer=name, analyzer_version="1.0.0", status=status, duration_s=0.2,
                    error=ErrorInfo(type=status.value, message=message, fix=kw.pop("fix", None)), **kw)


def make_report(envelopes: dict[str, Envelope], workdir: Path, video: Path | None = None) -> Report:
    now = datetime.now(timezone.utc)
    path = str(video or workdir / "gone.mp4")
    size = video.stat().st_size if video else 1000
    m = MediaInfo(path=path, sha256="0" * 64, size_bytes=size, container="mov,mp4", duration_s=DUR,
                  video=VideoStream(codec="h264", width=360, height=640, coded_width=360, coded_height=640, fps=30),
                  audio=AudioStream(codec="aac", sample_rate=44100, channels=2))
    run = RunInfo(run_id="r1", runner_version="0.1.0", backend="local", host="h", started_at=now, finished_at=now,
                  workdir=str(workdir), input=InputInfo(path=path, sha256="0" * 64), timings=Timings(total_s=3))
    counts = {s: sum(1 for e in envelopes.values() if e.status is s) for s in Status}
    return Report(run=run, media=m, stages=[list(envelopes)], counts=counts, analyzers=envelopes)


@pytest.fixture
def full_report(tmp_path) -> Report:
    """Every timeline's analyzer ok; no input video or frames left (so no thumbnails)."""
    return make_report({n: ok(n, r) for n, r in _results().items()}, tmp_path)


def _rows(page: str) -> list[str]:
    return re.findall(r"<tr data-analyzer='([^']+)' data-status='(\w+)'", page)


# ---- lanes ---------------------------------------------------------------------
def test_every_timeline_is_drawn_from_a_full_report(full_report):
    lanes = build_lanes(full_report)
    assert all(isinstance(x, Lane) for x in lanes), [x for x in lanes if isinstance(x, Missing)]
    by = {x.key: x for x in lanes}
    assert [m.t for m in by["cuts"].marks] == CUTS
    assert by["cuts"].rows == ["scenes", "shots", "cuts"]
    assert {s.row for s in by["camera"].spans} == {"static", "pan_right"}
    assert by["persons"].series[0].ys == [1, 2, 0]
    assert [s.row for s in by["text"].spans] == ["text 1", "text 2"]          # overlapping texts: two rows
    assert [s.label for s in by["speech"].spans if s.row == "words"] == ["ask", "not", "what"]
    assert [s.name for s in by["loudness"].series] == ["RMS dBFS", "momentary LUFS"]
    assert {s.row for s in by["regions"].spans} == {"music", "speech", "silence"}
    assert {s.name for s in by["pacing"].series} == {"energy", "activity (cross)"}
    assert [(m.t, m.symbol) for m in by["pacing"].marks] == [(2.5, "star")]
    assert [s.label for s in by["vlm"].spans] == ["A blue bus on a street.", "A man in a suit."]


def test_pacing_lane_draws_unlabelled_flow_bins_as_not_measured(tmp_path):
    """temporal_flow >= 1.4: bins no input covers are a segment with a null label (issue 27)."""
    res = _results()
    flow = res["temporal_flow"]
    res["temporal_flow"] = flow.model_copy(update={"segments": [
        FlowSegment(start=0, end=5, label="steady", mean_energy=0.3, rule="flat"),
        FlowSegment(start=5, end=DUR, label=None, mean_energy=None, rule="no input covers these bins")]})
    lane = {x.key: x for x in build_lanes(make_report({n: ok(n, r) for n, r in res.items()}, tmp_path))}["pacing"]
    spans = [(s.label, s.color) for s in lane.spans if s.label != "hook"]
    assert spans == [("steady", "steady"), ("not measured", "not measured")]


def test_figure_shares_one_time_axis_with_the_video_range(full_report):
    lanes = [x for x in build_lanes(full_report) if isinstance(x, Lane)]
    fig = figure(lanes, DUR, CUTS)
    axes = [k for k in fig.layout.to_plotly_json() if k.startswith("xaxis")]
    assert len(axes) == len(lanes)
    assert all(tuple(fig.layout[a].range) == (0, DUR) for a in axes)
    assert {t.meta["lane"] for t in fig.data} == {lane.key for lane in lanes}
    assert sorted(s.x0 for s in fig.layout.shapes) == CUTS


def test_missing_analyzers_leave_their_timelines_out_with_the_reason(tmp_path):
    res = _results()
    env = {"cut_analysis": ok("cut_analysis", res["cut_analysis"]),
           "camera_analysis": failed("camera_analysis", Status.timeout, "over its 300s limit"),
           "speech_transcription": Envelope(analyzer="speech_transcription", analyzer_version="1", status=Status.skipped,
                                            skip_reason=SkipReason.model_absent,
                                            error=ErrorInfo(type="model_absent", message="whisper not in the store"))}
    got = {x.key: x for x in build_lanes(make_report(env, tmp_path))}
    assert isinstance(got["cuts"], Lane) and "scene_segmentation was not run" in " ".join(got["cuts"].notes)
    assert got["camera"].why == "camera_analysis timeout: over its 300s limit"
    assert got["speech"].why.startswith("speech_transcription skipped (model_absent): whisper not in the store")
    assert got["vlm"].why == "qwen2_vl_temporal was not run"
    page = render(make_report(env, tmp_path))
    assert "<b>Camera motion</b> not in this report: camera_analysis timeout: over its 300s limit" in page


@pytest.mark.parametrize("garbage", [
    {}, {"shots": "x", "transitions": [1, None, {"t": "a"}], "timeline": {"a": 1}},
    {"segments": [{"start": 3, "end": 1, "text": 5}], "words": None, "energy": [{"start": float("nan")}]},
    {"person_count": [{"t": None}], "frames": [{"t": 1, "persons": "many"}], "windows": [[]], "hook": "x",
     "key_moments": [{"t": 1, "signals": "cut"}], "loudness_series": [{"t": True, "rms_dbfs": -3}]},
    {"hook": {"end": "<b>", "score": "x", "signals": [EVIL]}, "inputs_missing": [{"name": EVIL, "status": 3}]},
], ids=["empty", "wrong-types", "bad-spans", "odd-items", "odd-hook"])
def test_odd_result_shapes_never_raise(tmp_path, garbage):
    env = {n: ok(n, garbage) for n in _results()}
    report = make_report(env, tmp_path)
    lanes = build_lanes(report)
    assert len(lanes) == 9 and not any("could not be drawn" in getattr(x, "why", "") for x in lanes)
    page = render(report)
    assert len(_rows(page)) == len(env) and EVIL not in page


def test_a_figure_plotly_rejects_leaves_the_page_with_a_note(full_report, monkeypatch):
    from runner.report import page as page_mod

    def broken(*a, **kw):
        raise ValueError("bad value")
    monkeypatch.setattr(page_mod, "figure", broken)
    page = render(full_report)
    assert "the timelines could not be drawn: ValueError: bad value" in page and "Plotly.newPlot" not in page
    assert len(_rows(page)) == len(full_report.analyzers)


def test_empty_report_renders_without_plotly(tmp_path):
    page = render(make_report({}, tmp_path))
    assert "No timeline can be drawn" in page and "Plotly.newPlot" not in page and len(page) < 50_000


# ---- the page ------------------------------------------------------------------
def test_page_is_self_contained(full_report):
    page = render(full_report)
    assert page.count(_plotly_js()[:200]) == 1                    # plotly's script inlined once
    assert not re.search(r"<script[^>]+src=|<link[^>]+stylesheet|@import|@font-face|url\(http", page)
    assert "cdn." not in page.replace(_plotly_js(), "")
    assert EVIL not in page and "&lt;script&gt;alert(1)" in page  # user text is text, in HTML and in plotly's JSON


def test_table_lists_every_analyzer_with_status_time_model_and_reason(tmp_path):
    res = _results()
    cache = CacheInfo(key="k" * 64, run_id="older-run", created_at=datetime.now(timezone.utc))
    env = {"cut_analysis": ok("cut_analysis", res["cut_analysis"]).model_copy(update={"cache": cache}),
           "audio_analysis": ok("audio_analysis", res["audio_analysis"]).model_copy(
               update={"degraded": True, "degraded_reasons": ["retried with fewer frames"]}),
           "toy_abort": failed("toy_abort", Status.crashed, "died with SIGABRT", fix="--set toy_abort.abort=false",
                               log_tail="Fatal Python error: Aborted"),
           "speech_flow": Envelope(analyzer="speech_flow", analyzer_version="1", status=Status.skipped,
                                   skip_reason=SkipReason.upstream_failed,
                                   error=ErrorInfo(type="upstream_failed", message="needs speech_transcription"))}
    page = render(make_report(env, tmp_path))
    assert _rows(page) == [("cut_analysis", "ok"), ("audio_analysis", "ok"), ("toy_abort", "crashed"),
                           ("speech_flow", "skipped")]
    row = {m.group(1): m.group(0) for m in re.finditer(r"<tr data-analyzer='(\w+)'.*?</tr>", page)}
    assert "cached</span>" in row["cut_analysis"] and "older-run" in row["cut_analysis"]
    assert "degraded" in row["audio_analysis"] and "retried with fewer frames" in row["audio_analysis"]
    assert "1.50 s" in row["audio_analysis"] and "audio_analysis-model" in row["audio_analysis"]
    assert "died with SIGABRT" in row["toy_abort"] and "--set toy_abort.abort=false" in row["toy_abort"]
    assert "Fatal Python error" in row["toy_abort"]
    assert "(upstream_failed)" in row["speech_flow"] and "needs speech_transcription" in row["speech_flow"]


def test_key_moments_hook_and_texts(full_report):
    page = render(full_report)
    moments = re.search(r"<table id=moments>.*?</table>", page).group(0)
    assert "2.50 s" in moments and "cut; speech starts" in moments
    assert "input eye_tracking not used: timeout: over 5s" in page and "inputs not selected in this run: body_pose" in page
    assert "<p id=transcript>Ask not what</p>" in page
    assert "A street with a bus." in page and "A man in a suit." in page


def test_write_html_is_atomic_and_links_its_json(full_report, tmp_path):
    out = write_html(full_report, tmp_path / "clip.html")
    page = out.read_text()
    assert out == tmp_path / "clip.html" and "href='clip.json'" in page
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_pack_rows_puts_overlapping_spans_on_separate_rows():
    assert pack_rows([(0, 2), (1, 3), (2, 4), (3.5, 5)]) == [0, 1, 0, 1]


# ---- thumbnails ----------------------------------------------------------------
def _jpeg_size(uri: str) -> tuple[int, int]:
    from PIL import Image

    assert uri.startswith("data:image/jpeg;base64,")
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).size


def test_one_keyframe_per_shot_at_most_max(tmp_path):
    res = _results()
    thumbs, notes = keyframes(make_report({"cut_analysis": ok("cut_analysis", res["cut_analysis"])}, tmp_path))
    assert [t.t for t in thumbs] == [1.25, 4.0, 7.75] and not notes
    n = 100
    cut = res["cut_analysis"].model_dump(mode="json")
    cut["shots"] = [{"index": i, "start": i * 0.1, "end": (i + 1) * 0.1} for i in range(n)]
    thumbs, notes = keyframes(make_report({"cut_analysis": ok("cut_analysis", cut)}, tmp_path))
    assert len(thumbs) == MAX_THUMBS and thumbs[0].caption.startswith("shot 0 ") and "99" in thumbs[-1].caption
    assert notes == [f"showing {MAX_THUMBS} of {n} shots, spread evenly"]


def test_thumbnails_from_the_input_video(tmp_path):
    (tmp_path / "input").mkdir()
    video = media.testsrc(tmp_path / "input" / "video.mp4", seconds=DUR, audio=False)  # the admitted copy
    report = make_report({"cut_analysis": ok("cut_analysis", _results()["cut_analysis"])}, tmp_path, video)
    s = strip(report)
    assert s.source.startswith("the input video") and not s.notes
    sizes = [_jpeg_size(t.data_uri) for t in s.thumbs]
    assert len(sizes) == 3 and all(w <= BOX[0] and h <= BOX[1] and max(w, h) >= 100 for w, h in sizes)
    page = render(report)
    assert page.count("<img src='data:image/jpeg;base64,") == 3


def test_thumbnails_fall_back_to_the_runs_frames_then_to_a_note(tmp_path, sample_video):
    report = make_report({}, tmp_path)      # no shots: frames spread over the video; the video is gone
    s = strip(report)
    assert all(t.data_uri is None for t in s.thumbs) and "thumbnails left out" in s.notes[-1]
    assert "shots not in this report: cut_analysis was not run" in s.notes[0]
    frames = tmp_path / "frames" / "sampled"
    frames.mkdir(parents=True)
    media.ffmpeg("-i", str(sample_video), "-vf", "fps=1", str(frames / "%06d.jpg"))
    files = sorted(p.name for p in frames.iterdir())
    (frames / "index.json").write_text(json.dumps({"name": "sampled", "fps": 1, "width": 360, "height": 640,
                                                   "gray": False, "frames": [{"i": i, "t": float(i), "file": f}
                                                                             for i, f in enumerate(files)]}))
    s = strip(report)
    assert s.source.startswith("the run's sampled frames") and all(t.data_uri for t in s.thumbs)
    assert all(w <= BOX[0] and h <= BOX[1] for w, h in (_jpeg_size(t.data_uri) for t in s.thumbs))


def test_thumbnails_never_reopen_the_users_path(tmp_path):
    """Only the run's workdir is read: a video at the report's input path (e.g. swapped in after
    the run, or outside the API's roots) never reaches the page."""
    outside = media.testsrc(tmp_path / "outside.mp4", seconds=DUR, audio=False)
    wd = tmp_path / "wd"
    wd.mkdir()
    report = make_report({}, wd, outside)
    s = strip(report)
    assert all(t.data_uri is None for t in s.thumbs) and "thumbnails left out" in s.notes[-1]
    assert not (wd / "tmp").exists() or not any((wd / "tmp").iterdir())


# ---- runner report -----------------------------------------------------------------
def test_runner_report_writes_the_page_beside_the_json(full_report, tmp_path):
    src = tmp_path / "run.json"
    src.write_text(full_report.model_dump_json())
    res = CliRunner().invoke(cli, ["report", str(src)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "run.html").is_file() and res.stdout.strip() == str(tmp_path / "run.html")
    res = CliRunner().invoke(cli, ["report", str(src), "-o", str(tmp_path / "x.html")])
    assert res.exit_code == 0 and (tmp_path / "x.html").read_text().startswith("<!doctype html>")


@pytest.mark.parametrize("content,expect", [(None, "no such report file"), ("{nope", "not JSON"),
                                            ('{"run": 1}', "not a runner report")])
def test_runner_report_rejects_a_missing_or_invalid_report(tmp_path, content, expect):
    src = tmp_path / "r.json"
    if content is not None:
        src.write_text(content)
    res = CliRunner().invoke(cli, ["report", str(src)])
    assert res.exit_code == 2
    first = res.stderr.splitlines()[0]
    assert first.startswith(f"error: {src}: {expect}") and "Traceback" not in res.output
    assert not (tmp_path / "r.html").exists()


def test_the_page_inlines_the_basic_plotly_bundle_of_the_installed_version():
    import plotly.offline

    from runner.report.page import VENDOR

    version = plotly.offline.get_plotlyjs_version()
    assert (VENDOR / f"plotly-basic-{version}.min.js").is_file(), (
        f"no basic bundle for plotly.js {version}: see {VENDOR / 'README.md'}")
    js = _plotly_js()
    assert f"plotly.js (basic - minified) v{version}" in js[:200] and len(js) < 1_500_000
