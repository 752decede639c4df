"""evaluate_keras fits one network again and again (recycle_network): each split still starts
from its own seed's fresh state, so the predictions are those of a fresh model, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from gtzan_kedro.evaluation import keras as keras_eval
from gtzan_kedro.evaluation.samples import SampleSet
from gtzan_kedro.evaluation.splits import make_splits


def _samples(n: int = 80, width: int = 12) -> SampleSet:
    rng = np.random.default_rng(0)
    labels = np.array([("blues", "rock", "jazz")[i % 3] for i in range(n)])
    x = rng.normal(size=(n, width)).astype("float32")
    x[:, 0] += np.array([0.0, 2.0, 4.0])[np.arange(n) % 3]
    return SampleSet(x, labels, [f"{labels[i]}.{i:05d}.wav" for i in range(n)])


def _build(width: int = 12):
    """Dropout (a seed generator), batch norm (non-trainable state) and Adam (slots)."""
    import keras

    from gtzan_kedro.models.cnn import compile_classifier

    def build(n_classes):
        inputs = keras.Input(shape=(width,))
        x = keras.layers.Dense(16, activation="relu")(inputs)
        x = keras.layers.Dropout(0.3)(x)
        x = keras.layers.BatchNormalization()(x)
        return compile_classifier(keras.Model(inputs, keras.layers.Dense(n_classes, activation="softmax")(x)),
                                  0.01)
    return build


FIT = {"epochs": 6, "batch_size": 8, "early_stopping_patience": 2, "progress_every": 0}


def test_a_recycled_network_predicts_what_a_fresh_one_does():
    samples = _samples()
    splits = make_splits("holdout", samples.track_ids, samples.labels, n_splits=2,
                         test_size=0.25, val_size=0.25)
    first = keras_eval.fit_keras_split(_build(), samples, splits[0], 0, 3, 7, FIT, ["column"])
    fresh = keras_eval.fit_keras_split(_build(), samples, splits[1], 1, 3, 7, FIT, ["column"])
    again = keras_eval.fit_keras_split(_build(), samples, splits[1], 1, 3, 7, FIT, ["column"],
                                       reuse=first.model)
    assert again.model is first.model          # the earlier network, fitted again
    np.testing.assert_array_equal(again.test_proba, fresh.test_proba)
    assert again.history == fresh.history
    # the first split's own predictions were not those of the second's weights
    assert not np.array_equal(first.test_proba[:5], again.test_proba[:5])


def test_networks_of_another_shape_are_not_recycled():
    import keras

    samples = _samples()
    split = make_splits("holdout", samples.track_ids, samples.labels, n_splits=1,
                        test_size=0.25, val_size=0.25)[0]
    other = _build(width=5)(3)
    assert keras_eval.recycle_network(other, _build()(3)) is None
    assert keras_eval.recycle_network(None, _build()(3)) is None
    prediction = keras_eval.fit_keras_split(_build(), samples, split, 0, 3, 7, FIT, ["column"], reuse=other)
    assert prediction.model is not other and isinstance(prediction.model, keras.Model)


def test_a_frozen_base_classifier_recycles_its_head():
    import keras

    from gtzan_kedro.models.transfer import FeatureExtractor, FrozenBaseClassifier

    inputs = keras.Input(shape=(6, 6, 3))
    base = keras.Model(inputs, keras.layers.Flatten()(keras.layers.Conv2D(2, 3)(inputs)))
    extractor = FeatureExtractor(base)
    rng = np.random.default_rng(1)
    n = 60
    labels = np.array([f"g{i % 2}" for i in range(n)])
    images = rng.integers(0, 255, (n, 6, 6, 3)).astype("uint8")
    images[labels == "g1", :3] = 255
    samples = SampleSet(images, labels, [f"t{i}" for i in range(n)])
    splits = make_splits("holdout", samples.track_ids, samples.labels, n_splits=2,
                         test_size=0.25, val_size=0.25)

    def build(n_classes):
        return FrozenBaseClassifier(extractor, n_classes, dense_units=(8,), dropout=0.2)

    fit = dict(FIT, epochs=3)
    first = keras_eval.fit_keras_split(build, samples, splits[0], 0, 2, 3, fit, ["none"])
    fresh = keras_eval.fit_keras_split(build, samples, splits[1], 1, 2, 3, fit, ["none"])
    again = keras_eval.fit_keras_split(build, samples, splits[1], 1, 2, 3, fit, ["none"], reuse=first.model)
    assert again.model is first.model
    np.testing.assert_array_equal(again.test_proba, fresh.test_proba)
    other = FrozenBaseClassifier(FeatureExtractor(base), 2, dense_units=(8,))
    assert keras_eval.recycle_network(other, build(2)) is None   # another feature cache


@pytest.mark.parametrize("protocols, fitted_networks", [(["holdout"], 1),
                                                        (["holdout", "leaky_segments"], 2)])
def test_the_loop_fits_one_network_again_and_keeps_the_first_protocols_last(protocols, fitted_networks):
    import gc
    import weakref

    fitted = []

    def build(n_classes):
        model = _build()(n_classes)
        real_fit = model.fit

        def fit(*args, **kwargs):
            if not any(ref() is model for ref in fitted):
                fitted.append(weakref.ref(model))
            return real_fit(*args, **kwargs)

        model.fit = fit
        return model

    result = keras_eval.evaluate_keras("tiny", "toy", build, _samples(), protocols,
                                       {"n_holdouts": 3, "n_leaky": 2, "seed": 0},
                                       dict(FIT, epochs=2), how=["column"])
    # holdout: one network for its 3 splits, kept; leaky_segments: one more for its 2
    assert len(fitted) == fitted_networks
    gc.collect()
    assert fitted[0]() is result.fitted_models["tiny"]
    assert [ref() for ref in fitted[1:] if ref() is not None] == []
