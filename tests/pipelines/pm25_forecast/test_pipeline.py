"""`kedro run --pipeline pm25_forecast` end to end on a small, damaged synthetic PRSA file."""

from __future__ import annotations

import pandas as pd
import pytest

from gtzan_kedro.pm25.metrics import METRIC_COLUMNS
from gtzan_kedro.pm25.synth import synthetic_prsa

TINY = """
pm25_forecast:
  ridge: {lags: 12}
  lstms:
    report_lstm_11: {epochs: 1, batch_size: 256}
    report_lstm_6: {epochs: 1, batch_size: 256}
    strong_lstm: {lookback: [6], units: [[4]], epochs: 1, train_stride: 4, batch_size: 256}
    strong_lstm_dynamic: {lookback: [6], units: [[4]], epochs: 1, train_stride: 4, batch_size: 256}
    strong_lstm_target_weather: {lookback: [6], units: [[4]], epochs: 1, train_stride: 4, batch_size: 256}
  gbm: {max_iter: 20}
"""


@pytest.mark.e2e
def test_pm25_forecast_runs_on_a_damaged_synthetic_file(kedro_project):
    raw = synthetic_prsa(seed=7, start="2013-01-01", end="2013-04-30")
    damaged = pd.concat([raw.drop(index=[500, 501]), raw.loc[[800]]]).astype({"pm2.5": object})
    damaged.loc[damaged.index[900], "pm2.5"] = "###"
    csv = kedro_project.path / "data/01_raw/pm25/PRSA_data_2010.1.1-2014.12.31.csv"
    csv.parent.mkdir(parents=True, exist_ok=True)
    damaged.to_csv(csv, index=False, na_rep="NA")
    kedro_project.write_conf("local/parameters_pm25_forecast.yml", TINY)

    kedro_project.run("--pipeline", "pm25_forecast")

    reporting = kedro_project.path / "data/08_reporting"
    quality = pd.read_csv(reporting / "pm25_data_quality.csv").set_index("check")["count"]
    assert quality["missing_hour"] == 2
    assert quality["duplicate_hour"] == 1
    assert quality["non_numeric_pm2.5"] == 1
    assert quality["hours_in_series"] == len(raw)

    metrics = pd.read_csv(reporting / "pm25_metrics.csv")
    assert list(metrics.columns) == METRIC_COLUMNS
    expected = {
        ("persistence", "pm2.5"), ("seasonal_persistence_24h", "pm2.5"), ("ridge_lags", "report11"),
        ("ridge_lags", "full"), ("ridge_lags", "full+target_weather"), ("report_lstm", "report11"),
        ("report_lstm", "report6"), ("strong_lstm", "full"), ("strong_lstm", "full+target_weather"),
        ("strong_lstm", "dynamic"), ("gbm_lags", "dynamic"), ("ensemble", "lstm+gbm_lags"),
    }
    assert set(zip(metrics["model"], metrics["features"])) == expected
    assert len(metrics) == 3 * len(expected)
    assert sorted(metrics["horizon_h"].unique()) == [1, 6, 24]
    assert metrics[["rmse", "mae", "mse_scaled", "persistence_rmse"]].notna().all().all()
    assert (metrics["rmse"] >= 0).all()
    for png in ("pm25_forecast_vs_actual.png", "pm25_forecast_week.png", "pm25_error_by_horizon.png"):
        assert (reporting / png).stat().st_size > 10_000

    predictions = pd.read_parquet(kedro_project.path / "data/07_model_output/pm25_strong_lstm_predictions.parquet")
    assert (predictions["y_pred"] >= 0).all()
    validation = pd.read_csv(reporting / "pm25_validation_metrics.csv")
    assert set(zip(validation["model"], validation["features"])) == expected
    ensemble = pd.read_parquet(kedro_project.path / "data/07_model_output/pm25_ensemble_predictions.parquet")
    assert (ensemble["y_pred"] >= 0).all() and sorted(ensemble["horizon_h"].unique()) == [1, 6, 24]
    # each LSTM's test-time models are a catalog output, and its nested MLflow run carries the
    # same metric names as every other model's
    assert sorted(p.suffix for p in (kedro_project.path / "data/06_models/pm25_forecast/strong_lstm").iterdir()) \
        == [".keras"] * 3
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{kedro_project.path / 'mlflow.db'}")
    runs = {r.info.run_name: r for r in mlflow.search_runs(experiment_names=["gtzan_kedro"], output_format="list")}
    strong = metrics[(metrics.model == "strong_lstm") & (metrics.features == "full") & (metrics.horizon_h == 1)]
    assert runs["pm25_forecast.strong_lstm"].data.metrics["rmse_h1"] == pytest.approx(strong.rmse.item())
    assert runs["pm25_forecast.strong_lstm"].data.params["cfg.features"] == "full"
    assert {"pm25_forecast.baselines.persistence_pm2.5", "pm25_forecast.ensemble"} <= set(runs)
    assert "h1_lstm_weight" in runs["pm25_forecast.ensemble"].data.params
