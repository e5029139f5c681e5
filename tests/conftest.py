"""Shared fixtures: made media, real assets, and a helper that runs analyzers for real."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from runner.core.config import REPO_ROOT, Settings
from runner.run.pipeline import AnalyzeRequest, RunOutcome, analyze
from runner.core.registry import load_registry
from tests import media
from tests.provenance import unhashed_models

# the ground_truth marker: fails instead of skipping under CI=true, counted in the summary
pytest_plugins = ["tests.ground_truth"]

TOYS = REPO_ROOT / "tests" / "toy_analyzers"
ANALYZERS = REPO_ROOT / "analyzers"


def pytest_report_header(config):
    return [f"assets: {media.ASSETS} ({'present' if media.ASSETS.is_dir() else 'MISSING'})"]


@pytest.fixture(scope="session", autouse=True)
def _session_result_cache(tmp_path_factory):
    """Never the user's result cache; servers started by module fixtures get this one."""
    mp = pytest.MonkeyPatch()
    mp.setenv("RUNNER_CACHE_DIR", str(tmp_path_factory.mktemp("result-cache")))
    yield
    mp.undo()


@pytest.fixture(autouse=True)
def _result_cache(tmp_path, monkeypatch) -> Path:
    """A result cache per test, so one test's results are never another's cache hits."""
    path = tmp_path / "result-cache"
    monkeypatch.setenv("RUNNER_CACHE_DIR", str(path))
    return path


def missing(what: str, fix: str) -> None:
    """A test's truth is not here (an asset, a model, an environment, a tool): skip, naming it and the
    fix; under CI=true fail instead, since CI provides all of them (.ci/run)."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI=true: CI must provide it): {fix}", pytrace=False)
    pytest.skip(f"{what}: {fix}")


def require_assets(*paths: Path) -> None:
    """Skip (fail under CI=true) unless every one of these shared test assets exists."""
    gone = [str(p) for p in paths if not Path(p).exists()]
    if gone:
        missing(f"shared test assets missing: {', '.join(gone)}",
                "put the project's shared assets at ../shared/assets (its README lists every file)")


def require_tool(name: str, fix: str) -> None:
    """Skip (fail under CI=true) unless the command ``name`` is on PATH."""
    if shutil.which(name) is None:
        missing(f"{name} not installed", fix)


@pytest.fixture(scope="session")
def assets() -> Path:
    require_assets(media.MEDIA, media.MODELS)
    return media.ASSETS


@pytest.fixture(scope="session")
def sample_video(tmp_path_factory) -> Path:
    """4 s, 360x640 (9:16) moving test pattern with a 440 Hz tone."""
    return media.testsrc(tmp_path_factory.mktemp("media") / "sample.mp4")


@pytest.fixture(scope="session")
def silent_video(tmp_path_factory) -> Path:
    """3 s test pattern with no audio stream."""
    return media.testsrc(tmp_path_factory.mktemp("media") / "silent.mp4", seconds=3, audio=False)


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Settings for a test run: real analyzers and the toys, the shared model store."""
    return Settings.from_env().with_(
        analyzers_dirs=(ANALYZERS, TOYS), work_root=tmp_path / "runs",
        models_dir=Path(os.environ.get("RUNNER_MODELS_DIR", media.MODELS)),
        include_test_only=True, backend=os.environ.get("RUNNER_TEST_BACKEND", "local"))


def run_analyzers(settings: Settings, video: Path | str, only: list[str], **params) -> RunOutcome:
    """Run ``only`` (and what they need) on ``video`` through the real pipeline and backend."""
    registry = load_registry(settings.analyzers_dirs, include_test_only=True)
    req = AnalyzeRequest(source=str(video), only=only, backend=settings.backend,
                         params={k: v for k, v in params.items()})
    outcome = analyze(req, settings, registry=registry)
    unhashed = unhashed_models(outcome.report)  # every loaded model recorded with its sha256 (issue 26)
    assert not unhashed, f"models recorded without the sha256 of what was loaded: {unhashed}"
    return outcome


@pytest.fixture
def run(settings):
    """``run(video, ["name"], name={"param": 1}) -> RunOutcome``"""
    def _run(video, only, **params):
        return run_analyzers(settings, video, only, **params)
    return _run


def require_env(settings: Settings, group: str) -> None:
    """Skip (with the command that fixes it) when a local group environment is missing; fail under CI."""
    if group != "core" and not (settings.envs_dir / group / "bin" / "python").exists():
        missing(f"local env {group!r} not built", "run `make envs` (.ci/run does)")


def have_docker() -> bool:
    return shutil.which("docker") is not None
