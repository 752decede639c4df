"""MLP presets build the reports' networks; the wrapper fits scaling on training rows only."""

import numpy as np
import pytest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from gtzan_kedro.models.mlp import MLP_PRESETS, KerasMLPClassifier, build_mlp, fit_with_validation, preset


def dense_layers(model):
    return [layer for layer in model.layers if layer.__class__.__name__ == "Dense"]


@pytest.mark.parametrize("name, hidden", [
    ("nadam3", [512, 256, 64]), ("nadam4", [1024, 512, 256, 64]), ("wide5_l1l2", [500] * 5),
    ("deep3_l2", [750] * 3), ("pyramid", [256, 128, 64]), ("tanh50", [50]),
    ("relu4", [100, 250, 250, 100]),
])
def test_presets_have_the_reports_shapes(name, hidden):
    model = build_mlp(57, 10, **preset(name))
    dense = dense_layers(model)
    assert [layer.units for layer in dense[:-1]] == hidden
    assert dense[-1].units == 10 and model.output_shape == (None, 10)
    params = MLP_PRESETS[name]
    assert model.optimizer.__class__.__name__.lower() == params["optimizer"]
    if params.get("dropout"):
        drops = [layer.rate for layer in model.layers if layer.__class__.__name__ == "Dropout"]
        assert drops == [params["dropout"]] * len(hidden)
    if params.get("l2") or params.get("l1"):
        assert dense[0].kernel_regularizer is not None
    assert dense[0].activation.__name__ == params.get("activation", "relu")


def test_unknown_preset():
    with pytest.raises(ValueError, match="unknown MLP preset"):
        preset("huge")


def test_scaler_is_fitted_on_training_rows_only_and_early_stopping_runs():
    rng = np.random.default_rng(0)
    X_train = rng.normal(5, 2, size=(60, 4))
    y_train = np.repeat(np.array(["a", "b", "c"], dtype=object), 20)
    X_val = rng.normal(-50, 9, size=(15, 4))  # very different: would shift the mean if used
    y_val = np.repeat(np.array(["a", "b", "c"], dtype=object), 5)
    pipe = Pipeline([("scale", StandardScaler()),
                     ("model", KerasMLPClassifier(preset="tanh50", epochs=3, patience=1))])
    fit_with_validation(pipe, X_train, y_train, X_val, y_val)
    np.testing.assert_allclose(pipe["scale"].mean_, X_train.mean(axis=0))
    np.testing.assert_allclose(pipe["scale"].scale_, X_train.std(axis=0))
    assert "val_loss" in pipe["model"].history_ and len(pipe["model"].history_["loss"]) <= 3
    proba = pipe.predict_proba(X_val)
    assert proba.shape == (15, 3) and np.allclose(proba.sum(axis=1), 1, atol=1e-4)
    assert set(pipe.predict(X_val)) <= {"a", "b", "c"}


def test_mlp_logs_epochs_every_progress_every_and_seeds_a_build_fn(caplog):
    import logging

    import keras

    from gtzan_kedro.models.mlp import KerasMLPClassifier, build_mlp

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5)).astype("float32")
    y = np.array(["a", "b", "c"] * 20, dtype=object)
    seen = []

    def build_fn(n_features, n_classes):
        seen.append(float(keras.random.uniform((1,))[0]))  # the global seed decides this draw
        return build_mlp(n_features, n_classes, units=[4])

    with caplog.at_level(logging.INFO):
        KerasMLPClassifier(build_fn=build_fn, epochs=4, progress_every=2, seed=3).fit(X, y)
    KerasMLPClassifier(build_fn=build_fn, epochs=1, progress_every=0, seed=3).fit(X, y)
    assert seen[0] == seen[1]
    lines = [r.getMessage() for r in caplog.records if " epoch " in r.getMessage()]
    assert [line.split(":")[0] for line in lines] == ["MLP mlp epoch 2/4", "MLP mlp epoch 4/4"]


def test_output_layer_stays_float32_under_mixed_precision():
    import keras

    from gtzan_kedro.models.cnn import build_segment_cnn
    from gtzan_kedro.models.lstm import build_lstm
    from gtzan_kedro.models.mlp import build_mlp
    from gtzan_kedro.models.multimodal import build_multimodal

    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        models = [build_mlp(5, 3, units=[4]),
                  build_segment_cnn((8, 8), 3, conv_filters=[2], dense_units=[4]),
                  build_multimodal(5, (8, 8), 3, mlp_units=[4], conv_filters=[2], branch_units=4,
                                   dense_units=[4]),
                  build_lstm(3, 2, units=2)]
        for model in models:
            assert model.layers[-1].dtype_policy.compute_dtype == "float32", model.name
            assert model.layers[1].dtype_policy.compute_dtype == "float16", model.name
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
