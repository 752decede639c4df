"""Training on memory-mapped inputs (a full corpus's 3-s tensors) streams standardised batches:
the values are those of the in-memory path, every row is seen once an epoch, predictions come
back in the split's order, and no full-size copy of the inputs is allocated."""

from __future__ import annotations

import tracemalloc
from types import SimpleNamespace

import numpy as np
import pytest

from gtzan_kedro.evaluation import keras as keras_eval
from gtzan_kedro.evaluation import samples as samples_mod
from gtzan_kedro.evaluation.samples import SampleSet


def _mapped_samples(n: int = 600, shape=(24, 32), classes: int = 3) -> SampleSet:
    rng = np.random.default_rng(0)
    labels = np.array([f"g{i % classes}" for i in range(n)])
    values = rng.normal(loc=3.0, scale=2.0, size=(n, *shape)).astype(np.float32)
    values += (np.arange(n) % classes)[:, None, None].astype(np.float32)   # learnable
    disk = samples_mod._DiskStack()
    for start in range(0, n, 100):
        disk.append(values[start:start + 100])
    return SampleSet(disk.array()[..., np.newaxis], labels, [f"t{i // 10}" for i in range(n)])


def _random_split(n: int, seed: int, n_train: int, n_val: int) -> SimpleNamespace:
    order = np.random.default_rng(seed).permutation(n)
    return SimpleNamespace(name="holdout_0", train=order[:n_train],
                           val=order[n_train:n_train + n_val], test=order[n_train + n_val:])


@pytest.mark.parametrize("mode", ["scalar", "column"])
def test_statistics_and_batches_equal_the_in_memory_standardisation(mode):
    s = _mapped_samples(300, (4, 5))
    train = np.random.default_rng(1).permutation(300)[:200]
    expected = keras_eval.standardise(SampleSet(np.asarray(s.inputs), s.labels, s.track_ids), train, [mode])[0]
    stats = [keras_eval.training_statistics(s.inputs, train, mode)]
    rows = np.arange(300)
    batches = keras_eval.streamed_batches(s, rows, stats, batch_size=64)
    got = np.concatenate([batches[i][0] for i in range(len(batches))])
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    assert keras_eval.training_statistics(s.inputs, train, "none") is None


def test_shuffled_batches_cover_every_row_once_an_epoch_in_a_new_order():
    s = _mapped_samples(130, (2, 2))
    rows = np.arange(5, 125)
    batches = keras_eval.streamed_batches(s, rows, [None], batch_size=32, shuffle=True, seed=3)
    assert len(batches) == 4

    def epoch():
        return [tuple(batches[i][0].reshape(len(batches[i][0]), -1)[:, 0]) for i in range(len(batches))]

    first = epoch()
    batches.on_epoch_end()
    second = epoch()
    flat = sorted(v for b in first for v in b)
    assert flat == sorted(np.asarray(s.inputs)[rows].reshape(len(rows), -1)[:, 0])
    assert first != second and sorted(v for b in second for v in b) == flat


def test_a_memory_mapped_fit_streams_and_predicts_in_the_splits_order(monkeypatch):
    import keras

    monkeypatch.setattr(keras_eval, "STATS_CHUNK", 64)
    s = _mapped_samples(2000, (48, 64))
    split = _random_split(len(s), 2, 1400, 200)

    def build(n_classes):
        model = keras.Sequential([keras.Input((48, 64, 1)), keras.layers.GlobalAveragePooling2D(),
                                  keras.layers.Dense(n_classes, activation="softmax")])
        model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model

    size = s.inputs.nbytes   # 24.6 MB
    tracemalloc.start()
    prediction = keras_eval.fit_keras_split(build, s, split, 0, 3, 42,
                                            {"epochs": 3, "batch_size": 50, "early_stopping_patience": 3},
                                            ["scalar"])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # the in-memory path allocates a standardised copy and the train/val/test copies (measured:
    # 67 MB for these 24.6 MB); streamed, 16 MB with 256-row statistics chunks
    assert peak < size / 2, f"peak {peak} bytes for inputs of {size}"
    assert prediction.test_proba.shape == (400, 3)
    # the predictions are in split.test's order: they match the test rows' own labels
    accuracy = np.mean(prediction.test_proba.argmax(axis=1) == s.codes[split.test])
    assert accuracy > 0.9, accuracy
    assert len(prediction.history["loss"]) >= 1 and "val_loss" in prediction.history


@pytest.mark.parametrize("limit, streamed", [(10**9, False), (1000, True)])
def test_a_large_in_memory_input_is_streamed_too(monkeypatch, limit, streamed):
    """In memory but over MEMMAP_BYTES (cnn_image's 1000 mel images): batches, no full copies."""
    import keras

    from gtzan_kedro.evaluation.splits import make_splits

    monkeypatch.setattr(samples_mod, "MEMMAP_BYTES", limit)
    calls = []
    real = keras_eval.streamed_batches
    monkeypatch.setattr(keras_eval, "streamed_batches",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    rng = np.random.default_rng(0)
    n = 60
    images = rng.integers(0, 255, (n, 6, 6, 3), dtype=np.uint8)
    labels = np.array([f"g{i % 2}" for i in range(n)])
    s = SampleSet(images, labels, [f"t{i}" for i in range(n)])
    split = make_splits("holdout", s.track_ids, s.labels, n_splits=1, test_size=0.25, val_size=0.25)[0]

    def build(n_classes):
        inputs = keras.Input(shape=(6, 6, 3))
        x = keras.layers.Flatten()(inputs)
        model = keras.Model(inputs, keras.layers.Dense(n_classes, activation="softmax")(x))
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    prediction = keras_eval.fit_keras_split(build, s, split, 0, 2, 0, {"epochs": 1, "progress_every": 0},
                                            ["none"])
    assert bool(calls) is streamed
    assert prediction.test_proba.shape == (len(split.test), 2)


def test_a_streamed_fit_ignores_draws_from_the_global_random_module(monkeypatch):
    """The batches' order is the dataset's own (its seed): Keras' PyDataset adapter, left to
    shuffle, draws the batch order from Python's process-wide `random` in tf.data's thread,
    so any other thread's draws (a Dask worker's event loop, a logging thread) changed it."""
    import random

    import keras

    s = _mapped_samples(400, (6, 8))
    split = _random_split(len(s), 4, 280, 60)

    def build(n_classes):
        model = keras.Sequential([keras.Input((6, 8, 1)), keras.layers.Flatten(),
                                  keras.layers.Dense(n_classes, activation="softmax")])
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
        return model

    fit_params = {"epochs": 3, "batch_size": 16, "progress_every": 0}

    def weights(draws: int) -> list[np.ndarray]:
        original_fit = keras.Model.fit

        def fit_with_draws(model, *args, **kwargs):   # another thread's draws between epochs
            callback = keras.callbacks.LambdaCallback(
                on_epoch_begin=lambda epoch, logs: [random.random() for _ in range(draws)])
            kwargs["callbacks"] = [*kwargs.get("callbacks", []), callback]
            return original_fit(model, *args, **kwargs)

        monkeypatch.setattr(keras.Model, "fit", fit_with_draws)
        try:
            prediction = keras_eval.fit_keras_split(build, s, split, 0, 3, 42, fit_params, ["scalar"])
        finally:
            monkeypatch.setattr(keras.Model, "fit", original_fit)
        return [w.copy() for w in prediction.model.get_weights()]

    alone, disturbed = weights(0), weights(5)
    assert len(alone) == 2
    for a, b in zip(alone, disturbed, strict=True):
        np.testing.assert_array_equal(a, b)
