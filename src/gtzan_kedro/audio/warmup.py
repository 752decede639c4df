"""Fill numba's on-disk cache in one process before any parallel work.

librosa's gufuncs and our HPSS kernels are compiled with ``cache=True``; when several
processes (joblib/loky or Dask workers, pytest-xdist) compile the same function into an
empty cache at once, a reader can load a half-written entry and crash with a segmentation
fault. Compiling once here, before the pool starts, leaves the workers only reading.
Run it as ``python -m gtzan_kedro.audio.warmup``.
"""

from __future__ import annotations

import numpy as np

_warmed = False


def warm_numba_cache() -> None:
    """Run every numba-compiled feature path once on a short synthetic clip (idempotent)."""
    global _warmed
    if _warmed:
        return
    from gtzan_kedro.audio.features import feature_rows
    from gtzan_kedro.audio.spectrograms import segment_tensors

    sr = 22050
    t = np.arange(int(3.5 * sr)) / sr
    rng = np.random.default_rng(0)
    y = (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sign(np.sin(2 * np.pi * 2 * t)))
         + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
    for extractor in ("reference", "fast"):
        feature_rows(y, sr, "warmup.wav", None, extractor=extractor)
        feature_rows(y, sr, "warmup.wav", None, segment_seconds=3.0, extractor=extractor)
    segment_tensors(y, sr)
    _warmed = True


if __name__ == "__main__":
    warm_numba_cache()
    print("numba cache warm")
