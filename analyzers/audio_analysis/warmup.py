"""Compile librosa's numba kernels into a cache an image ships (run once, at image build).

Importing librosa compiles its numba kernels (~18 CPU seconds). A container's root is
read-only, so numba can only cache in the job's temp folder, which dies with the job. Run
this at build time with NUMBA_CACHE_DIR=<sys.prefix>/numba-cache; the analyzer's setup copies
that folder into the job's cache before it imports librosa:

    NUMBA_CACHE_DIR="$(python -c 'import sys; print(sys.prefix)')/numba-cache" python warmup.py
"""
from __future__ import annotations

import numpy as np


def main() -> None:
    import librosa

    sr, hop, n_fft = 16000, 256, 1024
    y = (0.1 * np.random.default_rng(0).standard_normal(3 * sr)).astype(np.float32)
    S = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop))
    librosa.feature.rms(y=y, frame_length=n_fft, hop_length=hop)
    librosa.feature.spectral_centroid(S=S, sr=sr)
    librosa.feature.spectral_rolloff(S=S, sr=sr)
    librosa.feature.spectral_bandwidth(S=S, sr=sr)
    librosa.feature.spectral_flatness(S=S)
    librosa.feature.zero_crossing_rate(y, frame_length=n_fft, hop_length=hop)
    env = librosa.onset.onset_strength(y=y, sr=sr, hop_length=hop)
    librosa.feature.tempo(onset_envelope=env, sr=sr, hop_length=hop)
    librosa.onset.onset_detect(onset_envelope=env, sr=sr, hop_length=hop)


if __name__ == "__main__":
    main()
