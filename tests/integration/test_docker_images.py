"""Analyzer images: status, labels, the smoke command, and every built real image smoke-tested."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from runner.core.config import REPO_ROOT, Settings
from runner.core.registry import Entry, load_registry
from tests.conftest import missing
from tests.integration.test_docker_sandbox import (  # noqa: F401  (fixtures)
    TOYS, docker_client, toy_images, toy_registry)


def _real_registry():
    try:
        return load_registry([REPO_ROOT / "analyzers"])
    except Exception:  # a manifest being written right now: the parametrized test reports it
        return {}


REAL = _real_registry()
#: images whose default run needs a model that CI's store (../shared/assets/models) does not hold: the store
#: path it needs, and why it is not there. Every other image must smoke ok, never skipped/model_absent.
MODELS_NOT_IN_CI = {
    "qwen2_vl_temporal": ("Qwen2-VL-2B-Instruct", "no Qwen2-VL weights can be had offline "
                                                  "(../shared/assets/README.md)"),
}


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "RUNNER_ANALYZERS_DIR": str(TOYS), "RUNNER_TEST_ANALYZERS": "1"}
    return subprocess.run([sys.executable, "-m", "runner.commands.main", "images", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.docker
def test_status_follows_the_sources(toy_images, toy_registry, tmp_path):
    from runner.images.build import image_status

    settings = Settings.from_env()
    assert image_status(settings, {"toy_good": toy_registry["toy_good"]}) == {"toy_good": "built"}
    # the same analyzer with one changed file: the image no longer matches it
    copy = tmp_path / "toy_good"
    shutil.copytree(TOYS / "toy_good", copy)
    (copy / "analyzer.py").write_text((copy / "analyzer.py").read_text() + "\n# changed\n")
    changed = Entry(toy_registry["toy_good"].manifest, copy)
    assert image_status(settings, {"toy_good": changed}) == {"toy_good": "stale"}
    absent = settings.with_(image_prefix="localhost/tiktok-runner-absent")
    assert image_status(absent, {"toy_good": toy_registry["toy_good"]}) == {"toy_good": "missing"}


@pytest.mark.docker
def test_image_carries_its_manifest_and_runs_unprivileged(toy_images, toy_registry, docker_client):
    img = docker_client.images.get("localhost/tiktok-runner/toy_good:1.0.0")
    labels = img.labels
    assert json.loads(labels["org.tiktok-runner.manifest"]) == toy_registry["toy_good"].manifest.model_dump(mode="json")
    assert labels["org.tiktok-runner.version"] == "1.0.0"
    assert img.attrs["Config"]["User"] == "65534:65534"
    out = docker_client.containers.run(img.id, ["python", "-c", "import analyzers.harness, shared_schema, pydantic;"
                                                 "import os; print(os.getuid(), pydantic.VERSION)"],
                                       network_mode="none", remove=True)
    assert out.decode().split()[0] == "65534"


@pytest.mark.docker
def test_smoke_command_passes_a_good_image_and_fails_a_broken_one(toy_images):
    good = _cli("smoke", "toy_good")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "ok" in good.stdout and "toy_good" in good.stdout
    bad = _cli("smoke", "toy_abort")
    assert bad.returncode == 1
    assert "FAIL" in bad.stdout and "crashed" in bad.stdout


@pytest.mark.docker
def test_build_skips_what_is_up_to_date(toy_images):
    r = _cli("build", "toy_good")
    assert r.returncode == 0, r.stderr
    assert "up to date" in r.stdout


def test_compose_file_builds_every_analyzer_from_the_template():
    """compose/build.yaml names each real analyzer's folder and base (regenerate: runner images compose-file)."""
    text = (REPO_ROOT / "compose" / "build.yaml").read_text()
    assert 'version: "2.4"' in text
    named = [n for n in REAL if f"\n  {n}:\n" in text]  # an analyzer newer than the file is built by make
    assert named, "compose/build.yaml names no analyzer"
    for name in named:
        assert f'ANALYZER_DIR: "analyzers/{name}"' in text
        assert f'org.tiktok-runner.analyzer: "{name}"' in text
    if shutil.which("docker-compose"):
        r = subprocess.run(["docker-compose", "-f", "compose/build.yaml", "config", "-q"], cwd=REPO_ROOT,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REAL) or ["(no analyzers)"])
def test_real_image_smoke(name, docker_client, tmp_path):
    """Each built analyzer image runs on a made clip in a container: ok, or an honest skip."""
    from runner.images.build import HONEST_SKIPS, image_status
    from runner.commands.images import smoke

    if name not in REAL:
        pytest.skip("no real analyzer manifests load")
    settings = Settings.from_env().with_(analyzers_dirs=(REPO_ROOT / "analyzers",), models_dir=Path(
        os.environ.get("RUNNER_MODELS_DIR", REPO_ROOT.parent / "shared" / "assets" / "models")))
    entry = REAL[name]
    state = image_status(settings, {name: entry})[name]
    if state != "built":  # make ci-images builds every image: under CI=true a failed build fails here
        missing(f"image {state}", f"runner images build {name} (make ci-images builds it; see its output)")
    needs = [u for u in entry.manifest.needs if image_status(settings, {u: REAL[u]})[u] != "built"]
    if needs:
        pytest.skip(f"needs {needs}, whose images are not built")
    env = smoke(settings, REAL, [name], work_root=tmp_path)[name]
    assert env.status.value == "ok" or (env.status.value == "skipped" and env.skip_reason.value in HONEST_SKIPS), (
        f"{env.status.value}: {env.error}\n{env.log_tail}")
    if env.status.value == "skipped" and env.skip_reason.value == "model_absent":
        _refuse_model_absent(name, settings.models_dir, env)


def _refuse_model_absent(name: str, store: Path, env) -> None:
    """A model_absent skip is honest only where CI's store lacks the model (MODELS_NOT_IN_CI)."""
    shared = REPO_ROOT.parent / "shared" / "assets" / "models"
    if name not in MODELS_NOT_IN_CI:
        if not store.is_dir():
            missing(f"model store {store} missing", "the shared assets' models/ (CI's store; make test sets it)")
        pytest.fail(f"{name} skipped with model_absent, but CI's store provides its models ({store}): "
                    f"{env.error.message if env.error else ''}")
    path, why = MODELS_NOT_IN_CI[name]
    assert not (shared / path).exists(), f"{shared / path} is in the shared assets now: take {name} out of MODELS_NOT_IN_CI"
    assert path in (env.error.message + (env.error.fix or "")), (path, env.error)  # skipped for that model ({why})
