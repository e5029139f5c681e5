"""Loudness of the extracted mono 16-bit WAV, with the standard library only.

temporal_flow runs in the ``core`` group (no numpy): it reads the audio itself
only when ``audio_analysis`` gave no loudness series.
"""
from __future__ import annotations

import math
import wave
from array import array

from shared_schema.results.temporal import SpanValue

FLOOR_DB = -50.0  # below the clip's peak by this much counts as silence (0)


def loudness(path, hop_s: float = 0.1) -> list[SpanValue]:
    """RMS per hop in dB relative to the loudest hop, mapped to 0..1 over FLOOR_DB..0 dB."""
    with wave.open(str(path)) as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"expected 16-bit PCM, got {8 * w.getsampwidth()}-bit")
        rate, channels = w.getframerate(), w.getnchannels()
        samples = array("h")
        samples.frombytes(w.readframes(w.getnframes()))
    if channels > 1:
        samples = array("h", samples[::channels])
    hop = max(1, int(rate * hop_s))
    rms = []
    for i in range(0, len(samples), hop):
        chunk = samples[i:i + hop]
        rms.append(math.sqrt(sum(x * x for x in chunk) / len(chunk)) if chunk else 0.0)
    peak = max(rms, default=0.0)
    out = []
    for k, r in enumerate(rms):
        start = k * hop / rate
        end = min(len(samples), (k + 1) * hop) / rate
        if peak <= 0 or r <= 0:
            v = 0.0
        else:
            db = 20 * math.log10(r / peak)
            v = max(0.0, 1.0 - db / FLOOR_DB)
        out.append(SpanValue(start=round(start, 4), end=round(end, 4), value=round(v, 4)))
    return out
