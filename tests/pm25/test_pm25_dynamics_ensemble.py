"""Causal dynamic features, the seed ensemble of the strong LSTM and its learning-rate schedule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gtzan_kedro.pm25.features import DYNAMIC_COLUMNS, add_dynamics, add_model_features
from gtzan_kedro.pm25.quality import clean_prsa
from gtzan_kedro.pm25.synth import synthetic_prsa


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    hourly, _ = clean_prsa(synthetic_prsa(seed=3, start="2012-01-01", end="2012-03-31"), "synthetic")
    return add_dynamics(add_model_features(hourly))



def train_lstm_forecaster(table, split, params, cfg):
    """The search's forecasts of every hour, as the pipeline node returns them."""
    from gtzan_kedro.pipelines.pm25_forecast.nodes import train_lstm_forecaster as node

    return node(table, split, params["horizons"], params["feature_sets"], params.get("seed", 0), cfg)[0]

def test_dynamic_features_are_causal(features):
    origin = 1000
    future = features.copy()
    rows = future.index[origin + 1:]
    future.loc[rows, "pm2.5_filled"] = future.loc[rows, "pm2.5_filled"] * 7 + 300
    for column in ("DEWP", "PRES", "TEMP", "Iws"):
        future.loc[rows, column] = -future.loc[rows, column] + 11
    future.loc[rows, "cbwd"] = "NW"
    again = add_dynamics(future)
    past = features.index[: origin + 1]
    pd.testing.assert_frame_equal(again.loc[past, DYNAMIC_COLUMNS], features.loc[past, DYNAMIC_COLUMNS])
    # ... while the future rows did change: the comparison above can fail.
    assert not np.allclose(again.loc[rows, "pm_mean24"], features.loc[rows, "pm_mean24"])


def test_dynamic_features_values(features):
    pm = features["pm2.5_filled"]
    i = 500
    assert features["pm_diff3"].iloc[i] == pytest.approx(pm.iloc[i] - pm.iloc[i - 3])
    assert features["pm_mean24"].iloc[i] == pytest.approx(pm.iloc[i - 23: i + 1].mean())
    assert features["pm_max24"].iloc[i] == pytest.approx(pm.iloc[i - 23: i + 1].max())
    assert features["PRES_d6"].iloc[i] == pytest.approx(features["PRES"].iloc[i] - features["PRES"].iloc[i - 6])
    nw = (features["cbwd"] == "NW").to_numpy()
    run = 0
    for k in range(len(features)):
        run = run + 1 if nw[k] else 0
        assert features["nw_hours"].iloc[k] == min(run, 72)


def test_ensemble_mean_is_the_mean_of_its_members():
    from gtzan_kedro.models.lstm import ensemble_mean

    members = [np.array([[1.0], [4.0]]), np.array([[3.0], [0.0]]), np.array([[2.0], [5.0]])]
    np.testing.assert_allclose(ensemble_mean(members), [[2.0], [3.0]])
    with pytest.raises(ValueError, match="at least one member"):
        ensemble_mean([])


def test_strong_lstm_ensemble_averages_its_seed_members(features):
    from gtzan_kedro.pipelines.pm25_forecast.nodes import split_pm25

    table = features.reset_index()
    split = split_pm25(table, {"test_fraction": 0.3, "valid_fraction": 0.1})
    cfg = {"name": "strong_lstm", "features": "small", "lookback": [4], "units": [[3]], "learning_rate": 0.003,
           "persistence_residual": True, "output_activation": "relu", "epochs": 1, "batch_size": 512,
           "patience": 1, "train_stride": 3}

    def forecast(seed: int, n_members: int) -> np.ndarray:
        params = {"horizons": [1], "seed": seed, "feature_sets": {"small": ["pm2.5_filled", "DEWP", "pm_diff1"]}}
        return train_lstm_forecaster(table, split, params, {**cfg, "n_members": n_members})["y_pred"].to_numpy()

    single0, single1, pair = forecast(0, 1), forecast(1, 1), forecast(0, 2)
    assert not np.allclose(single0, single1)  # the members differ, so the mean is a real test
    np.testing.assert_allclose(pair, (single0 + single1) / 2, rtol=1e-4, atol=1e-3)
    assert (pair >= 0).all()


def test_learning_rate_is_halved_when_validation_stalls():
    from gtzan_kedro.models.lstm import build_lstm, fit_lstm

    rng = np.random.default_rng(2)
    x = rng.random((64, 3, 2)).astype(np.float32)
    y = rng.random((64, 1)).astype(np.float32)  # noise: the validation loss cannot keep improving
    model = build_lstm(3, 2, units=2, learning_rate=0.01)
    history = fit_lstm(model, x[:48], y[:48], x[48:], y[48:], epochs=6, batch_size=16, patience=10,
                       lr_patience=1, verbose=0)
    rates = np.asarray(history.history["learning_rate"], dtype=float)
    assert rates[0] == pytest.approx(0.01)
    assert rates.min() < 0.01


def _frame(model: str, features: str, segment: list[str], y_true: np.ndarray, y_pred: np.ndarray) -> pd.DataFrame:
    stamps = pd.date_range("2014-01-01", periods=len(y_true), freq="h")
    return pd.DataFrame({"timestamp": stamps, "model": model, "features": features, "horizon_h": 1,
                         "segment": segment, "y_true": y_true, "y_pred": y_pred})


def test_ensemble_weight_is_picked_on_the_validation_tail_only():
    from gtzan_kedro.pipelines.pm25_forecast.nodes import ensemble_forecasts

    rng = np.random.default_rng(4)
    n = 400
    segment = ["valid"] * 200 + ["test"] * 200
    truth = rng.uniform(50, 150, n)
    noise_a, noise_b = rng.normal(0, 10, n), rng.normal(0, 10, n)
    # On the validation tail the two errors are opposite: the 50/50 mix is exact there.
    lstm_pred = truth + np.where(np.arange(n) < 200, noise_a, 0.0)
    gbm_pred = truth - np.where(np.arange(n) < 200, noise_a, 40.0)  # awful on test only
    worse_lstm = _frame("strong_lstm", "dynamic", segment, truth, truth + 3 * noise_b)
    cfg = {"lstm_models": ["strong_lstm"], "partner_model": "gbm_lags",
           "partner_features": "dynamic", "weight_step": 0.1}
    mixed, weights = ensemble_forecasts(cfg, _frame("gbm_lags", "dynamic", segment, truth, gbm_pred),
                               _frame("strong_lstm", "full", segment, truth, lstm_pred), worse_lstm)
    assert set(mixed["model"]) == {"ensemble"} and set(mixed["features"]) == {"lstm+gbm_lags"}
    assert weights == {"h1_lstm": "strong_lstm (full)", "h1_lstm_weight": 0.5}
    # The better LSTM on validation (features "full") at weight 0.5: the mean of the two.
    np.testing.assert_allclose(mixed["y_pred"], 0.5 * lstm_pred + 0.5 * gbm_pred)


def test_average_grid_keeps_whichever_of_best_config_or_whole_grid_validates_better(features):
    from gtzan_kedro.pipelines.pm25_forecast.nodes import split_pm25
    from gtzan_kedro.pm25.search import average_predictions
    from gtzan_kedro.pm25.search import validation_rmse as _validation_rmse

    table = features.reset_index()
    split = split_pm25(table, {"test_fraction": 0.3, "valid_fraction": 0.1})
    params = {"horizons": [1], "seed": 0, "feature_sets": {"small": ["pm2.5_filled", "DEWP", "pm_diff1"]}}
    cfg = {"name": "strong_lstm", "features": "small", "units": [[3]], "learning_rate": 0.003,
           "persistence_residual": True, "output_activation": "relu", "epochs": 1, "batch_size": 512,
           "patience": 1, "train_stride": 3}
    short, long = (train_lstm_forecaster(table, split, params, {**cfg, "lookback": [lb]}) for lb in (3, 5))
    grid = train_lstm_forecaster(table, split, params, {**cfg, "lookback": [3, 5], "average_grid": True})
    whole = average_predictions([short, long])
    keys = ["timestamp", "horizon_h"]
    assert len(whole) == len(long)  # the 5-h windows' hours are a subset of the 3-h ones
    np.testing.assert_allclose(whole["y_pred"], (short.set_index(keys).loc[pd.MultiIndex.from_frame(long[keys]),
                                                                            "y_pred"].to_numpy()
                                                 + long["y_pred"].to_numpy()) / 2, rtol=1e-6)
    candidates = [c.merge(whole[keys], on=keys) for c in (short, long)]
    rmse = [_validation_rmse(c, None) for c in candidates]
    best_single = (short, long)[int(np.argmin(rmse))]
    expected = whole if _validation_rmse(whole, None) < min(rmse) else best_single
    assert len(grid) == len(expected)
    np.testing.assert_allclose(grid["y_pred"].to_numpy(), expected["y_pred"].to_numpy(), rtol=1e-4, atol=1e-3)


def test_refit_trains_on_the_validation_tail_for_the_chosen_epochs_and_keeps_validation_out_of_sample(
        features, monkeypatch):
    import gtzan_kedro.models.lstm as lstm
    from gtzan_kedro.pipelines.pm25_forecast.nodes import split_pm25

    table = features.reset_index()
    split = split_pm25(table, {"test_fraction": 0.3, "valid_fraction": 0.1})
    params = {"horizons": [1], "seed": 0, "feature_sets": {"small": ["pm2.5_filled", "DEWP", "pm_diff1"]}}
    cfg = {"name": "strong_lstm", "features": "small", "lookback": [4], "units": [[3]], "learning_rate": 0.01,
           "persistence_residual": True, "output_activation": "relu", "epochs": 4, "batch_size": 256,
           "patience": 1, "train_stride": 1}
    calls = {"fit": [], "refit": []}
    fit_lstm, refit_lstm = lstm.fit_lstm, lstm.refit_lstm

    def spy_fit(model, x_train, y_train, x_valid, y_valid, **kwargs):
        history = fit_lstm(model, x_train, y_train, x_valid, y_valid, **kwargs)
        calls["fit"].append({"n_fit": len(x_train), "n_valid": len(x_valid),
                             "best_epochs": int(np.argmin(history.history["val_loss"])) + 1})
        return history

    def spy_refit(model, x, y, epochs, **kwargs):
        calls["refit"].append({"n": len(x), "epochs": epochs})
        return refit_lstm(model, x, y, epochs, **kwargs)

    monkeypatch.setattr(lstm, "fit_lstm", spy_fit)
    monkeypatch.setattr(lstm, "refit_lstm", spy_refit)
    plain = train_lstm_forecaster(table, split, params, cfg)
    assert calls["refit"] == []
    refitted = train_lstm_forecaster(table, split, params, {**cfg, "refit_full_train": True})
    early, refit = calls["fit"][-1], calls["refit"][-1]
    # The refitted model saw every training window: the early-stopping fit's plus the validation tail's.
    assert refit["n"] == early["n_fit"] + early["n_valid"]
    assert refit["epochs"] == early["best_epochs"]

    assert (plain["segment"] == refitted["segment"]).all()
    valid, test = (plain["segment"] == "valid").to_numpy(), (plain["segment"] == "test").to_numpy()
    np.testing.assert_allclose(refitted.loc[valid, "y_pred"], plain.loc[valid, "y_pred"], rtol=1e-5, atol=1e-4)
    assert not np.allclose(refitted.loc[test, "y_pred"], plain.loc[test, "y_pred"])
    assert (refitted["y_pred"] >= 0).all()
