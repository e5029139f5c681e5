"""The import contracts in .importlinter hold: no cycles between the runner's modules, the host never
imports analyzer code, analyzers never import the runner, shared_schema imports nothing of ours, and
the runner's packages form layers that only point down (the core imports no command-line or HTTP
adapter; the sandboxes import no feature). A new cycle or a forbidden arrow fails here."""
from __future__ import annotations

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
    ("shared_schema/oops.py", "import runner.config\n", "shared_schema imports nothing of ours BROKEN"),
    ("runner/run/oops.py", "import runner.api.app\n", "then the base) BROKEN"),
    ("runner/backends/oops.py", "import runner.run.pipeline\n", "then the base) BROKEN"),
    ("runner/models/oops.py", "import runner.commands.main\n", "then the base) BROKEN"),
], ids=["schema-imports-runner", "core-imports-api", "sandbox-imports-pipeline", "feature-imports-cli"])
def test_a_forbidden_arrow_is_caught(tmp_path, where, code, broken):
    """The check can fail: a copy of the contracts run against a tree with one forbidden arrow added
    reports the broken contract (the real tree is not touched)."""
    import shutil as sh

    for pkg in ("runner", "analyzers", "shared_schema"):
        sh.copytree(ROOT / pkg, tmp_path / pkg, ignore=sh.ignore_patterns("__pycache__", "vendor"))
    (tmp_path / where).write_text(code)
    proc = subprocess.run([_lint_imports(), str(ROOT / ".importlinter")], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert proc.returncode != 0 and broken in proc.stdout, proc.stdout[-3000:]
