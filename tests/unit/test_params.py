"""Params as a contract (issue 17): declarations in analyzer.toml, the one resolver, the harness's check."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner.core.config import REPO_ROOT
from runner.core.params import ParamError, ResourceBounds, check_params, from_options, job_params, parse_sets
from runner.core.registry import load_registry
from shared_schema.manifest import ManifestError, load_manifest
from shared_schema.params import ParamSpec, Params, ParamValueError, resolve_params

TOYS = REPO_ROOT / "tests" / "toy_analyzers"
REGISTRY = load_registry([REPO_ROOT / "analyzers", TOYS], include_test_only=True)

MANIFEST = '''
name = "demo_an"
version = "1.0.0"
description = "d"
result = "shared_schema.results.testing:ToyResult"
'''


def spec(**kw) -> ParamSpec:
    return ParamSpec(**{"description": "d", **kw})


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "demo_an").mkdir()
    path = tmp_path / "demo_an" / "analyzer.toml"
    path.write_text(MANIFEST + text)
    return path


# -- declarations -------------------------------------------------------------------------------
def test_every_analyzer_declares_its_params_with_a_type_default_and_description():
    names = [n for n, e in REGISTRY.items() if not e.manifest.test_only]
    assert len(names) >= 19
    declared = {n: REGISTRY[n].manifest.params for n in names}
    assert sum(len(p) for p in declared.values()) > 100
    for name, params in declared.items():
        for key, s in params.items():
            assert s.description.strip() and "\n" not in s.description, (name, key)
            assert s.check(s.default) == s.default, (name, key)
            if s.type in ("float", "int"):
                assert s.min is not None or s.max is not None, f"{name}.{key}: a number needs a range"
    cut = declared["cut_analysis"]["cut_ratio"]
    assert (cut.type, cut.default, cut.min, cut.max) == ("float", 3.0, 1.0, 20.0)


@pytest.mark.parametrize("text, field", [
    ("[params]\nx = 1\n", "params"),
    ('[params.x]\ntype = "float"\ndefault = 1.0\n', "params.x.description"),
    ('[params.x]\ntype = "double"\ndefault = 1.0\ndescription = "d"\n', "params.x.type"),
    ('[params.x]\ntype = "float"\ndefault = 30.0\nmax = 20.0\ndescription = "d"\n', "params.x"),
    ('[params.x]\ntype = "str"\ndefault = "a"\nmin = 1.0\ndescription = "d"\n', "params.x"),
    ('[params.x]\ntype = "int"\ndefault = 1.5\ndescription = "d"\n', "params.x"),
    ('[params.x]\ntype = "str"\ndefault = "c"\nchoices = ["a", "b"]\ndescription = "d"\n', "params.x"),
    ('[params.timeout_s]\ntype = "float"\ndefault = 1.0\ndescription = "d"\n', "params"),
    ('[params.x]\ntype = "int"\ndefault = 1\ndescription = "d"\n[retry]\non = ["oom"]\noverrides = [{ y = 2 }]\n',
     "(top level)"),
    ('[params.x]\ntype = "int"\ndefault = 1\nmin = 1\ndescription = "d"\n[retry]\non = ["oom"]\n'
     'overrides = [{ x = 0 }]\n', "(top level)"),
], ids=["plain-value", "no-description", "unknown-type", "default-out-of-range", "range-on-a-string",
        "float-default-of-an-int", "default-not-a-choice", "resource-key-as-name", "override-undeclared",
        "override-out-of-range"])
def test_bad_declarations_name_the_field(tmp_path, text, field):
    path = write(tmp_path, text)
    with pytest.raises(ManifestError) as exc:
        load_manifest(path)
    assert str(path) in str(exc.value) and f"`{field}" in str(exc.value), str(exc.value)


def test_check_and_parse_by_type():
    f = spec(type="float", default=1.0, min=0.0, max=2.0)
    assert f.check(1) == 1.0 and isinstance(f.check(1), float) and f.parse("0.5") == 0.5
    for bad in (True, "1", None, 2.5, float("nan")):
        with pytest.raises(ValueError):
            f.check(bad)
    i = spec(type="int", default=1, min=1)
    assert i.parse("3") == 3
    for bad in ("3.0", "x", "0"):
        with pytest.raises(ValueError):
            i.parse(bad)
    with pytest.raises(ValueError):
        i.check(2.0)
    b = spec(type="bool", default=True)
    assert b.parse("false") is False and b.parse("TRUE") is True
    with pytest.raises(ValueError):
        b.parse("1")
    s = spec(type="str", default="auto", choices=["auto", "half"])
    assert s.parse("half") == "half" and s.parse('"half"') == "half"
    with pytest.raises(ValueError, match="not one of auto, half"):
        s.parse("full")
    free = spec(type="str", default="")
    assert free.parse("") == "" and free.parse("ultralytics/yolov8n.pt") == "ultralytics/yolov8n.pt"
    assert free.parse("null") == "null" and free.parse("42") == "42"
    lst = spec(type="list[str]", default=["en"], choices=["en", "de"])
    assert lst.parse("en,de") == ["en", "de"] and lst.parse('["de"]') == ["de"]
    with pytest.raises(ValueError):
        lst.parse("fr")


def test_resolve_fills_defaults_types_values_and_refuses_undeclared():
    specs = REGISTRY["cut_analysis"].manifest.params
    p = resolve_params(specs, {"cut_ratio": 4, "chroma_every": 10})
    assert p.cut_ratio == 4.0 and isinstance(p.cut_ratio, float) and p.chroma_every == 10 and p.cut_min == 0.06
    assert p["min_shot_s"] == 0.25 and dict(p) == {**{k: s.default for k, s in specs.items()},
                                                   "cut_ratio": 4.0, "chroma_every": 10}
    with pytest.raises(AttributeError):
        p.cut_ratio = 5.0
    with pytest.raises(AttributeError, match="no param 'treshold'"):
        p.treshold
    with pytest.raises(ParamValueError, match="'treshold'.*not declared.*cut_ratio"):
        resolve_params(specs, {"treshold": 1})
    with pytest.raises(ParamValueError, match="'cut_ratio'"):
        resolve_params(specs, {"cut_ratio": "4"})
    assert Params() == {} and Params({"a": 1}) == {"a": 1}


# -- the resolver --------------------------------------------------------------------------------
def test_typo_names_the_valid_params_and_their_types():
    with pytest.raises(ParamError) as exc:
        parse_sets(["cut_analysis.treshold=1"], REGISTRY)
    e = exc.value
    assert e.exit_code == 2 and (e.analyzer, e.param) == ("cut_analysis", "treshold")
    assert "cut_analysis has no param 'treshold'" in e.message
    assert "cut_ratio (float 1..20)" in e.fix and "chroma_every (int 1..300)" in e.fix and "timeout_s" in e.fix


@pytest.mark.parametrize("pair, words", [
    ("cut_analysis.cut_rati=4", "did you mean 'cut_ratio'"),
    ("cut_analsis.cut_ratio=4", "did you mean 'cut_analysis'"),
    ("cut_analysis.cut_ratio=abc", "expected a number"),
    ("cut_analysis.cut_ratio=50", "50 is above the maximum 20"),
    ("cut_analysis.chroma_every=2.5", "expected a whole number"),
    ("qwen2_vl_temporal.dtype=float64", "not one of auto, half"),
    ("speech_transcription.vad_filter=maybe", "expected true or false"),
    ("cut_analysis.cut_ratio", "expected NAME.KEY=VALUE"),
    ("cut_ratio=4", "expected NAME.KEY"),
    ("cut_analysis.timeout_s=-1", "above 0"),
    ("cut_analysis.memory=lots", "not a memory size"),
])
def test_bad_sets_are_usage_errors(pair, words):
    with pytest.raises(ParamError, match=words):
        parse_sets([pair], REGISTRY)


def test_sets_are_typed_and_resource_keys_still_work():
    got = parse_sets(["cut_analysis.cut_ratio=4", "cut_analysis.timeout_s=600", "cut_analysis.memory=2g",
                      "cut_analysis.cpus=2", "text_overlay.languages=en", "speech_transcription.verbatim=false",
                      "object_detection.model=ultralytics/yolov8n.pt", "speech_transcription.language="], REGISTRY)
    assert got == {"cut_analysis": {"cut_ratio": 4.0, "timeout_s": 600.0, "memory": "2g", "cpus": 2.0},
                   "text_overlay": {"languages": ["en"]},
                   "speech_transcription": {"verbatim": False, "language": ""},
                   "object_detection": {"model": "ultralytics/yolov8n.pt"}}
    # the job spec gets every declared param, never a resource key
    job = job_params(REGISTRY["cut_analysis"].manifest, got["cut_analysis"])
    assert job["cut_ratio"] == 4.0 and job["cut_min"] == 0.06 and "timeout_s" not in job


def test_options_and_code_params_go_through_the_same_checks():
    bounds = ResourceBounds(min_memory=16 * 2**20, max_memory=2**30, max_cpus=4, max_timeout_s=3600)
    assert from_options({"cut_analysis.cut_ratio": 4, "cut_analysis.timeout_s": 60}, REGISTRY, bounds) == \
        {"cut_analysis": {"cut_ratio": 4.0, "timeout_s": 60.0}}
    for bad in ({"cut_analysis.cut_ratio": "4"}, {"cut_analysis.timeout_s": 1e9}, {"cut_analysis.memory": "8g"},
                {"cut_analysis.cpus": True}, {"cut_analysis.treshold": 1}):
        with pytest.raises(ParamError):
            from_options(bad, REGISTRY, bounds)
    assert check_params({"toy_good": {"greeting": "hi", "timeout_s": 90}}, REGISTRY) == \
        {"toy_good": {"greeting": "hi", "timeout_s": 90.0}}
    with pytest.raises(ParamError, match="toy_good has no param 'greting'"):
        check_params({"toy_good": {"greting": "hi"}}, REGISTRY)


# -- the harness checks the job spec again -------------------------------------------------------
def _harness(tmp_path: Path, params: dict, overrides: dict | None = None) -> dict:
    job = {"run_id": "r", "analyzer": "toy_good", "analyzer_version": "1.0.0",
           "result": "shared_schema.results.testing:ToyResult", "params": params, "overrides": overrides or {}}
    (tmp_path / "job.json").write_text(json.dumps(job))
    (tmp_path / "out").mkdir(exist_ok=True)
    p = subprocess.run([sys.executable, "-m", "analyzers.harness", "--analyzer-dir", str(TOYS / "toy_good"),
                        "--input", str(tmp_path), "--job", "job.json", "--out", str(tmp_path / "out")],
                       capture_output=True, text=True, cwd=REPO_ROOT, timeout=60,
                       env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert (tmp_path / "out" / "result.json").is_file(), p.stderr
    return json.loads((tmp_path / "out" / "result.json").read_text())


@pytest.mark.parametrize("params, overrides, words", [
    ({"greeting": 5}, None, "expected a string"),
    ({"greeting": "hi", "__class__": "x"}, None, "not declared"),
    ({"greeting": "hi"}, {"greeting": ["x"]}, "expected a string"),
], ids=["wrong-type", "undeclared", "bad-override"])
def test_a_hostile_job_spec_cannot_hand_an_analyzer_a_wrong_param(tmp_path, params, overrides, words):
    env = _harness(tmp_path, params, overrides)
    assert env["status"] == "failed" and env["error"]["type"] == "ParamValueError", env
    assert words in env["error"]["message"]
