"""TensorFlow runs on one CPU thread per process unless the user says otherwise: on several
threads its CPU kernels gave other CNN scores from run to run."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = "import os, gtzan_kedro; print(os.environ['TF_NUM_INTRAOP_THREADS'], os.environ['TF_NUM_INTEROP_THREADS'])"


def _threads_after_import(**env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TF_NUM_")}
    out = subprocess.run([sys.executable, "-c", PROBE], env={**clean, **env}, check=True,
                         capture_output=True, text=True, timeout=120)
    return out.stdout.split()


def test_importing_the_project_sets_one_tensorflow_thread():
    assert _threads_after_import() == ["1", "1"]


@pytest.mark.parametrize("value", ["0", "4"])
def test_a_thread_count_in_the_environment_is_kept(value):
    assert _threads_after_import(TF_NUM_INTRAOP_THREADS=value, TF_NUM_INTEROP_THREADS=value) == [value, value]
