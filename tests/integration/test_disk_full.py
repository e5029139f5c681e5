"""A run whose workdir's disk fills up, through the real CLI on the local backend (issue 28).

The workdirs live on a 16 MiB tmpfs; ``toy_diskfill`` writes 64 MiB into its output folder. The
run must end with one line that says the disk is full (not a traceback, not a bare errno), the
space must come back, and the next run on the same disk must work. The same on docker, through
the API and the worker, is in ``test_api_load.py``.
"""
from __future__ import annotations

import shutil

from tests import media
from tests.api_load import tmpfs
from tests.integration.test_cli import cli


def test_a_run_that_fills_the_disk_fails_in_one_line_and_frees_it(tmp_path):
    clip = media.testsrc(tmp_path / "clip.mp4", seconds=1, size="180x320", rate=15)
    with tmpfs(tmp_path / "runs", "16m") as disk:
        env = {"RUNNER_WORK_ROOT": str(disk), "RUNNER_CACHE_DIR": str(tmp_path / "cache")}
        free_before = shutil.disk_usage(disk).free
        p = cli("analyze", str(clip), "--backend", "local", "--only", "toy_diskfill",
                "--set", "toy_diskfill.fill_mb=64", env_extra=env)
        assert p.returncode == 1, p.stderr
        assert "Traceback" not in p.stderr
        errors = [ln for ln in p.stderr.splitlines() if ln.startswith("error:")]
        assert len(errors) == 1, p.stderr
        assert f"no space left on the disk of {disk}" in errors[0] and "out/toy_diskfill" in errors[0], errors
        assert "RUNNER_WORK_ROOT" in p.stderr
        assert shutil.disk_usage(disk).free >= free_before - 2**20  # what the run wrote is gone
        [workdir] = list(disk.iterdir())
        assert not (workdir / "out").exists() and (workdir / "logs" / "toy_diskfill.txt").is_file()

        ok = cli("analyze", str(clip), "--backend", "local", "--only", "toy_good", env_extra=env)
        assert ok.returncode == 0, ok.stderr
