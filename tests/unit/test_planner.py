"""Planner: selection, layering, cycles, static skips. Pure, no I/O beyond building manifests."""
import pytest

from runner.core.errors import PlanError
from runner.run.planner import Facts, layer, plan, select
from runner.core.registry import Entry
from shared_schema.envelope import SkipReason
from shared_schema.manifest import Manifest, ModelRequirement


def entry(name, after=(), needs=(), audio=False, device="cpu", final=False, models=()):
    m = Manifest(name=name, version="1.0.0", description="x", result="shared_schema.results.testing:ToyResult",
                 after=list(after), needs=list(needs), final=final, models=list(models),
                 inputs={"audio": audio}, resources={"device": device})
    return Entry(m, path=None)


@pytest.fixture
def reg():
    es = [entry("cut"), entry("scene", needs=["cut"]), entry("cam", after=["cut"]),
          entry("speech", audio=True), entry("flow", needs=["speech"]),
          entry("vlm", device="gpu_required"), entry("cross", final=True)]
    return {e.name: e for e in es}


def test_layers_follow_dependencies_and_final_last(reg):
    stages = layer(reg, sorted(reg))
    assert stages[0] == ["cut", "speech", "vlm"]
    assert stages[1] == ["cam", "flow", "scene"]
    assert stages[-1] == ["cross"]


def test_only_pulls_in_hard_needs_not_soft_after(reg):
    assert select(reg, only=["scene"]) == ["cut", "scene"]
    assert select(reg, only="cam") == ["cam"]
    assert select(reg, only=["flow,cam"]) == ["cam", "flow", "speech"]


def test_skip_removes_and_dependents_are_skipped_with_reason(reg):
    p = plan(reg, Facts(), skip=["cut"])
    assert "cut" not in p.selected
    assert p.skipped["scene"].reason is SkipReason.upstream_failed
    assert "cut" in p.skipped["scene"].message
    assert "cam" in p.runnable  # soft dependency: still runs


def test_unknown_names_are_an_error_naming_them(reg):
    with pytest.raises(PlanError) as exc:
        select(reg, only=["nope", "cut"], skip=["zzz"])
    assert exc.value.names == ["nope", "zzz"]


def test_cycle_is_an_error_naming_members():
    es = {e.name: e for e in [entry("aa", after=["bb"]), entry("bb", needs=["cc"]), entry("cc", after=["aa"]), entry("dd")]}
    with pytest.raises(PlanError) as exc:
        layer(es, sorted(es))
    assert exc.value.names == ["aa", "bb", "cc"]


def test_no_audio_skips_audio_analyzers_and_their_dependents(reg):
    p = plan(reg, Facts(has_audio=False))
    assert p.skipped["speech"].reason is SkipReason.no_audio
    assert p.skipped["flow"].reason is SkipReason.upstream_failed


def test_gpu_required_without_gpu_is_skipped_and_gets_gpu_when_present(reg):
    assert plan(reg, Facts()).skipped["vlm"].reason is SkipReason.needs_gpu
    p = plan(reg, Facts(gpus=("0",)))
    assert p.runnable["vlm"].device == "cuda:0"
    assert p.runnable["cut"].device == "cpu"


def test_missing_model_skips_with_fix():
    es = {"det": entry("det", models=[ModelRequirement(name="yolo", path="y.pt", source="s", fix="put it there")])}
    p = plan(es, Facts(missing_models={"det": [("yolo", "put it there")]}))
    assert p.skipped["det"].reason is SkipReason.model_absent
    assert p.skipped["det"].fix == "put it there"
