"""Nodes of pm25_forecast: clean the PRSA table, build features, fit baselines and LSTMs,
score them against persistence and draw the forecasts. The LSTM search is pm25.search; the
tracking hook logs each model's metrics, choices and models from these nodes' outputs."""

from __future__ import annotations

import logging
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from gtzan_kedro.pm25.baselines import (
    LagDesign,
    gbm_forecasts,
    persistence_forecasts,
    ridge_forecasts,
)
from gtzan_kedro.pm25.features import (
    TARGET,
    ChronoSplit,
    add_dynamics,
    add_model_features,
    chronological_split,
    fit_scalers,
    scaled_inputs,
)
from gtzan_kedro.pm25.metrics import METRIC_COLUMNS, forecast_metrics
from gtzan_kedro.pm25.quality import clean_prsa
from gtzan_kedro.pm25.search import TARGET_WEATHER_SUFFIX, search_lstm, validation_rmse

logger = logging.getLogger(__name__)

def _split_of(split: dict) -> ChronoSplit:
    return ChronoSplit(n=split["n"], valid_start=split["valid_start"], test_start=split["test_start"])


def clean_pm25(raw: pd.DataFrame, params: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate and repair the raw PRSA table into a regular hourly series plus the
    data-quality report (see pm25.quality.clean_prsa for the gap policy)."""
    hourly, report = clean_prsa(raw, params["raw_file"], max_gap_hours=int(params["max_gap_hours"]))
    return hourly.reset_index(), report


def build_pm25_features(hourly: pd.DataFrame) -> pd.DataFrame:
    """One-hot wind direction, cyclic calendar and the causal dynamic columns (changes,
    rolling PM2.5 summaries, north-west spell length) beside the cleaned series."""
    return add_dynamics(add_model_features(hourly.set_index("timestamp"))).reset_index()


def split_pm25(features: pd.DataFrame, params: dict) -> dict:
    """The chronological 70/30 split (validation tail inside the 70 %), with its boundary
    timestamps for plots and logs."""
    split = chronological_split(len(features), params["test_fraction"], params["valid_fraction"])
    stamps = pd.to_datetime(features["timestamp"])
    out = {"n": split.n, "valid_start": split.valid_start, "test_start": split.test_start,
           "first_hour": str(stamps.iloc[0]), "valid_start_hour": str(stamps.iloc[split.valid_start]),
           "test_start_hour": str(stamps.iloc[split.test_start]), "last_hour": str(stamps.iloc[-1])}
    logger.info("pm25 split: fit %s .. %s, validation tail from %s, test %s .. %s", out["first_hour"],
                stamps.iloc[split.valid_start - 1], out["valid_start_hour"], out["test_start_hour"],
                out["last_hour"])
    return out


def _indexed(features: pd.DataFrame) -> pd.DataFrame:
    return features.set_index(pd.DatetimeIndex(pd.to_datetime(features["timestamp"]), name="timestamp"))


def _lag_design(frame: pd.DataFrame, columns: list[str], chrono: ChronoSplit, lags: int) -> LagDesign:
    """The lag regressions' design on ``columns``, scaled with scalers fitted on training rows."""
    scalers = fit_scalers(frame, columns, chrono)
    return LagDesign(scaled_inputs(frame, scalers), columns, frame, scalers.target_scale, chrono, lags)


def baseline_forecasts(features: pd.DataFrame, split: dict, params: dict
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Persistence, 24-h seasonal persistence, ridge-on-lags and gradient-boosted-tree
    forecasts for every hour, and their test metrics (one MLflow run per model)."""
    frame, chrono, horizons = _indexed(features), _split_of(split), list(params["horizons"])
    parts = [persistence_forecasts(frame, horizons, chrono),
             persistence_forecasts(frame, horizons, chrono, period=24)]
    ridge = params["ridge"]
    runs = [(name, None) for name in ridge["feature_sets"]]
    if ridge.get("weather_at_target"):
        runs.append((ridge["weather_at_target_set"], list(ridge["weather_at_target"])))
    for set_name, lead in runs:
        data = _lag_design(frame, params["feature_sets"][set_name], chrono, int(ridge["lags"]))
        parts.append(ridge_forecasts(data, horizons, float(ridge["alpha"]),
                                     features=f"{set_name}{TARGET_WEATHER_SUFFIX if lead else ''}",
                                     weather_at_target=lead))
    gbm = params.get("gbm") or {}
    for set_name in gbm.get("feature_sets", []):
        data = _lag_design(frame, params["feature_sets"][set_name], chrono, int(gbm["lags"]))
        parts.append(gbm_forecasts(data, horizons, features=set_name, max_iter=int(gbm["max_iter"]),
                                   learning_rate=float(gbm["learning_rate"]),
                                   max_leaf_nodes=int(gbm["max_leaf_nodes"]), seed=int(params.get("seed", 0))))
    predictions = pd.concat(parts, ignore_index=True)
    persistence = predictions[predictions["model"] == "persistence"]
    scale = fit_scalers(frame, [TARGET], chrono).target_scale
    return predictions, forecast_metrics(predictions, persistence, scale)


def train_lstm_forecaster(features: pd.DataFrame, split: dict, horizons: list[int],
                          feature_sets: dict[str, list[str]], seed: int, cfg: dict[str, Any]
                          ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], dict[str, Any]]:
    """Search the LSTM ``cfg`` describes (pm25.search.search_lstm) and forecast every hour;
    returns the forecasts, their test metrics, the test-time models and the choices made."""
    frame, chrono = _indexed(features), _split_of(split)
    result = search_lstm(frame, chrono, list(horizons), feature_sets, cfg, seed=int(seed))
    persistence = persistence_forecasts(frame, list(horizons), chrono)
    metrics = forecast_metrics(result.predictions, persistence, result.target_scale)
    choices = {**result.chosen, "target_scale_ug_m3": result.target_scale}
    return result.predictions, metrics, result.models, choices


def blend_forecasts(lstm: pd.DataFrame, other: pd.DataFrame, weight: float) -> pd.DataFrame:
    """``weight`` x the LSTM's forecast + (1 - weight) x the other model's, on the hours both
    forecast (a convex mix of non-negative forecasts stays non-negative)."""
    keys = ["timestamp", "horizon_h"]
    mixed = lstm.merge(other[keys + ["y_pred"]].rename(columns={"y_pred": "other_pred"}), on=keys, how="inner")
    mixed["y_pred"] = weight * mixed["y_pred"] + (1.0 - weight) * mixed["other_pred"]
    return mixed.drop(columns="other_pred")


def ensemble_forecasts(cfg: dict, baselines: pd.DataFrame, *lstm_predictions: pd.DataFrame
                       ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per horizon, the causal LSTM with the lowest validation RMSE mixed with the tree model:
    the LSTM's weight is picked on the validation tail from a grid (never on the test hours).
    A separate model row (``ensemble``): not an LSTM. Also returns the choices (MLflow params)."""
    partner = baselines[(baselines["model"] == cfg["partner_model"])
                        & (baselines["features"] == cfg["partner_features"])]
    if partner.empty:
        raise ValueError(f"ensemble: no {cfg['partner_model']} ({cfg['partner_features']}) forecasts to mix")
    lstms = pd.concat(lstm_predictions, ignore_index=True)
    lstms = lstms[~lstms["features"].str.endswith(TARGET_WEATHER_SUFFIX) & lstms["model"].isin(cfg["lstm_models"])]
    weights = np.round(np.arange(0.0, 1.0 + 1e-9, float(cfg["weight_step"])), 6)
    parts, choices = [], []
    for horizon in sorted(lstms["horizon_h"].unique()):
        at_h = lstms[lstms["horizon_h"] == horizon]
        candidates = {key: group for key, group in at_h.groupby(["model", "features"], sort=False)}
        member = min(candidates, key=lambda key: validation_rmse(candidates[key], horizon))
        other = partner[partner["horizon_h"] == horizon]
        scores = {w: validation_rmse(blend_forecasts(candidates[member], other, w), horizon) for w in weights}
        weight = min(scores, key=scores.get)
        choices.append({"horizon_h": int(horizon), "lstm": f"{member[0]} ({member[1]})", "lstm_weight": weight,
                        "valid_rmse": scores[weight], "valid_rmse_lstm_only": scores[weights[-1]],
                        "valid_rmse_partner_only": scores[weights[0]]})
        mixed = blend_forecasts(candidates[member], other, weight)
        mixed["model"], mixed["features"] = "ensemble", f"lstm+{cfg['partner_model']}"
        parts.append(mixed)
    chosen = pd.DataFrame(choices)
    logger.info("ensemble weights picked on the validation tail:\n%s", chosen.round(3).to_string(index=False))
    predictions = pd.concat(parts, ignore_index=True)
    weights = {}
    for row in chosen.itertuples():
        weights.update({f"h{row.horizon_h}_lstm": row.lstm, f"h{row.horizon_h}_lstm_weight": row.lstm_weight})
    return predictions, weights


def score_forecasts(features: pd.DataFrame, split: dict, *predictions: pd.DataFrame
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pm25_metrics table: every model x features x horizon on the test hours with an
    observed target, each against persistence on the same hours; and the same table on the
    validation tail, where every choice was made (so a reader can check which row it picks)."""
    frame, chrono = _indexed(features), _split_of(split)
    scale = fit_scalers(frame, [TARGET], chrono).target_scale
    everything = pd.concat(predictions, ignore_index=True)
    persistence = everything[everything["model"] == "persistence"]
    metrics = forecast_metrics(everything, persistence, scale)
    validation = forecast_metrics(everything, persistence, scale, segment="valid")
    logger.info("pm25 validation-tail metrics:\n%s", validation.round(4).to_string(index=False))
    logger.info("pm25 test metrics (target scaled by the training maximum %.0f ug/m3):\n%s", scale,
                metrics.round(4).to_string(index=False))
    return metrics[METRIC_COLUMNS], validation[METRIC_COLUMNS]


def _best_model(metrics: pd.DataFrame, horizon: int) -> tuple[str, str]:
    pick = metrics[metrics["horizon_h"] == horizon].sort_values("rmse").iloc[0]
    return pick["model"], pick["features"]


def plot_pm25_forecasts(
    features: pd.DataFrame, split: dict, metrics: pd.DataFrame, *predictions: pd.DataFrame
) -> tuple[plt.Figure, plt.Figure, plt.Figure, dict]:
    """Forecast vs actual over the whole record (daily means, train/test boundary marked), a
    zoomed test week for each horizon, and test RMSE by horizon for every model; and a note of
    the three (``pm25_plots_written``), which the report reads so that it runs after them."""
    everything = pd.concat(predictions, ignore_index=True)
    everything["timestamp"] = pd.to_datetime(everything["timestamp"])
    frame = _indexed(features)
    valid_start, test_start = pd.Timestamp(split["valid_start_hour"]), pd.Timestamp(split["test_start_hour"])
    causal = ~metrics["features"].str.endswith(TARGET_WEATHER_SUFFIX)
    lstm_metrics = metrics[metrics["model"].str.contains("lstm") & causal]
    chosen = _best_model(lstm_metrics if len(lstm_metrics) else metrics, 1)

    def series(model: tuple[str, str], horizon: int) -> pd.Series:
        rows = everything[(everything["model"] == model[0]) & (everything["features"] == model[1])
                          & (everything["horizon_h"] == horizon)]
        return rows.set_index("timestamp")["y_pred"].sort_index()

    overview, ax = plt.subplots(figsize=(14, 4.5))
    actual = frame[TARGET].resample("D").mean()
    # Observed on top in black: the 1-h forecast follows it so closely it would hide it.
    ax.plot(actual.index, actual.to_numpy(), color="k", lw=0.6, zorder=3, label="observed (daily mean)")
    horizons = sorted(int(h) for h in everything["horizon_h"].unique())
    for horizon, colour in zip(sorted({horizons[0], horizons[-1]}), ("tab:blue", "tab:red")):
        forecast = series(chosen, int(horizon)).resample("D").mean()
        ax.plot(forecast.index, forecast.to_numpy(), color=colour, lw=1.0, alpha=0.7,
                label=f"{chosen[0]} ({chosen[1]}) {horizon} h ahead")
    ax.axvspan(valid_start, test_start, color="tab:orange", alpha=0.12, label="validation tail")
    ax.axvline(test_start, color="k", ls="--", lw=1.2)
    ax.text(test_start, ax.get_ylim()[1] * 0.95, "  train | test  ", ha="center", va="top",
            bbox={"fc": "white", "ec": "k", "lw": 0.5})
    ax.set(ylabel="PM2.5 (ug/m3)", title="PM2.5 forecast vs observed, whole record (daily means)")
    ax.legend(loc="upper left", fontsize=8, ncol=2)
    overview.tight_layout()

    test = frame.loc[frame.index >= test_start, TARGET]
    # The test week with the largest swing shows build-up and clean-out best.
    weekly_range = (test.rolling(168).max() - test.rolling(168).min()).dropna()
    week_end = weekly_range.idxmax() if len(weekly_range) else test.index[-1]
    week = slice(week_end - pd.Timedelta(hours=167), week_end)
    zoom, axes = plt.subplots(len(horizons), 1, figsize=(13, 2.8 * len(horizons)), sharex=True, squeeze=False)
    for ax, horizon in zip(axes[:, 0], horizons):
        ax.plot(test.loc[week].index, test.loc[week].to_numpy(), color="k", lw=1.4, label="observed")
        shown = {chosen: "-", ("persistence", "pm2.5"): ":"}
        shown.setdefault(_best_model(metrics, horizon), "--")
        for model, style in shown.items():
            forecast = series(model, horizon).loc[week]
            ax.plot(forecast.index, forecast.to_numpy(), ls=style, lw=1.1, label=f"{model[0]} ({model[1]})")
        ax.set(ylabel="ug/m3", title=f"{horizon} h ahead")
        ax.legend(fontsize=8, loc="upper left")
    zoom.suptitle(f"A test week ({week.start:%Y-%m-%d} .. {week.stop:%Y-%m-%d})")
    zoom.tight_layout()

    by_horizon, ax = plt.subplots(figsize=(8, 5))
    # tab20, not the default 10-colour cycle: with more than 10 rows two models shared a colour.
    colours = iter(plt.get_cmap("tab20").colors[::2] + plt.get_cmap("tab20").colors[1::2])
    for (model, set_name), group in metrics.groupby(["model", "features"], sort=False):
        group = group.sort_values("horizon_h")
        style = ({"lw": 2.5, "color": "k", "ls": ":"} if model == "persistence"
                 else {"lw": 1.4, "marker": "o", "color": next(colours)})
        if set_name.endswith(TARGET_WEATHER_SUFFIX):
            style["ls"] = "--"  # a bound, not a forecast
        ax.plot(group["horizon_h"], group["rmse"], label=f"{model} ({set_name})", **style)
    ax.set(xlabel="forecast horizon (h)", ylabel="test RMSE (ug/m3)", xticks=horizons,
           title="Test RMSE by horizon (observed targets only)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    by_horizon.tight_layout()
    note = {"plots": ["forecast_vs_actual", "test_week", "error_by_horizon"],
            "models": sorted(everything["model"].astype(str).unique())}
    return overview, zoom, by_horizon, note
