"""``runner envs build`` warms an environment the way the image build does: each analyzer's warmup.py."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from runner.backends import envs
from runner.core.config import REPO_ROOT
from runner.core.errors import RunnerError
from runner.core.registry import Entry, load_registry


def _env(tmp_path: Path) -> Path:
    envs_dir = tmp_path / "envs"
    (envs_dir / "cpu/bin").mkdir(parents=True)
    os.symlink(sys.executable, envs_dir / "cpu/bin/python")
    return envs_dir


def _analyzer(tmp_path: Path, script: str) -> dict[str, Entry]:
    real = load_registry([REPO_ROOT / "analyzers"])["audio_analysis"]
    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "warmup.py").write_text(script)
    return {"audio_analysis": Entry(real.manifest, folder)}


def test_warm_runs_warmup_with_numba_cache_beside_the_library(tmp_path, monkeypatch):
    out = tmp_path / "seen.txt"
    reg = _analyzer(tmp_path, f"import os; open({str(out)!r}, 'w').write(os.environ.get('NUMBA_CACHE_DIR', 'unset'))")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "elsewhere"))
    said = []
    assert envs.warm(reg, "cpu", _env(tmp_path), echo=said.append) == ["audio_analysis"]
    assert out.read_text() == "unset"  # numba caches where the local analyzer reads it (beside librosa)
    assert said and said[0].startswith("warmed audio_analysis")
    assert envs.warm(reg, "torch", _env(tmp_path / "x"), echo=said.append) == []  # other groups: nothing


def test_a_failing_warmup_is_an_error_naming_it(tmp_path):
    reg = _analyzer(tmp_path, "raise SystemExit('numba exploded')")
    with pytest.raises(RunnerError, match="warmup of audio_analysis failed.*numba exploded"):
        envs.warm(reg, "cpu", _env(tmp_path), echo=lambda s: None)


def test_the_real_audio_analysis_ships_a_warmup():
    assert (REPO_ROOT / "analyzers/audio_analysis/warmup.py").is_file()
