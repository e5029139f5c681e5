"""`[inputs] audio_optional = true`: runs on a silent video, still gets the track when there is one (issue 16)."""
import pytest
from pydantic import ValidationError

from runner.run.planner import Facts, plan
from runner.core.registry import Entry
from shared_schema.envelope import SkipReason
from shared_schema.manifest import Inputs, Manifest


def entry(name, **inputs):
    m = Manifest(name=name, version="1.0.0", description="x", result="shared_schema.results.testing:ToyResult",
                 inputs=inputs)
    return Entry(m, path=None)


@pytest.fixture
def reg():
    es = [entry("needs_audio", audio=True), entry("may_use_audio", audio=True, audio_optional=True),
          entry("video_only")]
    return {e.name: e for e in es}


def test_optional_audio_is_not_skipped_on_a_silent_video(reg):
    p = plan(reg, Facts(has_audio=False))
    assert p.skipped["needs_audio"].reason is SkipReason.no_audio
    assert "may_use_audio" in p.runnable and "needs_audio" not in p.runnable


def test_optional_audio_is_still_extracted_when_present(reg):
    p = plan(reg, Facts(has_audio=True))
    assert {"needs_audio", "may_use_audio"} <= set(p.runnable)
    only = {"may_use_audio": reg["may_use_audio"], "video_only": reg["video_only"]}
    assert plan(only, Facts(has_audio=True)).needs_audio(only) is True
    assert plan({"video_only": reg["video_only"]}, Facts(has_audio=True)).needs_audio(
        {"video_only": reg["video_only"]}) is False


def test_optional_without_audio_is_invalid():
    with pytest.raises(ValidationError, match="audio_optional = true needs audio = true"):
        Inputs(audio_optional=True)


def test_temporal_flow_declares_it():
    from runner.core.config import REPO_ROOT
    from shared_schema.manifest import load_manifest

    m = load_manifest(REPO_ROOT / "analyzers" / "temporal_flow" / "analyzer.toml")
    assert m.inputs.audio and m.inputs.audio_optional
