"""The one model checksum (shared_schema.checksum) and the SDK helper that records it (ctx.use_model_file)."""
from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from analyzers.base import Context
from shared_schema import checksum
from shared_schema.checksum import folder_manifest, model_digest, sha256_path
from shared_schema.job import JobSpec


@pytest.fixture
def folder(tmp_path) -> Path:
    """An export-like folder: two files at the top, one in a subfolder."""
    root = tmp_path / "pose_openvino_model"
    (root / "sub").mkdir(parents=True)
    (root / "model.xml").write_bytes(b"<net/>\n")
    (root / "model.bin").write_bytes(bytes(range(256)) * 5000)
    (root / "sub" / "metadata.yaml").write_text("batch: 1\n")
    return root


def test_a_file_is_the_sha256_of_its_bytes(tmp_path):
    f = tmp_path / "w.onnx"
    f.write_bytes(b"weights" * 1000)
    assert sha256_path(f) == hashlib.sha256(f.read_bytes()).hexdigest()


def test_a_folder_is_the_digest_of_what_sha256sum_prints(folder):
    """The documented shell command gives the same digest (docs/models.md)."""
    cmd = "find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum"
    shell = subprocess.run(["bash", "-c", cmd], cwd=folder, capture_output=True, text=True, check=True)
    assert sha256_path(folder) == shell.stdout.split()[0]
    assert [rel for rel, _ in folder_manifest(folder)] == ["model.bin", "model.xml", "sub/metadata.yaml"]


def test_names_count_not_only_bytes(folder):
    """Renaming a file, or moving bytes from one file to the next, changes a folder's digest (the
    concatenation of the files' bytes it replaced did not notice either)."""
    before = sha256_path(folder)
    (folder / "model.xml").rename(folder / "model2.xml")
    renamed = sha256_path(folder)
    assert renamed != before
    (folder / "model2.xml").rename(folder / "model.xml")
    assert sha256_path(folder) == before
    xml, meta = (folder / "model.xml").read_bytes(), (folder / "sub" / "metadata.yaml").read_bytes()
    (folder / "model.xml").write_bytes(xml + meta[:3])
    (folder / "sub" / "metadata.yaml").write_bytes(meta[3:])
    assert sha256_path(folder) != before


def test_model_digest_hashes_once_per_identity_and_again_after_a_change(folder, monkeypatch):
    calls = []
    real = checksum.file_sha256
    monkeypatch.setattr(checksum, "file_sha256", lambda p: calls.append(p) or real(p))
    first = model_digest(folder)
    assert first == sha256_path(folder) and len(calls) == 3 + 3  # hashed, plus the check above
    calls.clear()
    assert model_digest(folder) == first and calls == []  # remembered: same files, same identity
    with open(folder / "model.bin", "ab") as fh:
        fh.write(b"\0")  # changed in place: size, mtime and ctime differ
    changed = model_digest(folder)
    assert changed != first and len(calls) == 3


def test_use_model_file_records_what_it_hashed(folder, tmp_path):
    job = JobSpec(run_id="r", analyzer="x", analyzer_version="1", result="shared_schema.results.common:Span")
    ctx = Context(job=job, input_root=tmp_path, models_root=None)
    digest = ctx.use_model_file("pose", "model store: pose_openvino_model/", folder)
    single = ctx.use_model_file("xml", "model store: pose_openvino_model/model.xml", folder / "model.xml")
    assert [(m.name, m.source, m.sha256) for m in ctx.models_used] == [
        ("pose", "model store: pose_openvino_model/", digest), ("xml", "model store: pose_openvino_model/model.xml",
                                                                single)]
    assert digest == sha256_path(folder) and single == hashlib.sha256(b"<net/>\n").hexdigest()
