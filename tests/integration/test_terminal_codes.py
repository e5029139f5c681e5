"""Terminal control codes an analyzer puts in its error never reach the terminal (issue 23).

``toy_hostile`` (attack ``terminal_codes``) fails with a message that retitles the window
(``ESC]0;...BEL``), clears the screen, sends an 8-bit CSI and overwrites its own line with a
carriage return. The real CLI prints it in its plain lines (a pipe), the live view draws it (a
terminal); neither may emit any of those characters, while the report keeps the words as data.
"""
from __future__ import annotations

import io
import re

from runner.run.live import LiveProgress
from runner.run.progress import LineProgress
from runner.core.terminal import printable
from shared_schema.envelope import Envelope, ErrorInfo, Status
from tests.integration.test_cli import cli
from tests.toy_analyzers.toy_hostile.analyzer import TERMINAL_CODES

#: what may never come out: OSC, BEL, C1 (the 8-bit CSI), CR, BS, and the clear-screen sequence
FORBIDDEN = re.compile("\x1b\\]|\x07|[\x80-\x9f]|\r|\x08|\x1b\\[2J")
#: the same, but a carriage return: rich redraws the live view with its own ``\r ESC[2K``
LIVE_FORBIDDEN = re.compile("\x1b\\]|\x07|[\x80-\x9f]|\x08|\x1b\\[2J")


def _failed(message: str) -> Envelope:
    return Envelope(analyzer="toy_hostile", analyzer_version="1.1.0", status=Status.failed,
                    error=ErrorInfo(type="RuntimeError", message=message))


def test_the_cli_prints_the_words_without_the_codes(sample_video, tmp_path):
    p = cli("analyze", str(sample_video), "--backend", "local", "--only", "toy_hostile",
            "--set", "toy_hostile.attack=terminal_codes", "--out", str(tmp_path / "report.json"),
            env_extra={"RUNNER_WORK_ROOT": str(tmp_path / "w"), "RUNNER_CACHE_DIR": str(tmp_path / "c")})
    assert p.returncode == 1, p.stderr
    assert "pwned by toy_hostile" in p.stderr and "FAIL" in p.stderr      # the plain line was printed
    assert not FORBIDDEN.search(p.stderr), repr(p.stderr[-800:])
    assert "pwned by toy_hostile" in (tmp_path / "report.json").read_text()  # the data is kept


def test_the_plain_lines_strip_every_c0_and_c1_code():
    buf = io.StringIO()
    progress = LineProgress(total=1, stream=buf)
    progress.notice("download: " + TERMINAL_CODES)
    progress.phase("probe", 0.1, TERMINAL_CODES)
    progress.finished("toy_hostile", _failed(TERMINAL_CODES))
    out = buf.getvalue()
    assert out.count("pwned by toy_hostile") == 3 and not FORBIDDEN.search(out), repr(out)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", out.replace("\n", ""))


def test_the_live_view_draws_the_words_without_the_codes():
    buf = io.StringIO()
    with LiveProgress(buf, refresh_per_second=50) as view:
        view.planned([["toy_hostile"]], {})
        view.notice("download: " + TERMINAL_CODES)
        view.phase("probe", 0.1, TERMINAL_CODES)
        view.started("toy_hostile", 1)
        view.finished("toy_hostile", _failed(TERMINAL_CODES))
    out = buf.getvalue()
    assert "pwned by toy_hostile" in out
    assert not LIVE_FORBIDDEN.search(out), repr(out[-800:])   # rich's own styling (ESC[...m) is allowed


def test_printable_keeps_text_tabs_and_newlines():
    assert printable("a\tb\nc") == "a\tb\nc"
    assert printable("\x1b]0;t\x07x\x9b1m\x7f\x00") == "]0;tx1m"
    assert printable("é 中 😀") == "é 中 😀"
