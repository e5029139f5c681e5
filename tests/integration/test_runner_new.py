"""`runner new NAME` writes an analyzer that passes its own test, the contract tests and the image
build as written. All in a copy of the checkout: the real tree never gets the new analyzer."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from runner.core.config import REPO_ROOT, Settings
from tests.conftest import require_env
from tests.integration.test_docker_sandbox import docker_client  # noqa: F401 (fixture)

NAME = "demo_thing"
#: what a checkout holds besides environments, caches and git
SOURCES = ("analyzers", "runner", "shared_schema", "tests", "images", "compose", "docs",
           "pyproject.toml", "Makefile", "README.md", "models.mk", ".importlinter")
WRITTEN = [f"analyzers/{NAME}/{f}" for f in ("__init__.py", "analyzer.toml", "analyzer.py", "requirements.txt")] + [
    f"shared_schema/results/{NAME}.py", f"tests/analyzers/test_{NAME}.py"]


def _copy_checkout(dest: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".cache", "wheels", ".pytest_cache", ".hypothesis")
    for name in SOURCES:
        src = REPO_ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore, symlinks=True)
        elif src.is_file():
            shutil.copy2(src, dest / name)
    return dest


def _env() -> dict[str, str]:
    """The copy's own runner (cwd first on sys.path), this checkout's environments."""
    return {**os.environ, "RUNNER_ENVS_DIR": str(Settings.from_env().envs_dir), "PYTHONDONTWRITEBYTECODE": "1"}


def _runner(root: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runner.commands.main", *args], cwd=root, env=_env(),
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """A copy of the checkout with `runner new demo_thing` run in it."""
    root = _copy_checkout(tmp_path_factory.mktemp("checkout"))
    made = _runner(root, "new", NAME)
    assert made.returncode == 0, made.stderr
    return root


def test_new_writes_the_analyzer_its_result_model_and_a_test(checkout):
    for rel in WRITTEN:
        assert (checkout / rel).is_file(), rel
    assert f"\n  {NAME}:\n" in (checkout / "compose/build.yaml").read_text()  # regenerated for the new one
    toml = (checkout / f"analyzers/{NAME}/analyzer.toml").read_text()
    assert '[params.threshold]\ntype = "float"\ndefault = 0.5\nmin = 0.0\nmax = 1.0\ndescription = "' in toml
    listed = _runner(checkout, "list", NAME)
    assert listed.returncode == 0 and "threshold" in listed.stdout, listed.stderr


@pytest.mark.parametrize("name,why", [("Bad-Name", "not a usable analyzer name"), ("harness", "not a usable"),
                                      ("class", "not a usable"), ("x", "not a usable"),
                                      (NAME, "exists already"), ("cut_analysis", "exists already"),
                                      ("speech", "shared_schema/results/speech.py")])
def test_new_refuses_a_bad_or_taken_name_and_writes_nothing(checkout, name, why):
    before = sorted(p for p in checkout.rglob("*") if "__pycache__" not in p.parts)
    refused = _runner(checkout, "new", name)
    assert refused.returncode == 2 and why in refused.stderr and "Traceback" not in refused.stderr, refused.stderr
    assert sorted(p for p in checkout.rglob("*") if "__pycache__" not in p.parts) == before


@pytest.mark.slow
def test_the_new_analyzer_passes_its_test_and_the_contract_unchanged(checkout, settings):
    require_env(settings, "cpu")
    tests = [f"tests/analyzers/test_{NAME}.py", "tests/contract", "tests/unit/test_compose_build_file.py",
             "tests/unit/test_import_contracts.py"]
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests], cwd=checkout,
                          env=_env(), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert f"test_{NAME}.py" in proc.stdout or " passed" in proc.stdout


@pytest.mark.docker
@pytest.mark.slow
def test_the_new_analyzer_image_builds_and_runs_in_a_container(checkout, docker_client):  # noqa: F811
    import docker

    tag = f"{Settings.from_env().image_prefix}/{NAME}:0.1.0"
    try:
        built = _runner(checkout, "images", "build", NAME, timeout=1800)
        assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-2000:]
        smoke = _runner(checkout, "images", "smoke", NAME)
        assert smoke.returncode == 0 and "ok" in smoke.stdout, smoke.stdout + smoke.stderr
    finally:  # an image of an analyzer the real checkout does not have
        try:
            docker_client.images.remove(tag, force=True)
        except docker.errors.ImageNotFound:
            pass
