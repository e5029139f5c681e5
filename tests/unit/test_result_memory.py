"""What reading a sandbox's result.json costs the runner in memory (issue 23).

A hostile analyzer wrote 30 MiB of ``[],[],...`` (just under the 32 MiB cap): parsed first and
counted after, it took the runner to 1551 MiB of RSS. The values are now counted on the bytes
before any object is built, so any result within the caps (32 MiB, 500,000 values) adds at most
128 MiB. Each file is read in a fresh interpreter that measures its own peak RSS (``VmHWM``,
reset through ``/proc/self/clear_refs`` after the imports) against its RSS before the read.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from runner.core.config import REPO_ROOT
from runner.core.outbox import Limits

CAP = Limits().max_result_bytes          # 32 MiB
NODES = Limits().max_json_nodes          # 500,000
BUDGET_MIB = 128

_CHILD = r"""
import json, sys
from pathlib import Path
from runner.core.outbox import Limits
from runner.run.collect import read_result

def kib(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])

try:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")                    # reset VmHWM: the peak from here on
except OSError:
    pass
before = kib("VmRSS")
raw, why = read_result(Path(sys.argv[1]), Limits())
print(json.dumps({"added_mib": (kib("VmHWM") - before) / 1024, "why": why, "parsed": raw is not None}))
"""


def _shape(name: str) -> bytes:
    """Files a hostile analyzer could write: the issue's, and the costliest within the caps found."""
    if name == "issue_empty_lists_30mib":
        return b"[" + b"[]," * ((30 << 20) // 3) + b"[]]"
    if name == "distinct_keys":          # one object, 499,999 distinct 48-character keys
        return ("{" + ",".join(f'"k{i:07d}{"x" * 40}":0' for i in range(NODES - 1)) + "}").encode()
    if name == "objects_with_long_strings":
        pad = "z" * ((CAP - 3 * NODES) // (NODES // 2) - 20)
        return ("[" + ",".join(f'{{"a":{{}},"b":"{i}{pad}"}}' for i in range(NODES // 3 - 1)) + "]").encode()
    if name == "one_string_of_escapes":  # escapes: 640 MiB in a backtracking regex
        return b'"' + b"\\ud83d\\ude00" * ((CAP - 2) // 12) + b'"'
    if name == "one_ascii_string":
        return b'"' + b"a" * (CAP - 2) + b'"'
    raise ValueError(name)


@pytest.mark.parametrize("name", ["issue_empty_lists_30mib", "distinct_keys", "objects_with_long_strings",
                                  "one_string_of_escapes", "one_ascii_string"])
def test_reading_a_result_within_the_caps_adds_at_most_128_mib(tmp_path, name):
    data = _shape(name)
    assert len(data) <= CAP
    path = tmp_path / "result.json"
    path.write_bytes(data)
    del data
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(path)], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["added_mib"] <= BUDGET_MIB, got
    if name == "issue_empty_lists_30mib":
        assert not got["parsed"] and "more than 500000 JSON values" in got["why"], got
    else:
        assert got["parsed"] and got["why"] is None, got   # within the caps: still accepted


def test_the_count_comes_before_any_object(monkeypatch):
    """Over the cap, ``json.loads`` is never called: nothing was built to be counted afterwards."""
    import runner.core.outbox as outbox

    monkeypatch.setattr(outbox.json, "loads", lambda *_a, **_k: pytest.fail("parsed before counting"))
    with pytest.raises(outbox.OutboxError, match="more than 10 JSON values"):
        outbox.load_json(bytearray(b"[" + b"[]," * 20 + b"[]]"), 10, 128)


@pytest.mark.parametrize("text,values", [
    ('{"a": 1, "b": [true, null, "x"], "c": {"d": -1.5e3}}', 8),
    ('["a\\"b", "c:d", {"e\\\\": "f"}]', 5),       # quotes, colons and backslashes inside strings
    ("[NaN, -Infinity, 0]", 4),
    ('"unterminated', 1),
])
def test_the_count_matches_what_the_parser_builds(text, values):
    from runner.core.outbox import json_shape_error

    assert json_shape_error(text.encode(), values, 128) is None
    assert json_shape_error(text.encode(), values - 1, 128) is not None


def test_stray_keys_and_closers_cannot_buy_more_values():
    """Colons, keys and closing brackets are not values, but each costs a step: a text of them is
    refused in O(cap) steps, and a colon never cancels a string value before it."""
    from runner.core.outbox import json_shape_error

    assert json_shape_error(b"]" * 10_000, 100, 128) is not None
    assert json_shape_error(b'"k":' * 10_000, 100, 128) is not None
    assert json_shape_error(b'["ab","cd"' + b',"ab"' * 200 + b"]" + b":" * 500, 100, 128) is not None
    assert json_shape_error(b"]" * 300 + b"[" * 200, 10_000, 128) is not None  # depth never goes below 0


def test_a_result_must_be_utf8():
    from runner.core.outbox import OutboxError, load_json

    with pytest.raises(OutboxError, match="not JSON: not UTF-8"):
        load_json(bytearray('"é"'.encode("latin-1")), 10, 128)

