"""speech_emotion's arousal on made prosody, and what it does not measure (issues 26 and 27).

Arousal is a hand-weighted prosody score (docs/analyzers-scores.md): these tests check that it
moves the way its cues say it should on speech whose prosody is made (espeak-ng: amplitude,
rate and pitch set per sentence), and that a segment with no frames, or over digital silence,
or with a single cue, gets no invented level or arousal.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from runner.core.config import REPO_ROOT
from shared_schema.envelope import Status
from shared_schema.results.speech import SpeechEmotion
from tests.conftest import require_env
from tests.media import ffmpeg

#: (name, espeak-ng flags, text): one sentence each, 1.2 s of silence between them
SENTENCES = [
    ("base", ["-a", "40", "-s", "120", "-p", "35"], "The weather report says it may rain later today."),
    ("louder", ["-a", "180", "-s", "120", "-p", "35"], "We will walk down to the river after lunch."),
    ("faster", ["-a", "40", "-s", "260", "-p", "35"], "She put the green books back on the shelf again."),
    ("higher", ["-a", "40", "-s", "120", "-p", "85"], "The train leaves the station at half past nine."),
    ("excited", ["-a", "180", "-s", "260", "-p", "85"], "Look at that, the whole crowd is on its feet now."),
]


@pytest.fixture(scope="module")
def prosody_video(tmp_path_factory) -> Path:
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng not installed (apt-get install espeak-ng)")
    d = tmp_path_factory.mktemp("prosody")
    wavs = []
    for name, flags, text in SENTENCES:
        wavs.append(d / f"{name}.wav")
        subprocess.run(["espeak-ng", "-v", "en-us", *flags, "-w", str(wavs[-1]), text], check=True)
    n = len(wavs)
    gaps = "".join(f"anullsrc=r=22050:cl=mono,atrim=0:1.2[g{i}];" for i in range(n - 1))
    chain = "".join(f"[{i + 1}:a]" + (f"[g{i}]" if i < n - 1 else "") for i in range(n))
    graph = f"{gaps}{chain}concat=n={2 * n - 1}:v=0:a=1[a]"
    path = d / "prosody.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=black:size=320x240:rate=10", *[a for w in wavs for a in ("-i", str(w))],
           "-filter_complex", graph, "-map", "0:v", "-map", "[a]", "-shortest", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path))
    return path


@pytest.fixture(scope="module")
def by_sentence(prosody_video, tmp_path_factory) -> dict:
    from runner.core.config import Settings
    from tests.conftest import ANALYZERS, run_analyzers

    settings = Settings.from_env().with_(analyzers_dirs=(ANALYZERS,), backend="local",
                                         work_root=tmp_path_factory.mktemp("runs"))
    require_env(settings, "audio")
    env = run_analyzers(settings, prosody_video, ["speech_transcription", "speech_emotion"]) \
        .report.analyzers["speech_emotion"]
    assert env.status is Status.ok, env.error
    emo = SpeechEmotion.model_validate(env.result)
    out = {}
    for (name, _, _), key in zip(SENTENCES, ("rain", "river", "shelf", "train", "feet")):
        seg = [s for s in emo.segments if re.search(rf"\b{key}\b", (s.text or "").lower())]
        assert len(seg) == 1, (name, [s.text for s in emo.segments])
        out[name] = seg[0]
    return out


@pytest.mark.parametrize("name, cue", [("louder", "voiced_energy"), ("faster", "speaking_rate"),
                                       ("higher", "pitch_level")])
def test_arousal_moves_with_made_prosody(by_sentence, name, cue):
    """Louder, faster or higher-pitched made speech than the base sentence: that cue is higher, and so
    is the arousal; every segment used all four cues, and its arousal is their mean."""
    base, other = by_sentence["base"], by_sentence[name]
    assert set(other.arousal_cues) == set(base.arousal_cues) == {"voiced_energy", "pitch_variability",
                                                                   "speaking_rate", "pitch_level"}
    assert other.arousal_cues[cue] > base.arousal_cues[cue] + 0.1, (base.arousal_cues, other.arousal_cues)
    assert other.arousal > base.arousal + 0.02, (base, other)


def test_loud_fast_high_speech_is_the_most_aroused(by_sentence):
    excited = by_sentence["excited"]
    assert all(excited.arousal > s.arousal for n, s in by_sentence.items() if n != "excited")
    assert excited.arousal_label in ("medium", "high") and by_sentence["base"].arousal_label == "low"


_SEGMENTS = """
import numpy as np
from analyzers.speech_emotion.analyzer import Analyzer, NO_FRAMES
from analyzers.speech_emotion._prosody import SR, pitch_track
t = np.arange(SR) / SR
x = np.zeros(2 * SR)
x[:SR] = 0.1 * np.sin(2 * np.pi * (150 * t + 3 * np.sin(2 * np.pi * 2 * t)))  # 1 s of a voice-like tone
f0, power = pitch_track(x)
a = Analyzer()
a.clf = None
past = a._segment(x, f0, power, 150.0, (3.0, 3.5, "gone", 1), None)       # after the end of the track
assert past.energy_dbfs is None and past.not_measured["energy_dbfs"] == NO_FRAMES, past
assert past.voiced_ratio is None and past.arousal is None and past.arousal_label is None, past
quiet = a._segment(x, f0, power, 150.0, (1.2, 1.9, "three words here", 3), None)  # digital silence
assert quiet.energy_dbfs is None and "digital silence" in quiet.not_measured["energy_dbfs"], quiet
assert quiet.voiced_ratio == 0.0 and list(quiet.arousal_cues) == ["speaking_rate"], quiet
assert quiet.arousal is None and quiet.not_measured["arousal"].startswith("1 of the arousal cues"), quiet
tone = a._segment(x, f0, power, 150.0, (0.1, 0.9, "a voiced bit", 3), None)
assert set(tone.arousal_cues) == {"voiced_energy", "pitch_variability", "speaking_rate", "pitch_level"}, tone
assert abs(tone.energy_dbfs - 20 * np.log10(0.1 / np.sqrt(2))) < 0.5, tone   # a sine's RMS: -23 dBFS
print("ok")
"""


def test_segments_without_frames_or_sound_get_no_level_and_no_arousal(settings):
    """Issue 27: a segment past the end of the track had energy -120 dBFS, one over digital silence
    -200 dBFS, and each an arousal from its speaking rate alone."""
    require_env(settings, "audio")
    proc = subprocess.run([str(settings.envs_dir / "audio" / "bin" / "python"), "-c", _SEGMENTS],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
