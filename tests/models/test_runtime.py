"""Accelerator set-up: mixed precision only with a GPU (a logged no-op on this CPU), softmax
outputs kept in float32 under the mixed policy, and the project's builders still train."""

import logging
from dataclasses import dataclass

import numpy as np
import pytest

from gtzan_kedro.models.mlp import build_mlp
from gtzan_kedro.models.runtime import MIXED_POLICY, configure_accelerator, softmax_output


@dataclass
class FakeGPU:
    """Stands in for a tf.config.PhysicalDevice on a machine without a GPU."""

    name: str = "/physical_device:GPU:0"
    device_type: str = "GPU"


@pytest.fixture(autouse=True)
def float32_policy_after():
    """The dtype policy is process-wide: put float32 back for the other tests."""
    import keras

    yield
    keras.mixed_precision.set_dtype_policy("float32")


def _fit_predict(model, n_features=5):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, n_features)).astype("float32")
    model.fit(X, rng.integers(0, 3, 32), epochs=1, batch_size=16, verbose=0)
    return model.predict(X[:4], verbose=0)


def test_mixed_precision_without_gpu_is_a_logged_no_op(caplog):
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    with caplog.at_level(logging.INFO, logger="gtzan_kedro.models.runtime"):
        info = configure_accelerator({"mixed_precision": True})
    assert info.gpus == [] and info.policy == "float32" and not info.mixed_precision
    assert not info.memory_growth and info.cpus
    assert "mixed_precision requested but no GPU" in caplog.text
    assert "sees GPUs none" in caplog.text
    proba = _fit_predict(build_mlp(5, 3, units=[8], seed=0))
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


def test_with_a_gpu_the_mixed_policy_is_set_and_softmax_stays_float32(caplog):
    import keras

    with caplog.at_level(logging.WARNING, logger="gtzan_kedro.models.runtime"):
        info = configure_accelerator({"mixed_precision": True}, list_gpus=lambda: [FakeGPU()])
    assert info.gpus == ["/physical_device:GPU:0"] and info.policy == MIXED_POLICY
    assert info.mixed_precision
    assert not info.memory_growth and "memory growth not set" in caplog.text  # fake device
    inputs = keras.Input(shape=(5,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    assert hidden.dtype == "float16"  # the policy is in force
    model = keras.Model(inputs, softmax_output(3, name="genre")(hidden))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    proba = _fit_predict(model)
    assert model.output.dtype == "float32" and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    # the project's MLP builder still compiles, trains and predicts under the mixed policy
    proba = _fit_predict(build_mlp(5, 3, units=[8], seed=0))
    np.testing.assert_allclose(proba.astype(np.float32).sum(axis=1), 1.0, atol=2e-3)


def test_use_gpu_false_hides_gpus_and_a_second_call_resets_the_policy():
    info = configure_accelerator({"mixed_precision": True}, list_gpus=lambda: [FakeGPU()])
    assert info.mixed_precision
    info = configure_accelerator({"mixed_precision": True, "use_gpu": False},
                                 list_gpus=lambda: [FakeGPU()])
    assert info.gpus == [] and info.policy == "float32"


def test_unknown_parameters_are_named():
    with pytest.raises(ValueError, match=r"unknown accelerator parameters \['mixed'\]"):
        configure_accelerator({"mixed": True})
