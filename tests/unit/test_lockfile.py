"""The runner's own environment is locked (requirements/*.lock) and everything installs from it."""
from __future__ import annotations

import re
import tomllib

import pytest
from packaging.requirements import Requirement

from runner.core.config import REPO_ROOT
from runner.core.errors import RunnerError
from runner.core.lockfile import API_LOCK, RUNNER_LOCK, drift, drift_line, normalise, pin, read_lock

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


def _requirements(extra: str | None) -> list[Requirement]:
    project = PYPROJECT["project"]
    raw = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    return [Requirement(r) for r in raw]


@pytest.mark.parametrize("extra", [None, *PYPROJECT["project"]["optional-dependencies"]])
def test_the_lock_satisfies_every_extra_of_pyproject(extra):
    """Edit pyproject.toml without `make lock` and this fails: the lock must cover what is declared."""
    pins = read_lock(RUNNER_LOCK)
    for req in _requirements(extra):
        p = pins.get(normalise(req.name))
        assert p is not None, f"{req.name} ({extra or 'core'}) is not in {RUNNER_LOCK.name}: make lock"
        assert req.specifier.contains(p.version, prereleases=True), \
            f"{req.name}=={p.version} in the lock does not satisfy {req}: make lock"


def test_every_pin_is_exact_and_hashed():
    for path in (RUNNER_LOCK, API_LOCK):
        pins = read_lock(path)
        assert len(pins) > 10
        for p in pins.values():
            assert re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", p.version), p
            assert p.hashes and all(h.startswith("sha256:") and len(h) == 71 for h in p.hashes), p


def test_the_api_lock_is_the_runner_lock_cut_down():
    """One resolution: the API image gets exactly the versions the tests ran against."""
    runner, api = read_lock(RUNNER_LOCK), read_lock(API_LOCK)
    assert set(api) < set(runner)
    for name, p in api.items():
        assert (p.version, set(p.hashes)) == (runner[name].version, set(runner[name].hashes)), name
    for req in _requirements(None) + _requirements("api"):
        assert normalise(req.name) in api
    assert "pytest" not in api and "ray" not in api


def test_the_fetch_image_takes_yt_dlp_from_the_lock():
    from runner.images.runner_images import FETCH

    (p,) = FETCH.pinned()
    assert p == pin("yt-dlp", API_LOCK) == read_lock(RUNNER_LOCK)["yt-dlp"]
    assert p.line().startswith(f"yt-dlp=={p.version} --hash=sha256:")
    assert len(FETCH.digest()) == 16


def test_installers_read_the_lock_not_hand_pins():
    make = (REPO_ROOT / "Makefile").read_text()
    assert "--require-hashes -r $(LOCK)" in make and "LOCK := requirements/runner.lock" in make
    assert re.search(r"^lock:", make, re.M), "make lock refreshes the lock"
    api = (REPO_ROOT / "images" / "Dockerfile.api").read_text()
    assert "COPY requirements/api.lock" in api
    assert not re.search(r"[a-z]==[0-9]", api), "Dockerfile.api pins nothing by hand"
    fetch = (REPO_ROOT / "images" / "Dockerfile.fetch").read_text()
    assert "images/fetch.lock" in fetch and "--hash=sha256:" in fetch


def test_drift_names_what_differs_and_the_fix():
    pins = read_lock(RUNNER_LOCK)
    locked = {p.name: p.version for p in pins.values()}
    assert drift(RUNNER_LOCK, installed=locked.get) == []
    assert drift_line(RUNNER_LOCK, installed=locked.get)[0] is True
    moved = dict(locked, **{"yt-dlp": "2000.1.1"})
    found = drift(RUNNER_LOCK, installed=moved.get)
    assert [(d.name, d.installed) for d in found] == [("yt-dlp", "2000.1.1")]
    ok, detail = drift_line(RUNNER_LOCK, installed=moved.get)
    assert not ok and "yt-dlp 2000.1.1" in detail and "make setup" in detail
    # an extra left out is listed, not a failure
    fewer = {k: v for k, v in locked.items() if k != "ray"}
    ok, detail = drift_line(RUNNER_LOCK, installed=fewer.get)
    assert ok and "ray" in detail


def test_this_environment_is_the_locked_one():
    """What `make setup` installed is what the lock says (fails after a stray `pip install -U`)."""
    assert [d for d in drift() if d.installed is not None] == []


def test_a_hand_edited_lock_is_an_error_naming_the_line(tmp_path):
    bad = tmp_path / "x.lock"
    bad.write_text("click>=8\n")
    with pytest.raises(RunnerError, match=r"x.lock:1: not a pinned requirement"):
        read_lock(bad)
    bad.write_text("click==8.1.0\n")
    with pytest.raises(RunnerError, match="has no hash"):
        read_lock(bad)
