"""`gtzan predict` and `gtzan tags` start TensorFlow with its start-up lines kept out of the
terminal: TF 2.19+ prints them before it reads TF_CPP_MIN_LOG_LEVEL."""

from __future__ import annotations

import subprocess
import sys

import pytest

START_UP = ("oneDNN custom operations", "absl::InitializeLog")


def _stderr(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          check=True)
    return done.stderr


def test_tensorflow_starts_without_its_start_up_lines_on_stderr() -> None:
    pytest.importorskip("tensorflow")
    plain = _stderr("import tensorflow as tf; tf.config.list_physical_devices()")
    if not any(line in plain for line in START_UP):
        pytest.skip("this TensorFlow build prints no start-up lines")
    quiet = _stderr("from gtzan_kedro.cli import tensorflow_quietly; tensorflow_quietly();"
                    "import tensorflow as tf; print(tf.constant(1).numpy())")
    assert not any(line in quiet for line in START_UP), quiet
    assert "failed call to cuInit" not in quiet
