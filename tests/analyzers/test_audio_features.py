"""audio_analysis on made audio whose truth is known (click track, inserted silence) and real speech."""
from __future__ import annotations

import math
import wave
from array import array
from pathlib import Path

import pytest

from shared_schema.results.audio_features import AudioAnalysisResult
from tests.conftest import require_env
from tests.media import MEDIA, ffmpeg

SR = 22050  # the host test environment has no numpy: samples are made in plain Python


def _wav(path: Path, y: list[float]) -> Path:
    pcm = array("h", (int(max(-1.0, min(1.0, v)) * 32767) for v in y))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())
    return path


def _worst_miss(found: list[float], truth: list[float]) -> float:
    """How far the reported time furthest from any true time lies from it."""
    return max(min(abs(f - t) for t in truth) for f in found)


def _with_video(audio: Path, out: Path, seconds: float) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=180x320:rate=15:duration={seconds}", "-i", str(audio),
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-b:a", "160k", "-shortest", str(out))
    return out


def click_track(folder: Path, bpm: float = 120, seconds: float = 8, first: float = 0.25):
    """A click (1 kHz, 20 ms, fast decay) on every beat from ``first``; returns video, beat times."""
    y = [0.0] * int(SR * seconds)
    beats = [first + k * 60 / bpm for k in range(int((seconds - 0.05 - first) * bpm / 60) + 1)]
    click = [0.8 * math.sin(2 * math.pi * 1000 * i / SR) * math.exp(-i / SR / 0.004)
             for i in range(int(0.02 * SR))]
    for b in beats:
        i = int(round(b * SR))
        y[i:i + len(click)] = click
    return _with_video(_wav(folder / "click.wav", y), folder / "click.mp4", seconds), beats


def _ok(outcome) -> AudioAnalysisResult:
    env = outcome.report.analyzers["audio_analysis"]
    assert env.status.value == "ok", (env.error, env.log_tail)
    return AudioAnalysisResult.model_validate(env.result)


def test_click_track_tempo_and_beats(run, settings, tmp_path):
    require_env(settings, "cpu")
    video, truth = click_track(tmp_path, bpm=120)
    res = _ok(run(video, ["audio_analysis"]))
    assert res.rhythm.tempo_bpm is not None and abs(res.rhythm.tempo_bpm - 120) <= 2
    beats = res.rhythm.beat_times
    assert len(beats) >= len(truth) - 3
    # every reported beat sits on a click (one hop is 16 ms; AAC adds a little)
    assert _worst_miss(beats, truth) < 0.04
    assert res.rhythm.beat_regularity > 0.9
    assert 1.8 <= res.rhythm.onset_density_per_s <= 2.2
    # between clicks the track is digital silence: found as such
    assert len(res.silent_segments) >= 10


def test_other_tempo(run, settings, tmp_path):
    """A second tempo, so a tracker that always answered 120 would fail."""
    require_env(settings, "cpu")
    video, truth = click_track(tmp_path, bpm=100, seconds=9)
    res = _ok(run(video, ["audio_analysis"]))
    assert abs(res.rhythm.tempo_bpm - 100) <= 2
    assert len(res.rhythm.beat_times) >= len(truth) - 3
    assert _worst_miss(res.rhythm.beat_times, truth) < 0.04


def test_inserted_silence_and_loudness(run, settings, tmp_path):
    require_env(settings, "cpu")
    y = [0.0 if 1.5 * SR <= i < 2.5 * SR else 0.5 * math.sin(2 * math.pi * 440 * i / SR)
         for i in range(4 * SR)]
    video = _with_video(_wav(tmp_path / "gap.wav", y), tmp_path / "gap.mp4", 4)
    res = _ok(run(video, ["audio_analysis"]))
    assert len(res.silent_segments) == 1
    gap = res.silent_segments[0]
    assert abs(gap.start - 1.5) < 0.05 and abs(gap.end - 2.5) < 0.05
    assert 0.2 < res.silent_fraction < 0.3
    # a 440 Hz sine of amplitude 0.5: mean square 0.125 -> -9.7 LUFS (K-weighting ~0 dB at 440 Hz);
    # the gated measure ignores the silence, the plain RMS over 4 s does not: 10*log10(0.125*0.75)
    assert -10.5 < res.loudness.integrated_lufs_approx < -9.0
    assert abs(res.loudness.rms_dbfs - (-10.28)) < 0.5
    assert -7 < res.loudness.peak_dbfs <= 0
    during = [p for p in res.loudness_series if 1.6 < p.t < 2.4]
    assert during and all(p.rms_dbfs < -60 for p in during)
    tone = [p for p in res.spectral_series if p.t < 1.4]
    assert all(abs(p.centroid_hz - 440) < 80 for p in tone)
    assert all(p.flatness < 0.05 for p in tone)


def test_digital_silence_is_reported_not_invented(run, settings, tmp_path):
    require_env(settings, "cpu")
    video = _with_video(_wav(tmp_path / "zero.wav", [0.0] * (3 * SR)), tmp_path / "zero.mp4", 3)
    res = _ok(run(video, ["audio_analysis"]))
    assert res.rhythm.tempo_bpm is None and res.rhythm.beat_times == []
    assert res.rhythm.tempogram_bpm is None
    assert res.loudness.integrated_lufs_approx is None
    # nulls, not the -120 dB floor or a spectrum of nothing (issue 16); the silence itself is measured
    assert res.loudness.peak_dbfs is None and res.loudness.rms_dbfs is None and res.spectral is None
    assert "digital silence" in res.not_measured["loudness.peak_dbfs"]
    assert "below silence_threshold_dbfs" in res.not_measured["spectral"]
    assert "rhythm.tempo_bpm" in res.not_measured
    assert len(res.silent_segments) == 1 and res.silent_fraction > 0.95


def test_no_audio_stream_is_skipped(run, settings, silent_video):
    require_env(settings, "cpu")
    env = run(silent_video, ["audio_analysis"]).report.analyzers["audio_analysis"]
    assert env.status.value == "skipped"


@pytest.mark.slow
def test_real_speech(run, settings, assets, tmp_path):
    """jfk.flac (11 s of real speech with pauses): speech-band spectrum, pauses found, sane loudness."""
    require_env(settings, "cpu")
    video = _with_video(MEDIA / "jfk.flac", tmp_path / "jfk.mp4", 11)
    res = _ok(run(video, ["audio_analysis"]))
    assert 300 < res.spectral.centroid_hz < 3000
    assert res.spectral.flatness < 0.3
    assert -40 < res.loudness.integrated_lufs_approx < -10
    assert res.rhythm.onset_density_per_s > 1   # syllables
    assert len(res.loudness_series) == 22       # 0.5 s steps over 11 s


def test_all_three_classical_analyzers_on_the_sample_clip(run, settings, sample_video):
    """The 4 s 9:16 test pattern with a steady 440 Hz tone: one run, every result ok and right."""
    require_env(settings, "cpu")
    outcome = run(sample_video, ["audio_analysis", "color_analysis", "content_quality"])
    envs = {n: outcome.report.analyzers[n] for n in ("audio_analysis", "color_analysis", "content_quality")}
    assert all(e.status.value == "ok" for e in envs.values()), {n: e.error for n, e in envs.items()}
    audio = AudioAnalysisResult.model_validate(envs["audio_analysis"].result)
    assert audio.silent_segments == []
    assert abs(audio.spectral.centroid_hz - 440) < 60
    assert audio.loudness.integrated_lufs_approx is not None
    assert envs["content_quality"].result["aspect_label"] == "9:16"
