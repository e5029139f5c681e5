"""Params through the real entry points (issue 17): the CLI, ``runner batch``, the API; and every
documented example (README, docs/*.md, the OpenAPI spec) is accepted."""
from __future__ import annotations

import json
import re

import pytest

from runner.core.config import REPO_ROOT
from runner.core.params import from_options, parse_sets
from runner.core.registry import load_registry
from tests.integration.test_api import ApiServer
from tests.integration.test_cli import cli

ANALYZERS = REPO_ROOT / "analyzers"
REAL = {"RUNNER_ANALYZERS_DIR": str(ANALYZERS), "RUNNER_TEST_ANALYZERS": ""}
DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
PLACEHOLDERS = {"name", "NAME"}  # `--set name.key=value` in a usage line


def _one_error(stderr: str) -> str:
    assert "Traceback" not in stderr
    errors = [ln for ln in stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, stderr
    return errors[0]


# -- the CLI --------------------------------------------------------------------------------------
def test_a_typo_in_set_exits_2_naming_the_real_params(sample_video, tmp_path):
    p = cli("analyze", str(sample_video), "--set", "cut_analysis.treshold=1",
            env_extra={**REAL, "RUNNER_WORK_ROOT": str(tmp_path / "w")})
    assert p.returncode == 2, p.stderr
    assert "no param 'treshold'" in _one_error(p.stderr)
    assert "cut_ratio (float 1..20)" in p.stderr and "chroma_every (int 1..300)" in p.stderr
    assert not (tmp_path / "w").exists() or not any((tmp_path / "w").iterdir())  # nothing ran


@pytest.mark.parametrize("pair, words", [
    ("cut_analysis.cut_ratio=three", 'cut_analysis.cut_ratio (float 1..20): expected a number, got "three"'),
    ("cut_analysis.cut_ratio=50", "cut_analysis.cut_ratio (float 1..20): 50 is above the maximum 20"),
    ("qwen2_vl_temporal.dtype=fp8", "not one of auto, half, float32, float16, bfloat16"),
], ids=["bad-type", "out-of-range", "not-a-choice"])
def test_a_bad_value_exits_2(sample_video, tmp_path, pair, words):
    p = cli("analyze", str(sample_video), "--set", pair, env_extra={**REAL, "RUNNER_WORK_ROOT": str(tmp_path / "w")})
    assert p.returncode == 2, p.stderr
    assert words in _one_error(p.stderr)


def test_batch_checks_set_before_any_video_starts(sample_video, tmp_path):
    out = tmp_path / "out"
    p = cli("batch", str(sample_video), "--serial", "-q", "--out", str(out), "--set", "cut_analysis.treshold=1",
            env_extra={**REAL, "RUNNER_WORK_ROOT": str(tmp_path / "w")})
    assert p.returncode == 2, p.stderr
    assert "no param 'treshold'" in _one_error(p.stderr) and "cut_ratio" in p.stderr
    assert not (out / "summary.jsonl").exists()


def test_list_name_shows_the_params():
    p = cli("list", "cut_analysis", env_extra=REAL)
    assert p.returncode == 0, p.stderr
    assert "cut_ratio" in p.stdout and "float 1..20, default 3.0" in p.stdout
    assert "hard cut: motion-compensated frame difference" in p.stdout
    rows = json.loads(cli("list", "text_overlay", "--json", env_extra=REAL).stdout)
    assert rows[0]["params"][0] == {"name": "languages", "type": "list[str]", "default": ["en"], "min": None,
                                    "max": None, "choices": ["en", "zh"], "description": rows[0]["params"][0]["description"]}
    assert cli("list", "cut_analysys", env_extra=REAL).returncode == 2


# -- every documented example --------------------------------------------------------------------
def doc_sets() -> list[tuple[str, str]]:
    """(file, NAME.KEY=VALUE) of every concrete ``--set`` in the README and docs/."""
    found = []
    for path in DOCS:
        for m in re.finditer(r"--set[ =]([A-Za-z_]\w*)\.(\w+)=([^\s`'\\]+)", path.read_text()):
            if m.group(1) not in PLACEHOLDERS:
                found.append((path.name, f"{m.group(1)}.{m.group(2)}={m.group(3)}"))
    return found


def doc_bodies() -> list[tuple[str, dict]]:
    """(file, body) of every JSON request body (``-d '{...}'``) and ``"options": {...}`` in the docs."""
    found = []
    for path in DOCS:
        text = path.read_text()
        for m in re.finditer(r"-d '(\{.*?\})'", text, re.S):
            found.append((path.name, json.loads(m.group(1))))
        for m in re.finditer(r'"options":\s*(\{[^{}]*\})', text):
            found.append((path.name, {"options": json.loads(m.group(1))}))
    return found


def test_every_documented_set_is_accepted():
    registry = load_registry([ANALYZERS])
    examples = doc_sets()
    assert len(examples) >= 6, examples  # README, docs/models.md, docs/batch.md hold some
    for where, pair in examples:
        parse_sets([pair], registry)  # raises ParamError naming the example if the docs drifted
    bodies = doc_bodies()
    assert any("options" in b for _, b in bodies), bodies
    for where, body in bodies:
        from_options(body.get("options"), registry)


@pytest.fixture(scope="module")
def api_server(tmp_path_factory):
    """``--role api`` with the real analyzers: it validates and queues, and runs nothing."""
    srv = ApiServer(tmp_path_factory.mktemp("params_api"), analyzers_dirs=[ANALYZERS], args=("--role", "api")).start()
    yield srv
    srv.cleanup()


@pytest.fixture(scope="module")
def api(api_server):
    with api_server.client() as c:
        yield c


def _openapi_examples(spec: dict) -> list[dict]:
    """Every example body of POST /analyze in the server's own OpenAPI spec."""
    schema = spec["components"]["schemas"]["AnalyzeBody"]
    media = spec["paths"]["/analyze"]["post"].get("requestBody", {}).get("content", {}).get("application/json", {})
    found = list(schema.get("examples", [])) + ([schema["example"]] if "example" in schema else [])
    found += [e.get("value", e) for e in media.get("examples", {}).values()]
    return found


def test_every_documented_request_is_accepted_by_the_app(api_server, api):
    video = str(api_server.video())
    examples = _openapi_examples(api.get("/openapi.json").json())
    assert any("options" in e for e in examples), examples
    bodies = [("openapi", e) for e in examples] + [(w, b) for w, b in doc_bodies() if "options" in b or
                                                  "video_path" in b or "tiktok_url" in b]
    assert len(bodies) >= 4
    for where, body in bodies:
        if "video_path" in body or not body.get("tiktok_url"):
            body = {k: v for k, v in body.items() if k != "tiktok_url"} | {"video_path": video}
        r = api.post("/analyze", json=body)
        assert r.status_code == 202, (where, body, r.text)


def test_the_api_answers_a_bad_option_with_422_and_the_same_facts(api_server, api):
    video = str(api_server.video())
    cases = {"cut_analysis.treshold": 1, "cut_analysis.cut_ratio": "4", "cut_analysis.min_shot_s": 99.0}
    words = {"cut_analysis.treshold": "no param 'treshold'", "cut_analysis.cut_ratio": "expected a number",
             "cut_analysis.min_shot_s": "99 is above the maximum 10"}
    for key, value in cases.items():
        r = api.post("/analyze", json={"video_path": video, "options": {key: value}})
        assert r.status_code == 422, r.text
        err = r.json()["error"]
        assert err["code"] == "bad_option" and words[key] in err["message"], err
        assert "cut_ratio (float 1..20)" in err["fix"], err


def test_get_analyzers_shows_the_declarations(api):
    views = {a["name"]: a for a in api.get("/analyzers").json()}
    assert len(views) >= 19
    cut = views["cut_analysis"]["params"]["cut_ratio"]
    assert cut == {"type": "float", "default": 3.0, "min": 1.0, "max": 20.0, "choices": None,
                   "description": "hard cut: motion-compensated frame difference this many times its neighbourhood"}
    assert views["qwen2_vl_temporal"]["params"]["dtype"]["choices"][:2] == ["auto", "half"]
