"""The report page's Content-Security-Policy allows its own two scripts by sha256, nothing else (issue 23).

Before: ``script-src 'unsafe-inline'``, so any markup that slipped past HTML escaping would run. Now
plotly.js and one fixed drawing script are allowed by hash (the figure travels as a JSON data block,
which is never executed), and framing, forms and ``<base>`` are off. In a real headless Chromium:
the timeline still draws under the policy, and a script injected into the page does not run.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest

from runner.report import render
from runner.report.page import content_security_policy
from tests import browser as cdp
from tests.unit.test_html import full_report  # noqa: F401 - the fixture

INJECTED = "<script>document.title='pwned';window.pwned=1</script>"


def _inline_scripts(page: str) -> list[str]:
    """The text of every executable inline script (not the JSON data block)."""
    return [body for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.S)
            if "application/json" not in attrs]


def _hash(js: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(js.encode()).digest()).decode() + "'"


def test_the_policy_names_each_script_by_hash_and_forbids_framing_forms_and_base(full_report):  # noqa: F811
    page = render(full_report)
    header = content_security_policy()
    script_src = re.search(r"script-src ([^;]*)", header).group(1).split()
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    scripts = _inline_scripts(page)
    assert len(scripts) == 2                                   # plotly.js and the drawing script
    assert sorted(_hash(s) for s in scripts) == sorted(script_src)
    for directive in ("frame-ancestors 'none'", "form-action 'none'", "base-uri 'none'", "default-src 'none'"):
        assert directive in header
    meta = re.search(r'<meta http-equiv=Content-Security-Policy content="([^"]*)">', page).group(1)
    assert meta == content_security_policy(meta=True) and "frame-ancestors" not in meta  # ignored in a meta
    assert page.index("Content-Security-Policy") < page.index("<script")


def test_report_strings_stay_inside_the_data_block():
    """A string in the figure that closes the script element (lanes escape their labels, but the
    block must not rely on it) is data: the block has no ``<`` and parses back to the string."""
    import plotly.graph_objects as go

    from runner.report.page import _figure_html

    evil = "</script><script>alert(1)</script><!-- & -->"
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], name=evil, hovertext=[evil, evil]))
    fig.update_layout(height=300, title=evil)
    html = _figure_html(fig, {"displaylogo": False})
    block = re.search(r"<script type=application/json id=timeline-data>(.*?)</script>", html, flags=re.S).group(1)
    assert "<" not in block and ">" not in block and "&" not in block
    data = json.loads(block)
    assert data["figure"]["data"][0]["name"] == evil and data["config"] == {"displaylogo": False}
    assert len(_inline_scripts(html)) == 1


@pytest.fixture(scope="module")
def chromium():
    import os

    path = cdp.find_chromium()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium missing in CI: .ci/run installs it")
        pytest.skip("chromium missing")
    return path


@pytest.mark.slow
def test_in_chromium_the_timeline_draws_and_an_injected_script_does_not_run(full_report, tmp_path,  # noqa: F811
                                                                            chromium):
    page = render(full_report)
    good = tmp_path / "report.html"
    good.write_text(page, encoding="utf-8")
    # what an escaping bug would let through: a script in the body
    bad = tmp_path / "injected.html"
    bad.write_text(page.replace("<main>", "<main>" + INJECTED, 1), encoding="utf-8")
    with cdp.Browser(chromium) as b:
        loaded = b.load(good.as_uri(), ready="document.querySelector('#timeline .main-svg') !== null")
        assert loaded.errors == [] and loaded.requests == [], loaded.errors
        assert b.evaluate("document.querySelectorAll('#timeline .main-svg').length") >= 1
        hostile = b.load(bad.as_uri(), ready="document.querySelector('#timeline .main-svg') !== null")
        assert b.evaluate("window.pwned === undefined") is True
        assert b.evaluate("document.title") != "pwned"
        assert any("Content Security Policy" in e for e in hostile.errors), hostile.errors
        assert b.evaluate("document.querySelectorAll('#timeline .main-svg').length") >= 1  # the page's own still ran
