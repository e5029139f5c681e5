"""text_overlay's caption-vs-scene classifier (issue 25): refit, held-out figures, and made clips.

The cues of the labelled set (tests/analyzers/text_set.py, split by source) are stored in
tests/data/text_overlay_cues_{fit,held_out}.json by ``text_calibration measure``. The refit test fits the
fit half again and must reproduce the shipped weights; the held-out test is the evaluation command
(``text_calibration eval``), with its 95% lower bounds. Both run in the cpu environment (numpy).
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from shared_schema.envelope import Status
from shared_schema.results.text import TextOverlayResult
from tests.conftest import require_env

REPO = Path(__file__).resolve().parents[2]
#: the lower 95% bound each held-out figure must keep: what 3.1.0 reached on the second held-out pool (the
#: lowest: overlay recall, 0.891), less a margin. Issue 25's goal is 0.9; 3.1.0 reaches it for overlay
#: precision and both scene figures (docs/text_overlay.md has the figures)
BOUND = 0.88


def _cpu_python(settings, code: list[str]) -> subprocess.CompletedProcess:
    require_env(settings, "cpu")
    return subprocess.run([str(settings.envs_dir / "cpu" / "bin" / "python"), *code], capture_output=True, text=True,
                          timeout=300, check=False, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})


_REFIT = """
import json
from analyzers.text_overlay.cues import WEIGHTS
from tests.analyzers.text_calibration import CUES, fit
print(json.dumps({"refit": fit(json.loads(CUES["fit"].read_text())["rows"]), "shipped": WEIGHTS}))
"""


def test_refit_reproduces_the_shipped_weights(settings):
    out = _cpu_python(settings, ["-c", _REFIT])
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["refit"] == got["shipped"], got


def test_held_out_figures_with_their_bounds(settings):
    out = _cpu_python(settings, ["-m", "tests.analyzers.text_calibration", "eval"])
    assert out.returncode == 0, out.stderr[-2000:]
    figs = json.loads(out.stdout.strip().splitlines()[-1])
    for k in ("overlay", "scene"):
        assert figs[k]["recall"]["n"] >= 120, figs
        for m in ("precision", "recall"):
            assert figs[k][m]["lower95"] >= BOUND, (k, m, figs[k])
    assert figs["caption_recall"]["value"] >= 0.95, figs["caption_recall"]
    assert figs["uncertain"] <= 10, figs["uncertain"]
    for cat, c in figs["by_category"].items():
        assert c["n"] >= (12 if cat == "photo_lettering" else 19), (cat, c)


def test_no_source_in_both_halves(settings):
    code = ("import json; from tests.analyzers.text_calibration import CUES\n"
            "rows = {h: json.loads(p.read_text())['rows'] for h, p in CUES.items()}\n"
            "print(json.dumps({h: sorted({r['clip'] for r in v}) for h, v in rows.items()}))")
    out = _cpu_python(settings, ["-c", code])
    assert out.returncode == 0, out.stderr[-2000:]
    clips = json.loads(out.stdout.strip().splitlines()[-1])
    assert all(c.startswith("fit_") for c in clips["fit"]) and all(c.startswith("held_out_") for c in clips["held_out"])
    out = _cpu_python(settings, ["-c", "from tests.analyzers.text_set import all_clips, check_split\n"
                                       "clips = all_clips(); check_split(clips)\n"
                                       "print(len([c for c in clips if c.half == 'held_out']))"])
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout.strip()) >= 100, out.stdout


@pytest.mark.slow
def test_sign_in_a_tripod_shot_with_people_walking_past_is_scene(run, tmp_path, assets, settings):
    """scenetext01's sign pasted on vtest.avi's fixed shot, the walkers drawn in front of it (text_set's
    tripod_sign('fit', 1): 3 s, off the frame's middle). Known confusion, not tested here: the same sign
    centred on the frame within 2% of its width (tripod_sign('fit', 2)) is mostly scene or uncertain in
    3.1.0 (its lines are a block, `in_block`, against `centred`), its NOTICE header can still be overlay
    (docs/text_overlay.md)."""
    code = ("import sys; from pathlib import Path; from tests.analyzers import text_set as ts\n"
            "frames = ts.tripod_sign('fit', 1)\n"
            "ts._encode(frames, [], Path(sys.argv[1]))")
    clip = tmp_path / "tripod.mp4"
    out = _cpu_python(settings, ["-c", code, str(clip)])
    assert out.returncode == 0, out.stderr[-2000:]
    env = run(clip, ["text_overlay"]).report.analyzers["text_overlay"]
    assert env.status is Status.ok, (env.status, env.error)
    res = TextOverlayResult.model_validate(env.result)
    signs = [s for s in res.segments if s.text.upper() in {"DOUBLE", "PARKING", "PROHIBITED", "NOTICE"}]
    assert signs, [(s.text, s.kind) for s in res.segments]
    assert all(s.kind == "scene" for s in signs), "\n".join(str((s.text, s.kind, s.overlay_score, s.evidence)) for s in signs)
