"""A model chosen by param is hashed by the host, keyed on and recorded; the API takes declared ones only (issue 23).

``toy_model_param`` reads the store file its ``model`` param names (the SDK's ``store_model``, as
object_detection and body_pose do). Before: a param could name any store file, unverified and
outside the cache key, so other bytes under the same name were served from the cache. Now the
host hashes the file before launch (remembered by file identity), the sha256 is in the cache key
and in the envelope (whatever the sandbox claims), and the API refuses undeclared models.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from runner.models import verify as model_verify
from runner.core.params import ParamError, ResourceBounds, from_options, parse_sets, store_params
from runner.core.registry import load_registry
from runner.run.pipeline import AnalyzeRequest, analyze
from tests.conftest import ANALYZERS, TOYS

TOY = "toy_model_param"


@pytest.fixture
def store(tmp_path) -> Path:
    root = tmp_path / "store"
    for rel, text in (("toy/weights.txt", "declared weights\n"), ("other/evil.txt", "undeclared weights v1\n"),
                      ("toy-extra/big.txt", "in a declared folder\n")):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.fixture
def registry():
    return load_registry([TOYS], include_test_only=True)


def _run(settings, video, store, registry, **params):
    s = settings.with_(analyzers_dirs=(TOYS,), models_dir=store, backend="local")
    return analyze(AnalyzeRequest(source=str(video), only=[TOY], backend="local", params={TOY: params}),
                   s, registry=registry).report.analyzers[TOY]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_chosen_file_is_hashed_into_the_envelope_whatever_the_sandbox_claims(settings, sample_video, store,
                                                                                registry):
    model_verify.clear_memo()
    env = _run(settings, sample_video, store, registry, model="other/evil.txt", claim="0" * 64)
    assert env.status.value == "ok" and env.result["message"] == "undeclared weights v1", env.error
    runner_rows = [m for m in env.models if m.name == f"{TOY}.model=other/evil.txt"]
    assert [m.sha256 for m in runner_rows] == [_sha(store / "other/evil.txt")]
    assert "taken by the runner" in runner_rows[0].source
    assert any(m.sha256 == "0" * 64 for m in env.models)   # the sandbox's own claim stays as its claim


def test_other_bytes_under_the_same_name_are_another_result(settings, sample_video, store, registry):
    model_verify.clear_memo()
    first = _run(settings, sample_video, store, registry, model="other/evil.txt")
    assert first.cache is None and first.result["message"] == "undeclared weights v1"
    again = _run(settings, sample_video, store, registry, model="other/evil.txt")
    assert again.cache is not None                                   # same bytes: reused
    (store / "other/evil.txt").write_text("undeclared weights v2, swapped in\n")
    swapped = _run(settings, sample_video, store, registry, model="other/evil.txt")
    assert swapped.cache is None, "served from the cache for other bytes"
    assert swapped.result["message"] == "undeclared weights v2, swapped in"
    assert _sha(store / "other/evil.txt") in {m.sha256 for m in swapped.models}


def test_the_hash_is_remembered_by_file_identity(settings, sample_video, store, registry, monkeypatch):
    model_verify.clear_memo()
    _run(settings, sample_video, store, registry, model="other/evil.txt", claim="x")
    hashed: list[Path] = []
    real = model_verify.sha256_path
    monkeypatch.setattr(model_verify, "sha256_path", lambda p: (hashed.append(p), real(p))[1])
    model_verify.clear_memo()                         # a new process: only the file cache remains
    _run(settings, sample_video, store, registry, model="other/evil.txt", claim="y")
    assert hashed == []
    os.utime(store / "other/evil.txt", None)          # touched: hashed again
    _run(settings, sample_video, store, registry, model="other/evil.txt", claim="z")
    assert hashed == [store / "other/evil.txt"]


def test_the_api_takes_declared_models_only_the_cli_any_store_path(registry):
    api = ResourceBounds(declared_models_only=True)
    for ok in ("toy/weights.txt", "toy-extra/big.txt", "toy-extra/sub/x.bin"):
        assert from_options({f"{TOY}.model": ok}, registry, api)[TOY]["model"] == ok
    with pytest.raises(ParamError) as err:
        from_options({f"{TOY}.model": "other/evil.txt"}, registry, api)
    assert "not a model toy_model_param declares" in err.value.message
    assert parse_sets([f"{TOY}.model=other/evil.txt"], registry)[TOY]["model"] == "other/evil.txt"
    for bad in ("/etc/passwd", "../../etc/passwd", "toy/../../x", "toy-extra/../../../etc/shadow"):
        for check in (lambda v: from_options({f"{TOY}.model": v}, registry, api),
                      lambda v: parse_sets([f"{TOY}.model={v}"], registry)):
            with pytest.raises(ParamError, match="inside the model store"):
                check(bad)


def test_the_rule_names_exactly_the_shipped_store_model_params():
    """Which shipped params name a path in the store (the SDK's store_model, speech's folders)."""
    shipped = load_registry([ANALYZERS])
    found = {(n, p) for n, e in shipped.items() for p in store_params(e.manifest)}
    assert found == {("object_detection", "model"), ("body_pose", "model"), ("speech_transcription", "model"),
                     ("speech_transcription", "language_id_model")}
    api = ResourceBounds(declared_models_only=True)
    assert from_options({"object_detection.model": "ultralytics/yolov8n.pt"}, shipped, api)
    with pytest.raises(ParamError):
        from_options({"speech_transcription.model": "faster-whisper-small"}, shipped, api)
    assert from_options({"qwen2_vl_temporal.model": "qwen2-vl-7b"}, shipped, api)   # choices: declared already
