"""Chronological split, train-only scalers, windows, non-negative forecasters, metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gtzan_kedro.pm25.baselines import LagDesign, NonNegativeRidge, persistence_forecasts, ridge_forecasts
from gtzan_kedro.pm25.features import (
    CALENDAR_COLUMNS,
    REPORT_11,
    WIND_COLUMNS,
    add_model_features,
    chronological_split,
    fit_scalers,
    scaled_inputs,
    targets,
    window_origins,
    windows,
)
from gtzan_kedro.pm25.metrics import METRIC_COLUMNS, forecast_metrics
from gtzan_kedro.pm25.quality import clean_prsa
from gtzan_kedro.pm25.synth import synthetic_prsa


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    hourly, _ = clean_prsa(synthetic_prsa(seed=5, start="2012-01-01", end="2012-04-30"), "synthetic")
    return add_model_features(hourly)


def test_one_hot_wind_and_cyclic_calendar(features):
    known = features["cbwd"].notna()
    assert (features.loc[known, WIND_COLUMNS].sum(axis=1) == 1).all()
    assert (features.loc[known, "cbwd_NW"] == (features.loc[known, "cbwd"] == "NW")).all()
    for name in ("hour", "dow", "month"):
        radius = features[f"{name}_sin"] ** 2 + features[f"{name}_cos"] ** 2
        np.testing.assert_allclose(radius, 1.0)
    midnight, noon = features.index.hour == 0, features.index.hour == 12
    assert np.allclose(features.loc[midnight, "hour_cos"], 1) and np.allclose(features.loc[noon, "hour_cos"], -1)


def test_split_is_chronological_70_30_with_a_validation_tail():
    split = chronological_split(1000, test_fraction=0.3, valid_fraction=0.1)
    assert split.test_start == 700 and split.valid_start == 630
    segments = split.segment(np.arange(1000))
    assert (segments[:630] == "train").all() and (segments[630:700] == "valid").all()
    assert (segments[700:] == "test").all()
    # Contiguous and ordered: train hours all precede validation hours, which precede test hours.
    changes = np.flatnonzero(segments[1:] != segments[:-1])
    assert changes.tolist() == [629, 699]


def test_forecast_targets_never_cross_segments(features):
    split = chronological_split(len(features))
    predictions = persistence_forecasts(features, [1, 6, 24], split)
    stamps = pd.DatetimeIndex(predictions["timestamp"])
    test_start = features.index[split.test_start]
    valid_start = features.index[split.valid_start]
    assert (stamps[predictions["segment"] == "test"] >= test_start).all()
    assert (stamps[predictions["segment"] != "test"] < test_start).all()
    assert (stamps[predictions["segment"] == "train"] < valid_start).all()
    for _, group in predictions.groupby("horizon_h"):
        assert not group["timestamp"].duplicated().any()


def test_scalers_are_fitted_on_training_rows_only(features):
    split = chronological_split(len(features))
    columns = REPORT_11 + CALENDAR_COLUMNS
    scalers = fit_scalers(features, columns, split)
    tampered = features.copy()
    tampered.iloc[split.valid_start:, tampered.columns.get_indexer(["pm2.5", "pm2.5_filled", "TEMP"])] *= 1000
    again = fit_scalers(tampered, columns, split)
    np.testing.assert_array_equal(scalers.inputs.data_max_, again.inputs.data_max_)
    assert scalers.target_scale == again.target_scale
    train = features.iloc[: split.valid_start]
    assert scalers.target_scale == train["pm2.5"].max()
    x = scaled_inputs(features, scalers)
    assert np.nanmax(x[: split.valid_start]) == pytest.approx(1.0)
    assert np.nanmin(x[: split.valid_start]) == pytest.approx(0.0)
    # The target scaler only divides: 0 ug/m3 is 0 in scaled space.
    assert scalers.target.transform([[0.0]])[0, 0] == 0.0


def test_windows_end_at_the_origin_and_skip_gaps():
    inputs = np.arange(20, dtype=np.float32).reshape(10, 2)
    inputs[4, 1] = np.nan
    origins = window_origins(inputs, lookback=3, min_horizon=1)
    assert origins.tolist() == [2, 3, 7, 8]
    stacked = windows(inputs, origins, 3)
    assert stacked.shape == (4, 3, 2)
    np.testing.assert_array_equal(stacked[2], inputs[5:8])
    y = targets(np.arange(10, dtype=float), origins, [1, 2])
    np.testing.assert_array_equal(y[:, 0], origins + 1)
    assert np.isnan(y[-1, 1])  # origin 8 + 2 h is past the end


@pytest.mark.parametrize(("activation", "skip_connection", "persistence_column"),
                         [("softplus", False, None), ("softplus", True, None), ("relu", False, 0)])
def test_lstm_forecasts_are_non_negative_even_for_adversarial_inputs(activation, skip_connection,
                                                                     persistence_column):
    from gtzan_kedro.models.lstm import build_lstm

    rng = np.random.default_rng(0)
    kwargs = {"skip_connection": skip_connection, "persistence_column": persistence_column}
    model = build_lstm(lookback=4, n_features=3, units=2, n_outputs=3, output_activation=activation, **kwargs)
    # Push the pre-activation hard negative: large weights and inputs of both signs.
    for layer in model.layers:
        if layer.weights:
            layer.set_weights([w * 50 for w in layer.get_weights()])
    adversarial = np.concatenate([rng.normal(0, 1e3, (64, 4, 3)), -1e6 * np.ones((1, 4, 3)),
                                  1e6 * np.ones((1, 4, 3))]).astype(np.float32)
    forecasts = model.predict(adversarial, verbose=0)
    assert np.isfinite(forecasts).all()
    assert (forecasts >= 0).all()
    linear = build_lstm(lookback=4, n_features=3, units=2, n_outputs=3, output_activation="linear", **kwargs)
    linear.set_weights(model.get_weights())
    assert (linear.predict(adversarial, verbose=0) < 0).any()  # the activation is what protects


def test_lstm_trains_and_forecasts_on_masked_targets():
    from gtzan_kedro.models.lstm import build_lstm, fit_lstm

    rng = np.random.default_rng(1)
    x = rng.random((200, 6, 2)).astype(np.float32)
    y = np.stack([x[:, -1, 0], x[:, -1, 1]], axis=1)
    y[::3, 1] = np.nan
    model = build_lstm(6, 2, units=4, n_outputs=2, learning_rate=0.01)
    history = fit_lstm(model, x[:150], y[:150], x[150:], y[150:], epochs=2, batch_size=32, patience=1,
                       verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert (model.predict(x, verbose=0) >= 0).all()


def test_ridge_output_is_non_negative():
    x = np.linspace(0, 1, 50).reshape(-1, 1)
    y = 1.0 - 2.0 * x[:, 0]  # a straight line crossing zero
    ridge = NonNegativeRidge(alpha=1e-6).fit(x, y)
    assert (ridge.predict(np.array([[5.0], [100.0]])) >= 0).all()
    assert ridge.predict(np.array([[0.0]]))[0] == pytest.approx(1.0, abs=1e-3)


def test_metrics_score_observed_targets_against_persistence_on_the_same_hours(features):
    split = chronological_split(len(features))
    persistence = persistence_forecasts(features, [1, 6], split)
    columns = REPORT_11
    scalers = fit_scalers(features, columns, split)
    data = LagDesign(scaled_inputs(features, scalers), columns, features, scalers.target_scale, split, lags=12)
    ridge = ridge_forecasts(data, [1, 6], alpha=1.0, features="report11")
    assert (ridge["y_pred"] >= 0).all()
    metrics = forecast_metrics(pd.concat([persistence, ridge]), persistence, scalers.target_scale)
    assert list(metrics.columns) == METRIC_COLUMNS
    assert len(metrics) == 4
    own = metrics[metrics["model"] == "persistence"]
    np.testing.assert_allclose(own["rmse"], own["persistence_rmse"])
    np.testing.assert_allclose(metrics["skill"], 1 - metrics["rmse"] / metrics["persistence_rmse"])
    np.testing.assert_allclose(metrics["mse_scaled"], metrics["rmse"] ** 2 / scalers.target_scale**2, rtol=1e-9)
    # Recompute persistence at 1 h by hand on observed test targets.
    observed = features["pm2.5"].to_numpy()
    filled = features["pm2.5_filled"].to_numpy()
    rows = np.arange(split.test_start, len(features))
    keep = np.isfinite(observed[rows]) & np.isfinite(filled[rows - 1])
    expected = np.sqrt(np.mean((observed[rows][keep] - filled[rows - 1][keep]) ** 2))
    assert own.loc[own["horizon_h"] == 1, "rmse"].iloc[0] == pytest.approx(expected)


@pytest.mark.shared_data
def test_persistence_on_the_real_file_reproduces_the_published_figures(shared_data):
    path = shared_data("pm25/PRSA_data_2010.1.1-2014.12.31.csv")
    hourly, report = clean_prsa(pd.read_csv(path), str(path), max_gap_hours=24)
    assert report.set_index("check").loc["missing_pm2.5_target", "count"] == 2067
    split = chronological_split(len(hourly))
    persistence = persistence_forecasts(hourly, [1, 6, 24], split)
    metrics = forecast_metrics(persistence, persistence, 1.0).set_index("horizon_h")["rmse"]
    assert metrics[1] == pytest.approx(21.4, abs=0.1)
    assert metrics[6] == pytest.approx(60.8, abs=0.1)
    assert metrics[24] == pytest.approx(97.1, abs=0.1)


def test_lstm_search_plans_one_progress_step_per_trained_member():
    from gtzan_kedro.pm25.search import planned_fits

    assert planned_fits({"lookback": [24, 48], "units": [[32]], "n_members": 2,
                         "average_grid": True}) == 4
    assert planned_fits({"lookback": [24, 48], "units": [[32]], "n_members": 3}) == 4
    assert planned_fits({"lookback": 1, "units": 2}) == 1
