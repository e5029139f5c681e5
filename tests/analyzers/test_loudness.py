"""analyzers/common/loudness.py gives both of its analyzers exactly what their own copies gave.

audio_analysis and audio_environment each had a ``_loudness.py`` (BS.1770 written twice); the
merged module must not move a single figure of either. The figures the two copies measured on
the tracks below are in tests/data/loudness_before_merge.json; each analyzer's environment
measures them again with the merged module, through that analyzer's own calls.
"""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from runner.core.config import REPO_ROOT
from tests.conftest import require_env

BEFORE = json.loads((REPO_ROOT / "tests" / "data" / "loudness_before_merge.json").read_text())["tracks"]

MEASURE = r'''
import json
import numpy as np
from analyzers.common import loudness as LU

def tracks():
    """Deterministic tracks (no random numbers): name -> (float32 samples, rate)."""
    out = {}
    for rate in (16000, 22050):
        t = np.arange(int(8 * rate)) / rate
        amp = np.where(t < 2.7, 0.5, np.where(t < 5.4, 0.05, 0.3))
        out[f"tone_steps_{rate}"] = ((amp * np.sin(2 * np.pi * 1000 * t)).astype(np.float32), rate)
    rate = 16000
    t = np.arange(6 * rate) / rate
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)
    y = env * (0.2 * np.sin(2 * np.pi * 200 * t) + 0.1 * np.sin(2 * np.pi * 700 * t)
               + 0.05 * np.sin(2 * np.pi * 2500 * t))
    y[int(2.5 * rate):int(3.5 * rate)] = 0.0
    out["speechlike"] = (y.astype(np.float32), rate)
    t = np.arange(2 * rate) / rate
    out["short"] = ((0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate)
    out["silence"] = (np.zeros(4 * rate, np.float32), rate)
    t = np.arange(5 * rate) / rate
    out["quiet"] = ((1e-4 * np.sin(2 * np.pi * 100 * t)).astype(np.float32), rate)
    t = np.arange(10 * rate) / rate
    chirp = np.sin(2 * np.pi * (50 * t + (7000 - 50) / (2 * 10) * t * t))
    out["chirp_swell"] = (((0.05 + 0.4 * t / 10) * chirp).astype(np.float32), rate)
    return out

def centres(n, rate, step=0.5):
    duration = n / rate
    bins = max(1, int(np.ceil(duration / step - 1e-9)))
    return np.minimum((np.arange(bins) + 0.5) * step, duration)

res = {}
for name, (y, rate) in tracks().items():
    # audio_environment: integrated, range, short-term maximum of the K-weighted track
    yk = LU.k_weight(y, rate)
    st = LU.short_term(yk, rate)
    gated = st[st > LU.ABS_GATE]
    ae = {"integrated": LU.integrated(yk, rate), "lra": LU.loudness_range(yk, rate),
          "st_max": float(gated.max()) if gated.size else None}
    # audio_analysis: integrated, range and the momentary series
    yk = LU.k_weight(y.astype(np.float64), rate)
    w = LU.window_lufs(yk, rate, centres(len(y), rate), y)
    aa = {"integrated": LU.integrated(yk, rate), "lra": LU.loudness_range(yk, rate),
          "window": [None if np.isnan(v) else float(v) for v in w]}
    res[name] = {"ae": ae, "aa": aa}
print(json.dumps(res))
'''


def _close(a, b) -> bool:
    if isinstance(a, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if a is None or b is None:
        return a is b
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


@pytest.mark.parametrize("analyzer,group", [("audio_environment", "audio"), ("audio_analysis", "cpu")])
def test_merged_loudness_measures_what_each_copy_did(settings, analyzer, group):
    require_env(settings, group)
    proc = subprocess.run([str(settings.envs_dir / group / "bin" / "python"), "-c", MEASURE],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert proc.returncode == 0, proc.stderr
    now = json.loads(proc.stdout)
    key = "ae" if analyzer == "audio_environment" else "aa"
    assert set(now) == set(BEFORE)
    for track, before in BEFORE.items():
        for measure, value in before[key].items():
            assert _close(now[track][key][measure], value), (track, measure, now[track][key][measure], value)
    # the measures that matter: a level where there is sound, none where there is none
    assert BEFORE["silence"][key]["integrated"] is None and BEFORE["quiet"][key]["integrated"] is None
    assert BEFORE["short"][key]["lra"] is None  # under one 3 s block
