"""Hostile analyzers: what a sandbox leaves in /out is data, never a path the host follows.

``toy_hostile`` plants one attack per run (``params.attack``) beside ``toy_good``: symlinks under
every name the runner has touched, a symlink or FIFO as result.json, hard links, a 2 GB result,
a log flood, a result nested 100,000 deep, one with 10^6 entries, 100,000 files, terminal control
codes in its error. For each, on the
local backend always and on the docker backend with a real daemon: a canary outside the workdir
keeps its content and mtime, nothing new appears outside the workdir and the cache, the attacker
gets a clear status, toy_good is intact and the result cache holds no link and no outside bytes.
"""
from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest

from runner.core.config import Settings
from runner.run.pipeline import AnalyzeRequest, analyze
from shared_schema.envelope import Status
from tests.integration.test_docker_sandbox import TOYS, assert_good_intact, docker_client, toy_registry  # noqa: F401

#: MiB the log-flood toy writes to stdout (1 GiB: see the report for the measured throughput)
FLOOD_MB = int(os.environ.get("HOSTILE_FLOOD_MB", "1024"))
LOG_CAP = 8 * 2**20


def _dropped(env) -> dict[str, str]:
    return {d.path: d.why for d in env.dropped}


def _symlinks(env, backend):
    assert env.status is Status.ok, env.error
    d = _dropped(env)
    for name in ("log.txt", ".result.json.runner.tmp", "result.json.tmp", "loot", "root_dir"):
        assert "symlink" in d[name], (name, d)
    assert "kept.txt" not in d


def _result_symlink(env, backend):
    assert env.status is Status.invalid_output and "symlink" in env.error.message, env.error


def _hardlink(env, backend):
    assert env.status is Status.ok, env.error
    d = _dropped(env)
    assert "hard link" in d["a.txt"] and "hard link" in d["b.txt"]
    if backend == "local":
        assert env.result["params"]["outside"] == "linked" and "hard link" in d["hard_canary"]


def _fifo(env, backend):
    assert env.status is Status.invalid_output and "FIFO" in env.error.message, env.error
    assert "FIFO" in _dropped(env)["pipe"]


def _big_result(env, backend):
    assert env.status is Status.invalid_output and "cap" in env.error.message, env.error


def _log_flood(env, backend):
    assert env.status is Status.ok, env.error


def _deep(env, backend):
    assert env.status is Status.invalid_output and "nested deeper than 128" in env.error.message, env.error


def _wide(env, backend):
    assert env.status is Status.invalid_output, env.error
    assert "more than 500000 JSON values" in env.error.message


def _many_files(env, backend):
    assert env.status is Status.ok, env.error
    d = _dropped(env)
    assert any("more than 10000 files" in why for why in d.values()), d
    assert len(env.dropped) <= 51 and "more entries dropped" in env.dropped[-1].why


def _terminal_codes(env, backend):
    """The report keeps the analyzer's words as data; printing them is what strips the codes
    (tests/integration/test_terminal_codes.py)."""
    assert env.status is Status.failed and "pwned by toy_hostile" in env.error.message, env.error


ATTACKS = {"symlinks": _symlinks, "result_symlink": _result_symlink, "hardlink": _hardlink, "fifo": _fifo,
           "big_result": _big_result, "log_flood": _log_flood, "deep": _deep, "wide": _wide,
           "many_files": _many_files, "terminal_codes": _terminal_codes}


def _tree(path: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(path)): (p.read_bytes() if p.is_file() and not p.is_symlink() else b"",
                                       p.lstat().st_mtime_ns) for p in path.rglob("*")}


def _run_attack(settings: Settings, registry, video, tmp_path: Path, backend: str, attack: str):
    outside = tmp_path / "outside"
    outside.mkdir()
    canary = outside / "canary"
    secret = f"CANARY-{uuid.uuid4().hex}".encode()
    canary.write_bytes(secret)
    old = time.time() - 3600
    os.utime(canary, (old, old))
    before_outside, before_top = _tree(outside), sorted(p.name for p in tmp_path.iterdir())
    t0 = time.monotonic()
    outcome = analyze(AnalyzeRequest(source=str(video), only=["toy_hostile", "toy_good"], backend=backend,
                                     params={"toy_hostile": {"attack": attack, "canary": str(canary),
                                                             "flood_mb": FLOOD_MB}}),
                      settings, registry=registry)
    wall = time.monotonic() - t0
    env = outcome.report.analyzers["toy_hostile"]
    print(f"\n{backend} {attack}: {env.status.value} in {env.duration_s:.2f}s (run {wall:.1f}s); "
          f"{env.error.message[:160] if env.error else ''}")

    ATTACKS[attack](env, backend)
    assert_good_intact(outcome)
    # the canary (and its folder) kept content and mtime; nothing new outside the workdir and cache
    assert _tree(outside) == before_outside and canary.read_bytes() == secret
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({*before_top, "runs", "cache"})
    wd = outcome.workdir
    # the runner's own files are regular files in its own folders
    for p in [*(wd / "results").iterdir(), *(wd / "logs").iterdir()]:
        assert p.is_file() and not p.is_symlink(), p
    assert not any(p.is_symlink() for p in (wd / "results").rglob("*"))
    log = (wd / "logs" / "toy_hostile.txt")
    assert log.stat().st_size < LOG_CAP + 64 * 1024
    if attack == "log_flood" and backend == "local":
        assert "log truncated at" in log.read_text(errors="replace")
    if attack == "log_flood":  # docker: the daemon's json-file rotation may have kept only a tail
        assert "--- attempt 1:" in log.read_text(errors="replace")
    # the result cache holds no link and no outside bytes
    cache = tmp_path / "cache"
    for p in cache.rglob("*"):
        assert not p.is_symlink(), p
        if p.is_file():
            assert p.stat().st_nlink == 1 and secret not in p.read_bytes(), p
    # no folder of the workdir is world-writable
    for p in [wd, *wd.rglob("*")]:
        if p.is_dir() and not p.is_symlink():
            assert not p.stat().st_mode & 0o002, p
    return outcome, env


# -- local backend -------------------------------------------------------------------
@pytest.fixture(scope="module")
def local_registry():
    from runner.core.registry import load_registry

    return load_registry([TOYS], include_test_only=True)


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_local_backend_follows_nothing_a_sandbox_planted(tmp_path, sample_video, local_registry, attack):
    settings = Settings.from_env().with_(analyzers_dirs=(TOYS,), work_root=tmp_path / "runs",
                                         cache_dir=tmp_path / "cache", include_test_only=True, backend="local",
                                         models_dir=tmp_path / "no-models", max_log_bytes=LOG_CAP)
    _, env = _run_attack(settings, local_registry, sample_video, tmp_path, "local", attack)
    if attack == "many_files":  # the cache holds what was kept: at most the file cap
        from runner.cache.store import ResultCache

        (entry,) = [e for e in ResultCache(tmp_path / "cache").entries() if e.analyzer == "toy_hostile"]
        assert len(list((entry.path / "out").iterdir())) == 10_000


# -- docker backend --------------------------------------------------------------------
@pytest.fixture(scope="module")
def hostile_images(docker_client, toy_registry):  # noqa: F811
    from runner.images.build import BuildOptions, base_tag, build_images, image_status

    base = Settings.from_env()
    try:
        docker_client.images.get(base_tag(base, "cpu"))
    except Exception:
        msg = f"{base_tag(base, 'cpu')} is not built: run `make ci-images`"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    names = ["toy_good", "toy_hostile"]
    todo = [n for n, s in image_status(base, {n: toy_registry[n] for n in names}).items() if s != "built"]
    if todo:
        build_images(base, toy_registry, todo, BuildOptions(), echo=lambda s: None, client=docker_client)
    from runner.images.runner_images import MEDIA, build  # probe and extraction run in it on the docker backend

    build(docker_client, MEDIA, base, BuildOptions(), echo=lambda s: None)  # no-op when up to date
    return names


@pytest.mark.docker
@pytest.mark.parametrize("attack", list(ATTACKS))
def test_docker_backend_follows_nothing_a_sandbox_planted(tmp_path, sample_video, toy_registry,  # noqa: F811
                                                          hostile_images, attack):
    settings = Settings.from_env().with_(analyzers_dirs=(TOYS,), work_root=tmp_path / "runs",
                                         cache_dir=tmp_path / "cache", include_test_only=True, backend="docker",
                                         models_dir=tmp_path / "no-models", max_log_bytes=LOG_CAP)
    _run_attack(settings, toy_registry, sample_video, tmp_path, "docker", attack)
