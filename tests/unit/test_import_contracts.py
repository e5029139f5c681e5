"""The import contracts in .importlinter hold: no cycles between the runner's modules, the host never
imports analyzer code, analyzers never import the runner, shared_schema imports nothing of ours, the
runner's packages form layers that only point down (the core imports no command-line or HTTP
adapter; the sandboxes import no feature), the modules the fetch image copies import nothing else,
media never imports the downloader, and the base imports no feature. A new cycle or a forbidden
arrow fails here."""
from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _lint_imports() -> str:
    exe = Path(sys.executable).with_name("lint-imports")
    if exe.is_file():
        return str(exe)
    found = shutil.which("lint-imports")
    if not found:
        pytest.fail("import-linter is not installed: pip install -e '.[test]'")
    return found


def test_import_contracts_are_kept():
    proc = subprocess.run([_lint_imports(), str(ROOT / ".importlinter")], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


@pytest.mark.parametrize("where, code, broken", [
    ("shared_schema/oops.py", "import runner.core.config\n", "shared_schema imports nothing of ours BROKEN"),
    ("runner/run/oops.py", "import runner.api.app\n", "then the base) BROKEN"),
    ("runner/backends/oops.py", "import runner.run.pipeline\n", "then the base) BROKEN"),
    ("runner/models/oops.py", "import runner.commands.main\n", "then the base) BROKEN"),
    ("runner/download/core.py", "import runner.core.config\n", "import nothing else of ours BROKEN"),
    ("runner/download/egress.py", "import shared_schema.media\n", "import nothing else of ours BROKEN"),
    ("runner/media/oops.py", "import runner.download.fetch\n", "media never imports the downloader BROKEN"),
    ("runner/core/config.py", "import runner.media.probe\n", "the base modules import no feature package BROKEN"),
    ("runner/core/registry.py", "import runner.backends.envs\n", "the base modules import no feature package BROKEN"),
    ("runner/core/errors.py", "import runner.core.config\n", "settings over the registry over errors BROKEN"),
], ids=["schema-imports-runner", "core-imports-api", "sandbox-imports-pipeline", "feature-imports-cli",
        "fetch-image-imports-config", "fetch-image-imports-schema", "media-imports-download",
        "base-imports-media", "base-imports-envs", "errors-import-config"])
def test_a_forbidden_arrow_is_caught(tmp_path, where, code, broken):
    """The check can fail: a copy of the contracts run against a tree with one forbidden arrow added
    reports the broken contract (the real tree is not touched)."""
    import shutil as sh

    for pkg in ("runner", "analyzers", "shared_schema"):
        sh.copytree(ROOT / pkg, tmp_path / pkg, ignore=sh.ignore_patterns("__pycache__", "vendor"))
    with (tmp_path / where).open("a") as f:  # a new module, or one more import in an existing one
        f.write(code)
    proc = subprocess.run([_lint_imports(), str(ROOT / ".importlinter")], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert proc.returncode != 0 and broken in proc.stdout, proc.stdout[-3000:]


def _fetch_image_copies() -> set[str]:
    """The runner modules images/Dockerfile.fetch copies, as dotted names (package __init__s left out)."""
    text = (ROOT / "images" / "Dockerfile.fetch").read_text().replace("\\\n", " ")
    files = {f for line in text.splitlines() if line.startswith("COPY") for f in line.split()[1:-1]}
    return {f[:-3].replace("/", ".") for f in files if re.fullmatch(r"runner/[\w/]+\.py", f)
            and not f.endswith("__init__.py")}


def test_the_fetch_image_contract_follows_its_dockerfile():
    """The fetch image's contract names exactly the modules Dockerfile.fetch copies as its sources, and
    every other module of the runner (one level down, and inside runner.core and runner.download) as forbidden; a
    module added to the runner or to the COPY list without the contract fails here."""
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / ".importlinter")
    contract = cfg["importlinter:contract:fetch-image-is-closed"]
    sources = set(contract["source_modules"].split())
    forbidden = set(contract["forbidden_modules"].split()) - {"shared_schema", "analyzers"}
    copied = _fetch_image_copies()
    assert sources == copied, (sources, copied)
    from runner.images.runner_images import FETCH  # the files the image's digest covers: the same list

    assert {f[:-3].replace("/", ".") for f in FETCH.copies if not f.endswith("__init__.py")} == copied
    pkg = ROOT / "runner"
    opened = ("core", "download")  # the packages the image copies modules of: each of their modules listed
    everything = {f"runner.{p.stem}" for p in pkg.glob("*.py") if p.stem != "__init__"}
    everything |= {f"runner.{p.name}" for p in pkg.iterdir() if (p / "__init__.py").is_file() and p.name not in opened}
    everything |= {f"runner.{sub}.{p.stem}" for sub in opened for p in (pkg / sub).glob("*.py") if p.stem != "__init__"}
    assert forbidden == everything - copied, (forbidden ^ (everything - copied))
