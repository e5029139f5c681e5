"""The ``ground_truth`` marker (a pytest plugin, loaded by tests/conftest.py).

A ground-truth test checks an analyzer's result against truth known beforehand: real media from
../shared/assets with a known transcript, faces or objects, media made with ffmpeg or espeak-ng whose
cuts, tones or words are known, models built by the test with a stated answer.

- Every test under ``tests/analyzers/`` carries the marker (added here at collection); tests elsewhere
  carry it where they are written (``@pytest.mark.ground_truth``).
- Under ``CI=true`` a ground-truth test that skips fails instead, with the skip's reason (a missing
  asset, model, environment or tool): a CI run that lost ``../shared`` cannot be green.
- The terminal summary says how many ran, e.g. ``ground truth: 150 passed, 0 failed, 0 skipped (150 selected)``.
"""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

MARK = "ground_truth"
_ANALYZER_TESTS = Path(__file__).parent / "analyzers"
_outcomes: dict[str, str] = {}
_selected: list[int] = [0]



def pytest_collection_modifyitems(config, items):
    for item in items:
        if Path(str(item.path)).is_relative_to(_ANALYZER_TESTS):
            item.add_marker(MARK)


def pytest_collection_finish(session):
    _selected[0] = sum(1 for item in session.items if item.get_closest_marker(MARK))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.skipped and not hasattr(rep, "wasxfail") and os.environ.get("CI") and item.get_closest_marker(MARK):
        reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
        rep.outcome = "failed"
        rep.longrepr = f"ground-truth test skipped under CI=true, which must provide what it needs: {reason}"


def pytest_runtest_logreport(report):
    if MARK not in report.keywords:
        return
    if report.failed:
        _outcomes[report.nodeid] = "failed"
    elif report.skipped:
        _outcomes.setdefault(report.nodeid, "skipped")
    elif report.when == "call":
        _outcomes.setdefault(report.nodeid, "passed")


def pytest_terminal_summary(terminalreporter):
    if not _selected[0]:
        return
    n = Counter(_outcomes.values())
    terminalreporter.write_line(f"ground truth: {n['passed']} passed, {n['failed']} failed, {n['skipped']} skipped "
                                f"({_selected[0]} selected)", bold=True)
