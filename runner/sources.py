"""What an analyzer is built from, as one digest: its folder, the SDK, the schema it uses.

The image build labels each image with it (``runner list`` says stale when they
differ) and the result cache keys local-backend results on it.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from runner.config import REPO_ROOT
from runner.registry import Entry

IMAGES = REPO_ROOT / "images"
SDK_FILES = ("analyzers/__init__.py", "analyzers/base.py", "analyzers/harness.py")
#: shared analyzer helpers, copied into every image beside the SDK
SDK_DIRS = ("analyzers/common",)


def _files(root: Path):
    for p in sorted(root.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc":
            yield p


def _rel(entry: Entry) -> str:
    """The analyzer folder's path in the build context: repo-relative, or ``external/<name>``."""
    try:
        return entry.path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return f"external/{entry.name}"


_RESULTS_RE = re.compile(r"shared_schema\.results\.(\w+)|from shared_schema\.results import ([\w, ]+)")


def _schema_sources(entry: Entry) -> list[Path]:
    """The shared_schema files an analyzer depends on: the core, its result module, what it imports.

    Other result modules are in the image too, but a change there does not change this analyzer.
    """
    schema = REPO_ROOT / "shared_schema"
    modules = {"__init__", "common", entry.manifest.result.split(":")[0].rsplit(".", 1)[1]}
    for p in _files(entry.path):
        if p.suffix == ".py":
            for a, b in _RESULTS_RE.findall(p.read_text(errors="replace")):
                modules.update([a] if a else [x.strip() for x in b.split(",")])
    return ([p for p in sorted(schema.glob("*.py"))]
            + [schema / "results" / f"{m}.py" for m in sorted(modules) if (schema / "results" / f"{m}.py").is_file()])


def source_digest(entry: Entry) -> str:
    """Digest of what an analyzer image is built from; a different one means the image is stale."""
    h = hashlib.sha256()
    srcs = [*_files(entry.path), *_schema_sources(entry), *(REPO_ROOT / f for f in SDK_FILES),
            *(p for d in SDK_DIRS for p in _files(REPO_ROOT / d)),
            IMAGES / "Dockerfile.analyzer", IMAGES / "pip-install.sh"]
    for p in srcs:
        where = p.relative_to(entry.path) if p.is_relative_to(entry.path) else p.relative_to(REPO_ROOT)
        h.update(where.as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]
