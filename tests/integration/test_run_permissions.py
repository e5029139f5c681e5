"""A run's workdir and its copy of the input are the runner's and the sandbox user's only (issue 23).

They were 0755 and 0644: any local user could list the runs and read every video analysed. Now, as
root, the workdir is ``root:65534`` 0750 and the copy 0640 (the sandboxes run as nobody and read
through the group; a bare 0700 would lock them out), and as another user 0700 / 0600. A process of
another uid is refused both; the sandboxes still read everything they need (local and docker).
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from runner.core.config import Settings
from runner.run.pipeline import AnalyzeRequest, analyze
from tests.integration.test_docker_sandbox import (TOYS, assert_good_intact, docker_client, drun,  # noqa: F401
                                                   docker_settings, toy_images, toy_registry)

STRANGER = 12345   # a uid:gid no file of the run belongs to

_PEEK = r"""
import os, sys
os.setgroups([]); os.setgid(12345); os.setuid(12345)
for path in sys.argv[1:]:
    try:
        os.listdir(path) if os.path.isdir(path) else open(path, "rb").read(1)
        print("read", path)
    except PermissionError:
        print("refused", path)
"""


def _check(outcome) -> None:
    wd = outcome.workdir
    copy = next((wd / "input").iterdir())
    for path, mode in ((wd, 0o750), (copy, 0o640)):
        st = path.stat()
        assert st.st_mode & 0o007 == 0, (path, oct(st.st_mode))
        if os.geteuid() == 0:
            assert (st.st_gid, st.st_mode & 0o777) == (65534, mode), (path, st.st_gid, oct(st.st_mode))
        else:
            assert st.st_mode & 0o077 == 0, (path, oct(st.st_mode))
    if os.geteuid() == 0:  # another local user, for real: refused the run and the video
        peek = subprocess.run([sys.executable, "-c", _PEEK, str(wd), str(wd / "input"), str(copy)],
                              capture_output=True, text=True, timeout=60)
        assert peek.stdout.split() == ["refused", str(wd), "refused", str(wd / "input"), "refused", str(copy)], \
            peek.stdout + peek.stderr


def test_local_run_is_private_to_the_runner(tmp_path, sample_video):
    from runner.core.registry import load_registry

    settings = Settings.from_env().with_(analyzers_dirs=(TOYS,), work_root=tmp_path / "runs", include_test_only=True,
                                         backend="local", models_dir=tmp_path / "models")
    outcome = analyze(AnalyzeRequest(source=str(sample_video), only=["toy_good"], backend="local"), settings,
                      registry=load_registry([TOYS], include_test_only=True))
    assert_good_intact(outcome)
    _check(outcome)


def test_a_given_workdir_is_made_private_too(tmp_path, sample_video):
    from runner.core.registry import load_registry

    given = tmp_path / "mine"
    given.mkdir(mode=0o777)
    os.chmod(given, 0o777)
    settings = Settings.from_env().with_(analyzers_dirs=(TOYS,), work_root=tmp_path / "runs", include_test_only=True,
                                         backend="local", models_dir=tmp_path / "models")
    outcome = analyze(AnalyzeRequest(source=str(sample_video), only=["toy_good"], backend="local", workdir=given),
                      settings, registry=load_registry([TOYS], include_test_only=True))
    assert outcome.workdir == given.resolve()
    _check(outcome)


@pytest.mark.docker
def test_docker_sandboxes_still_read_a_private_run(drun, sample_video):  # noqa: F811
    """The media sandbox (probe, extraction) and the analyzer container read the run as nobody."""
    outcome = drun(sample_video, ["toy_good"])
    assert outcome.report.run.media_sandboxed is True
    assert_good_intact(outcome)
    _check(outcome)
