"""A clip's features and tensors are the same bits whatever BLAS thread count the process
that computes them has (joblib's workers have one, the Dask runner's the driver's)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

SCRIPT = """
import hashlib, numpy as np
from gtzan_kedro.audio.features import feature_rows
from gtzan_kedro.audio.spectrograms import segment_tensors
y = np.random.default_rng(0).standard_normal(22050 * 6).astype(np.float32) * 0.1
rows = feature_rows(y, 22050, "noise.wav", None, segment_seconds=3.0, extractor="fast")
tensors = segment_tensors(y, 22050, segment_seconds=3.0)
digest = hashlib.md5()
for row in rows:
    digest.update(np.array([v for v in row.values() if isinstance(v, float)]).tobytes())
for name in sorted(tensors):
    digest.update(np.ascontiguousarray(tensors[name]).tobytes())
print(digest.hexdigest())
"""


def _digest(threads: int) -> str:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads)}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: BLAS cannot use a second thread")
def test_features_and_tensors_do_not_depend_on_the_blas_thread_count() -> None:
    one, two = _digest(1), _digest(2)
    assert len(one) == len(hashlib.md5().hexdigest())
    assert one == two
