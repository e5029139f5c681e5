"""What an analyzer is built from, as one digest: its folder, the SDK, the helpers it declares, the schema it uses.

The image build labels each image with it (``runner list`` says stale when they
differ) and the result cache keys local-backend results on it. A helper in
``analyzers/common`` counts only for the analyzers whose manifest declares it
(``helpers = [...]``): editing one leaves every other analyzer's image and cached
results valid.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from runner.core.config import REPO_ROOT
from runner.core.errors import RegistryError
from runner.core.registry import Entry

IMAGES = REPO_ROOT / "images"
SDK_FILES = ("analyzers/__init__.py", "analyzers/base.py", "analyzers/harness.py")
#: the shared helpers; an image holds this folder's ``__init__.py`` and the helpers its analyzer declares
COMMON = "analyzers/common"


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


def helper_files(entry: Entry, root: Path | None = None) -> list[Path]:
    """``analyzers/common/__init__.py`` and the modules (or sub-packages) of the declared helpers."""
    common = (root or REPO_ROOT) / COMMON
    out = [common / "__init__.py"]
    for name in entry.manifest.helpers:
        if (common / f"{name}.py").is_file():
            out.append(common / f"{name}.py")
        elif (common / name / "__init__.py").is_file():
            out.extend(_files(common / name))
        else:
            raise RegistryError(f"{entry.path / 'analyzer.toml'}: helper {name!r} is not in {COMMON}",
                                fix="helpers = [...] names modules of analyzers/common: "
                                    + ", ".join(sorted(p.stem for p in common.glob("[a-z]*.py"))))
    return out


def image_files(entry: Entry, root: Path | None = None) -> list[tuple[Path, str]]:
    """The SDK and the declared helpers: (file, its path in the build context and under /app)."""
    root = root or REPO_ROOT
    return [(root / f, f) for f in SDK_FILES] + [(p, p.relative_to(root).as_posix())
                                                 for p in helper_files(entry, root)]


_RESULTS_RE = re.compile(r"shared_schema\.results\.(\w+)|from shared_schema\.results import ([\w, ]+)")


def _schema_sources(entry: Entry, root: Path) -> list[Path]:
    """The shared_schema files an analyzer depends on: the core, its result module, what it imports.

    Other result modules are in the image too, but a change there does not change this analyzer.
    """
    schema = root / "shared_schema"
    modules = {"__init__", "common", entry.manifest.result.split(":")[0].rsplit(".", 1)[1]}
    for p in _files(entry.path):
        if p.suffix == ".py":
            for a, b in _RESULTS_RE.findall(p.read_text(errors="replace")):
                modules.update([a] if a else [x.strip() for x in b.split(",")])
    return ([p for p in sorted(schema.glob("*.py"))]
            + [schema / "results" / f"{m}.py" for m in sorted(modules) if (schema / "results" / f"{m}.py").is_file()])


def source_digest(entry: Entry, root: Path | None = None) -> str:
    """Digest of what an analyzer image is built from; a different one means the image is stale.

    ``root``: the checkout the SDK, helpers, schema and Dockerfile are read from (default: this one).
    """
    root = root or REPO_ROOT
    h = hashlib.sha256()
    images = root / "images"
    srcs = [*_files(entry.path), *_schema_sources(entry, root), *(p for p, _ in image_files(entry, root)),
            images / "Dockerfile.analyzer", images / "pip-install.sh"]
    for p in srcs:
        where = p.relative_to(entry.path) if p.is_relative_to(entry.path) else p.relative_to(root)
        h.update(where.as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]
