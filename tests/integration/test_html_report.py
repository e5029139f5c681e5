"""report.html of real runs, opened in a real headless Chromium (Chrome DevTools Protocol).

The page must load with no console error and no network request, list every
analyzer of its report, draw the timelines the run's results hold (the known cut
times, the spoken words) and not be blank; a run where half the analyzers fail
still renders, with each reason shown.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runner.core.config import Settings
from runner.report import write_html
from runner.run.pipeline import AnalyzeRequest, analyze
from runner.core.registry import load_registry
from shared_schema.envelope import Status
from tests import browser as cdp
from tests.analyzers.media_cuts import hard_cuts
from tests.conftest import ANALYZERS, TOYS, missing, require_assets, require_env
from tests.media import MEDIA, MODELS, ffmpeg

pytestmark = pytest.mark.slow

CLASSICAL = ["cut_analysis", "scene_segmentation", "camera_analysis", "color_analysis", "content_quality",
             "audio_analysis", "temporal_flow", "speech_transcription", "speech_flow", "cross_analyzer_intelligence"]
SHOTS = (2.5, 3.0, 2.0, 3.5)                 # 11 s: jfk.flac's length; hard cuts at 2.5, 5.5, 7.5 s
TIMELINE_DRAWN = "document.querySelector('#timeline .main-svg') !== null"


@pytest.fixture(scope="module")
def chromium() -> str:
    path = cdp.find_chromium()
    if path is None:
        missing("chromium not installed", "apt-get install chromium (.ci/run does)")
    for mod, pkg in (("websocket", "websocket-client"), ("PIL", "pillow")):
        try:
            __import__(mod)
        except ImportError:
            missing(f"{pkg} not installed", "make setup (the test extra)")
    return path


@pytest.fixture(scope="module")
def browser(chromium):
    with cdp.Browser(chromium) as b:
        yield b


def _settings(root: Path) -> Settings:
    return Settings.from_env().with_(
        analyzers_dirs=(ANALYZERS, TOYS), work_root=root / "runs", include_test_only=True,
        models_dir=Path(os.environ.get("RUNNER_MODELS_DIR", MODELS)), backend=os.environ.get("RUNNER_TEST_BACKEND", "local"))


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    """The classical analyzers and speech on 11 s of panned photos (known cuts) over jfk.flac, with --html."""
    root = tmp_path_factory.mktemp("html_run")
    settings = _settings(root)
    for group in ("cpu", "audio"):
        require_env(settings, group)
    require_assets(MEDIA / "jfk.flac")
    picture = root / "picture.mp4"
    truth = hard_cuts(picture, seconds_each=SHOTS)
    video = root / "cuts_speech.mp4"
    ffmpeg("-i", str(picture), "-i", str(MEDIA / "jfk.flac"), "-map", "0:v", "-map", "1:a", "-c:v", "copy",
           "-c:a", "aac", "-shortest", str(video))
    req = AnalyzeRequest(source=str(video), only=CLASSICAL, out=root / "clip.json", html=True)
    out = analyze(req, settings, registry=load_registry(settings.analyzers_dirs, include_test_only=True))
    return out, truth


@pytest.mark.ground_truth  # a real run on known cuts and jfk.flac
def test_analyze_html_writes_the_page_beside_the_json(real_run):
    out, _ = real_run
    assert out.report_path.name == "clip.json"
    page = out.report_path.with_suffix(".html")
    assert page.is_file() and (out.workdir / "report.html").is_file()
    assert "href='clip.json'" in page.read_text()


@pytest.mark.ground_truth  # a real run on known cuts and jfk.flac
def test_real_run_page_in_chromium(real_run, browser, tmp_path):
    out, truth = real_run
    report = out.report
    not_ok = {n: e.status.value for n, e in report.analyzers.items() if e.status is not Status.ok}
    assert not not_ok, not_ok
    t0 = time.perf_counter()
    path = write_html(report, tmp_path / "report.html")
    render_s = time.perf_counter() - t0
    size = path.stat().st_size
    print(f"\nhtml report: render {render_s:.2f}s, {size / 1e6:.2f} MB, {len(report.analyzers)} analyzers")
    assert size < 2_000_000        # the basic plotly.js bundle (1.2 MB), not the full one (4.8 MB)

    page = browser.load(path.as_uri(), ready=TIMELINE_DRAWN)
    print(f"html report: load event after {page.load_s:.2f}s in chromium")
    assert page.errors == [] and page.requests == []

    rows = browser.evaluate("[...document.querySelectorAll('#analyzers tbody tr')].map(r => r.dataset.analyzer)")
    assert sorted(rows) == sorted(report.analyzers)
    lanes = browser.evaluate("[...new Set(document.getElementById('timeline').data.map(t => t.meta.lane))]")
    assert lanes == ["cuts", "camera", "speech", "loudness", "pacing"]
    cut_marks = browser.evaluate("document.getElementById('timeline').data"
                                 ".find(t => t.meta.lane === 'cuts' && t.mode === 'markers').x")
    assert len(cut_marks) == len(truth.cuts)
    assert all(abs(a - b) <= 0.1 for a, b in zip(cut_marks, truth.cuts)), cut_marks
    words = browser.evaluate("document.getElementById('timeline').data"
                             ".filter(t => t.meta.lane === 'speech' && t.type === 'bar')"
                             ".flatMap(t => t.y.map((row, i) => row === 'words' ? t.text[i] : null)).filter(Boolean)")
    assert {"Americans", "country"} <= {w.strip(",.") for w in words}, words
    hover = browser.evaluate("""(() => { const gd = document.getElementById('timeline');
        const i = gd.data.findIndex(t => t.meta.lane === 'cuts' && t.mode === 'markers');
        Plotly.Fx.hover(gd, [{curveNumber: i, pointNumber: 1}], 'xy');
        return [...gd.querySelectorAll('.hoverlayer .hovertext')].map(e => e.textContent).join(' '); })()""")
    assert f"cut at {cut_marks[1]:.2f} s" in hover and "confidence" in hover      # hover shows the values
    x_range = browser.evaluate("document.getElementById('timeline').layout.xaxis.range")
    assert x_range == pytest.approx([0, report.media.duration_s])
    # the figure was drawn: one subplot per lane, with bars and lines in it
    assert browser.evaluate("document.querySelectorAll('#timeline .cartesianlayer .subplot').length") == len(lanes)
    assert browser.evaluate("document.querySelectorAll('#timeline .bars .point').length") > len(words)
    thumbs = browser.evaluate("[...document.querySelectorAll('#keyframes img')]"
                              ".map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
    assert len(thumbs) == len(SHOTS) and all(c and 0 < w <= 160 and 0 < h <= 200 for c, w, h in thumbs), thumbs
    missing = browser.evaluate("document.querySelector('#sec-timelines ul.missing').innerText")
    for title in ("Persons", "On-screen text", "What the vision-language model saw"):
        assert f"{title}" in missing and "not in this report" in missing

    assert cdp.blank_share(page.screenshot) < 0.95
    box = browser.evaluate("(r => [r.left, r.top + scrollY, r.right, r.bottom + scrollY].map(Math.round))"
                           "(document.getElementById('timeline').getBoundingClientRect())")
    assert cdp.blank_share(page.screenshot, tuple(box)) < 0.9     # the timelines themselves are not blank


def test_half_failed_run_still_renders_with_the_reasons(tmp_path, browser):
    settings = _settings(tmp_path)
    require_env(settings, "cpu")
    from tests.media import testsrc

    video = testsrc(tmp_path / "clip.mp4", seconds=3)
    # three ok; three not: a timeout, an abort (crashed) and an invalid result
    only = ["cut_analysis", "audio_analysis", "cross_analyzer_intelligence", "camera_analysis", "toy_abort", "toy_invalid"]
    req = AnalyzeRequest(source=str(video), only=only, params={"camera_analysis": {"timeout_s": 0.01}}, html=True)
    out = analyze(req, settings, registry=load_registry(settings.analyzers_dirs, include_test_only=True))
    report = out.report
    bad = {n: e for n, e in report.analyzers.items() if e.status is not Status.ok}
    assert {n: e.status for n, e in bad.items()} == {"camera_analysis": Status.timeout, "toy_abort": Status.crashed,
                                                     "toy_invalid": Status.invalid_output}
    assert len(bad) * 2 == len(report.analyzers)

    page = browser.load((out.workdir / "report.html").as_uri(), ready=TIMELINE_DRAWN)
    assert page.errors == [] and page.requests == []
    rows = browser.evaluate("Object.fromEntries([...document.querySelectorAll('#analyzers tbody tr')]"
                            ".map(r => [r.dataset.analyzer, [r.dataset.status, r.innerText]]))")
    assert set(rows) == set(report.analyzers)
    for name, env in bad.items():
        status, row_text = rows[name]
        assert status == env.status.value
        assert env.error.message.strip().splitlines()[0][:80] in " ".join(row_text.split()), (name, row_text)
    missing = browser.evaluate("document.querySelector('#sec-timelines ul.missing').innerText")
    assert "Camera motion not in this report: camera_analysis timeout" in missing
    assert cdp.blank_share(page.screenshot) < 0.95


@pytest.mark.ground_truth  # a real run on known cuts and jfk.flac
def test_runner_report_cli_on_a_real_report(real_run, tmp_path):
    out, _ = real_run
    target = tmp_path / "again.html"
    res = subprocess.run([sys.executable, "-m", "runner.commands.main", "report", str(out.report_path), "-o", str(target)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(target) and target.stat().st_size > 1_000_000
    bad = subprocess.run([sys.executable, "-m", "runner.commands.main", "report", str(tmp_path / "nope.json")],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.splitlines()[0] == f"error: {tmp_path / 'nope.json'}: no such report file"
