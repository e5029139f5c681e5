"""A helper in analyzers/common counts only for the analyzers that declare it (issue 17).

Editing ``loudness.py`` makes audio_analysis's image stale and its cached results unreachable, and
leaves cut_analysis's and object_detection's images ``built`` and their cache keys unchanged. All
on a copy of the parts of the checkout a digest reads: the real tree is never edited.
"""
from __future__ import annotations

import shutil
import types
from pathlib import Path

import docker.errors
import pytest

import runner.core.sources
from runner.backends.docker import LABEL, DockerBackend, image_name
from runner.backends.local import LocalBackend
from runner.cache.keys import RunCache
from runner.core.config import REPO_ROOT
from runner.core.errors import RegistryError
from runner.core.registry import Entry, load_registry
from runner.core.sources import image_files, source_digest

NAMES = ("audio_analysis", "cut_analysis", "object_detection")  # loudness; no helper; boxes, stride, yolo


@pytest.fixture
def checkout(tmp_path) -> Path:
    """The SDK, the helpers, the schema, the analyzer Dockerfile and three analyzers, copied."""
    root = tmp_path / "repo"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for f in ("analyzers/__init__.py", "analyzers/base.py", "analyzers/harness.py",
              "images/Dockerfile.analyzer", "images/pip-install.sh"):
        (root / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / f, root / f)
    for d in ("analyzers/common", "shared_schema", *(f"analyzers/{n}" for n in NAMES)):
        shutil.copytree(REPO_ROOT / d, root / d, ignore=ignore)
    return root


def _edit(path: Path) -> None:
    path.write_text(path.read_text() + "\n# edited\n")


def _digests(root: Path) -> dict[str, str]:
    registry = load_registry([root / "analyzers"])
    return {n: source_digest(registry[n], root=root) for n in NAMES}


def test_a_helper_changes_only_the_digests_of_its_declarers(checkout):
    before = _digests(checkout)
    _edit(checkout / "analyzers/common/loudness.py")
    after = _digests(checkout)
    assert after["audio_analysis"] != before["audio_analysis"]
    assert after["cut_analysis"] == before["cut_analysis"]
    assert after["object_detection"] == before["object_detection"]

    _edit(checkout / "analyzers/common/boxes.py")
    again = _digests(checkout)
    assert again["object_detection"] != after["object_detection"]
    assert again["audio_analysis"] == after["audio_analysis"] and again["cut_analysis"] == after["cut_analysis"]

    (checkout / "analyzers/common/brand_new.py").write_text("X = 1\n")  # declared by nobody yet
    assert _digests(checkout) == again


def test_only_declared_helpers_enter_the_build_context(checkout):
    registry = load_registry([checkout / "analyzers"])
    shipped = {n: sorted(arc for _, arc in image_files(registry[n], root=checkout) if "/common/" in arc)
               for n in NAMES}
    assert shipped["cut_analysis"] == ["analyzers/common/__init__.py"]
    assert shipped["audio_analysis"] == ["analyzers/common/__init__.py", "analyzers/common/loudness.py"]
    assert shipped["object_detection"] == ["analyzers/common/__init__.py", "analyzers/common/boxes.py",
                                           "analyzers/common/stride.py", "analyzers/common/yolo.py"]


def test_an_undeclarable_helper_is_an_error_naming_it(checkout):
    entry = load_registry([checkout / "analyzers"])["cut_analysis"]
    bad = Entry(entry.manifest.model_copy(update={"helpers": ["no_such_helper"]}), entry.path)
    with pytest.raises(RegistryError) as err:
        source_digest(bad, root=checkout)
    assert "no_such_helper" in err.value.message and "loudness" in err.value.fix


class _Images:
    """Images labelled with the digests they were built from."""

    def __init__(self, labels: dict[str, str]):
        self.labels = labels

    def get(self, tag):
        if tag not in self.labels:
            raise docker.errors.ImageNotFound(tag)
        return types.SimpleNamespace(id=f"sha256:{tag}", labels={f"{LABEL}.source-digest": self.labels[tag]})


def _cache_key(entry: Entry, identity) -> str:
    cache = RunCache(store=None, input_sha256="0" * 64, frame_specs={}, identity=identity)
    return cache.key(entry, params={}, device="cpu", upstream={})


def test_image_status_and_cache_keys_follow_only_declared_helpers(checkout, monkeypatch, tmp_path):
    """Through the backends, as `runner list` and the result cache see it."""
    monkeypatch.setattr(runner.core.sources, "REPO_ROOT", checkout)
    registry = load_registry([checkout / "analyzers"])
    built = {image_name("p", registry[n]): source_digest(registry[n]) for n in NAMES}
    keys_before = {n: _cache_key(registry[n], LocalBackend(tmp_path / "envs", checkout).identity) for n in NAMES}

    _edit(checkout / "analyzers/common/loudness.py")
    docker_backend = DockerBackend(types.SimpleNamespace(images=_Images(built)), "p", registry)
    assert docker_backend.image_status(list(NAMES)) == {
        "audio_analysis": "stale", "cut_analysis": "built", "object_detection": "built"}
    keys_after = {n: _cache_key(registry[n], LocalBackend(tmp_path / "envs", checkout).identity) for n in NAMES}
    assert keys_after["audio_analysis"] != keys_before["audio_analysis"]
    assert keys_after["cut_analysis"] == keys_before["cut_analysis"]
    assert keys_after["object_detection"] == keys_before["object_detection"]
