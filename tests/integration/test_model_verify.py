"""Store models are checked against their declared sha256 before the job that loads them is launched.

A copy of a real store model (the shared assets' YOLOv8n TFLite) in a temporary store, declared by
a toy; one flipped byte makes that toy ``failed`` with ``ModelChecksumMismatch`` while the others
run. The check is remembered by file identity, so a rerun hashes nothing.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from runner.models import verify as model_verify
from runner.run.pipeline import AnalyzeRequest, analyze
from runner.core.registry import load_registry
from shared_schema.checksum import sha256_path
from tests import media
from tests.conftest import TOYS, require_assets

MODEL_REL = "yolov8n_int8_tflite/yolov8n_full_integer_quant.tflite"
MODEL_SHA = "5469a1079dfd35ab4ee681806542ea2668b85aa4b31a2b96a971543fe1ed9414"


def _store(tmp_path: Path) -> Path:
    src = media.MODELS / MODEL_REL
    require_assets(src)
    store = tmp_path / "store"
    (store / MODEL_REL).parent.mkdir(parents=True)
    shutil.copy2(src, store / MODEL_REL)
    return store


def _toy_with_model(tmp_path: Path) -> Path:
    """toy_good under another name, declaring the store model (required, with its sha256)."""
    root = tmp_path / "toys"
    shutil.copytree(TOYS / "toy_good", root / "toy_model")
    toml = (root / "toy_model" / "analyzer.toml").read_text().replace('name = "toy_good"', 'name = "toy_model"')
    toml += (f'\n[[models]]\nname = "yolov8n-int8-tflite"\npath = "{MODEL_REL}"\nsha256 = "{MODEL_SHA}"\n'
             'source = "a copy of the shared store model"\nfix = "copy it from ../shared/assets/models"\n')
    (root / "toy_model" / "analyzer.toml").write_text(toml)
    return root


def _run(settings, video, store, toys, use_cache=True):
    s = settings.with_(analyzers_dirs=(toys, TOYS), models_dir=store, backend="local")
    registry = load_registry(s.analyzers_dirs, include_test_only=True)
    return analyze(AnalyzeRequest(source=str(video), only=["toy_model", "toy_good"], backend="local",
                                  use_cache=use_cache), s, registry=registry)


def test_a_tampered_store_model_fails_only_its_analyzer(settings, tmp_path, sample_video):
    model_verify.clear_memo()
    store, toys = _store(tmp_path), _toy_with_model(tmp_path)
    good = _run(settings, sample_video, store, toys).report
    assert good.analyzers["toy_model"].status.value == "ok", good.analyzers["toy_model"].error
    cache_file = settings.cache_dir / model_verify.CACHE_NAME
    assert MODEL_SHA in cache_file.read_text()  # remembered for the next run and process

    path = store / MODEL_REL
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    bad = _run(settings, sample_video, store, toys, use_cache=False).report
    env = bad.analyzers["toy_model"]
    assert env.status.value == "failed" and env.error.type == "ModelChecksumMismatch"
    assert str(path) in env.error.message and MODEL_SHA in env.error.message
    assert sha256_path(path) in env.error.message
    assert "runner models status --verify" in env.error.fix
    assert env.attempts == []  # never launched: the analyzer never saw the file
    assert bad.analyzers["toy_good"].status.value == "ok"


def test_verification_is_remembered_by_file_identity(tmp_path, capsys):
    """First check hashes; the second (same process, or a new one reading the cache file) does not."""
    from shared_schema.manifest import ModelRequirement

    store = tmp_path / "store"
    store.mkdir()
    big = store / "big.bin"
    with open(big, "wb") as fh:
        for i in range(64):
            fh.write(bytes([i]) * (1 << 20))
    m = ModelRequirement(name="big", path="big.bin", sha256=sha256_path(big), source="test")
    cache_file = tmp_path / "cache" / model_verify.CACHE_NAME
    model_verify.clear_memo()
    t0 = time.perf_counter()
    assert model_verify.verify([m], store, cache_file) == []
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    assert model_verify.verify([m], store, cache_file) == []
    memo = time.perf_counter() - t0
    model_verify.clear_memo()  # as a new process: only the cache file
    t0 = time.perf_counter()
    assert model_verify.verify([m], store, cache_file) == []
    from_file = time.perf_counter() - t0
    with capsys.disabled():
        print(f"\nmodel verify 64 MiB: first {first * 1000:.1f} ms, again {memo * 1000:.3f} ms, "
              f"new process (cache file) {from_file * 1000:.2f} ms")
    assert memo < first / 20 and from_file < first / 5

    # a rewrite of the same size keeps nothing: the identity (mtime/ctime) changed, so it is hashed again
    with open(big, "r+b") as fh:
        fh.seek(5)
        fh.write(b"\xff")
    bad = model_verify.verify([m], store, cache_file)
    assert len(bad) == 1 and bad[0].actual == sha256_path(big) and bad[0].expected == m.sha256
