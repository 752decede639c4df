"""Nodes of pm25_forecast: clean the PRSA table, build features, fit baselines and LSTMs,
score them against persistence and draw the forecasts."""

from __future__ import annotations

import itertools
import logging
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

from gtzan_kedro.pm25.baselines import (  # noqa: E402
    LagDesign,
    gbm_forecasts,
    persistence_forecasts,
    prediction_frame,
    ridge_forecasts,
)
from gtzan_kedro.pm25.features import (  # noqa: E402
    INPUT_TARGET,
    TARGET,
    ChronoSplit,
    add_dynamics,
    add_model_features,
    chronological_split,
    fit_scalers,
    lead_columns,
    scaled_inputs,
    targets,
    window_origins,
    windows,
)
from gtzan_kedro.pm25.metrics import METRIC_COLUMNS, forecast_metrics  # noqa: E402
from gtzan_kedro.pm25.quality import clean_prsa  # noqa: E402

logger = logging.getLogger(__name__)

# Feature-set label of models that see the observed weather of the target hour (a stand-in
# for a weather forecast), so they are never mistaken for causal ones.
TARGET_WEATHER_SUFFIX = "+target_weather"


@contextmanager
def _nested_run(name: str):
    """A nested MLflow run under kedro-mlflow's run; nothing is logged outside a run
    (unit tests, notebooks), so the library never creates stray ./mlruns folders."""
    import mlflow

    if mlflow.active_run() is None:
        yield None
        return
    with mlflow.start_run(run_name=name, nested=True) as run:
        yield run


def _log_metric_rows(metrics: pd.DataFrame) -> None:
    import mlflow

    if mlflow.active_run() is None:
        return
    for row in metrics.itertuples():
        for name in ("rmse", "mae", "mse_scaled", "persistence_rmse", "skill"):
            mlflow.log_metric(f"{name}_h{row.horizon_h}", float(getattr(row, name)))


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


def baseline_forecasts(features: pd.DataFrame, split: dict, params: dict) -> pd.DataFrame:
    """Persistence, 24-h seasonal persistence, ridge-on-lags and gradient-boosted-tree
    forecasts for every hour."""
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
    for (model, set_name), group in predictions.groupby(["model", "features"], sort=False):
        with _nested_run(f"pm25_{model}_{set_name}"):
            _log_metric_rows(forecast_metrics(group, persistence, scale))
    return predictions


def _fit_one(x, y, origins, chrono, horizons_out, cfg, lookback, units, n_features, pm_column, seed):
    """Build and train one LSTM on windows whose targets fall in fit / validation rows; with
    ``refit_full_train`` also a fresh one (same seed) trained for the early-stopped epoch count
    on every window whose targets fall before the test hours (validation tail included).
    Returns (early-stopped model, model for the hours after the validation tail, history, best
    validation loss, refit record or None)."""
    from gtzan_kedro.models.lstm import best_epoch_count, build_lstm, fit_lstm, refit_lstm

    last_target = origins + max(horizons_out)
    has_target = np.isfinite(y).any(axis=1)
    fit = has_target & (last_target < chrono.valid_start)
    stride = int(cfg.get("train_stride", 1))
    fit_idx = np.flatnonzero(fit)[::stride]
    valid = has_target & (origins + min(horizons_out) >= chrono.valid_start) & (last_target < chrono.test_start)

    def build():
        return build_lstm(lookback, n_features, units=units, n_outputs=len(horizons_out),
                          dropout=float(cfg.get("dropout", 0.0)), learning_rate=float(cfg["learning_rate"]),
                          output_activation=cfg.get("output_activation", "softplus"),
                          skip_connection=bool(cfg.get("skip_connection", False)),
                          persistence_column=pm_column if cfg.get("persistence_residual", False) else None,
                          head_units=int(cfg.get("head_units", 0)),
                          seed=seed)

    model = build()
    history = fit_lstm(model, x[fit_idx], y[fit_idx], x[valid], y[valid], epochs=int(cfg["epochs"]),
                       batch_size=int(cfg["batch_size"]), patience=int(cfg["patience"]),
                       lr_patience=int(cfg["lr_patience"]) if cfg.get("lr_patience") else None)
    val_loss = float(np.min(history.history["val_loss"]))
    if not cfg.get("refit_full_train", False):
        return model, model, history, val_loss, None
    # As the ridge and GBM: the validation tail (the hours right before the test) also trains
    # the test-time model, for the epoch count early stopping chose on it.
    full_idx = np.flatnonzero(has_target & (last_target < chrono.test_start))[::stride]
    epochs = best_epoch_count(history)
    refitted = build()
    refit_lstm(refitted, x[full_idx], y[full_idx], epochs=epochs, batch_size=int(cfg["batch_size"]))
    return model, refitted, history, val_loss, {"refit_windows": len(full_idx), "refit_epochs": epochs,
                                                "fit_windows": len(fit_idx)}


def _out_of_sample_on_validation(final: pd.DataFrame, early: pd.DataFrame) -> pd.DataFrame:
    """The refitted models' forecasts, except on the validation tail, which they trained on:
    there the early-stopped models' forecasts stay, so every validation score and the
    ensemble weights remain out of sample."""
    on_valid = (final["segment"] == "valid").to_numpy()
    out = final.copy()
    out.loc[on_valid, "y_pred"] = early.loc[on_valid, "y_pred"].to_numpy()
    return out


def train_lstm_forecaster(features: pd.DataFrame, split: dict, params: dict, cfg: dict) -> pd.DataFrame:
    """Train the LSTM described by ``cfg`` (grid over lookback x units picked on the
    validation tail; ``n_members`` seeds of the chosen one averaged; ``refit_full_train``:
    test-time models refitted on train + validation tail) and forecast every hour; one nested
    MLflow run with the models."""
    import mlflow

    from gtzan_kedro.models.lstm import ensemble_mean, predict_batched

    frame, chrono = _indexed(features), _split_of(split)
    horizons = list(params["horizons"])
    model_name = cfg["name"]
    lead = list(cfg.get("weather_at_target") or [])
    set_name = cfg["features"] + (TARGET_WEATHER_SUFFIX if lead else "")
    columns = params["feature_sets"][cfg["features"]]
    scalers = fit_scalers(frame, columns, chrono)
    inputs = scaled_inputs(frame, scalers)
    observed = frame[TARGET].to_numpy(dtype=float)
    scaled_target = (observed / scalers.target_scale).astype(np.float32)
    lookbacks = cfg["lookback"] if isinstance(cfg["lookback"], list) else [cfg["lookback"]]
    unit_grid = cfg["units"] if isinstance(cfg["units"], list) and isinstance(cfg["units"][0], list) else [cfg["units"]]
    # One multi-output model for all horizons, or (the report's way) one model per horizon.
    groups = [horizons] if cfg.get("joint_horizons", False) else [[h] for h in horizons]
    if lead and len(groups[0]) > 1:
        raise ValueError(f"{model_name}: weather_at_target needs joint_horizons: false (one lead per model)")
    seed = int(params.get("seed", 0))
    n_members = int(cfg.get("n_members", 1))
    if n_members < 1:
        raise ValueError(f"{model_name}: n_members must be >= 1, got {n_members}")
    average_grid = bool(cfg.get("average_grid", False))

    persistence = persistence_forecasts(frame, horizons, chrono)
    parts, summary = [], []
    with _nested_run(f"pm25_{model_name}_{set_name}"):
        for group in groups:
            grid = list(itertools.product(lookbacks, unit_grid))
            # average_grid: every configuration gets its seed members, so the mean over the whole
            # grid can compete on the validation tail with the best configuration's members.
            per_config = n_members if average_grid else 1
            group_inputs = lead_columns(inputs, columns, lead, group[0]) if lead else inputs
            configs = []

            def add_member(config: dict, member: int) -> None:
                """Fit seed member ``member`` of ``config``; the first one's loss is the config's."""
                early, final, history, val_loss, refit = _fit_one(
                    config["x"], config["y"], config["origins"], chrono, group, cfg, config["lookback"],
                    config["units"], len(columns), columns.index(INPUT_TARGET), seed + member)
                summary.append({"horizons": str(group), "lookback": config["lookback"], "units": str(config["units"]),
                                "member": member, "val_loss": val_loss,
                                "epochs": len(history.history["val_loss"]), **(refit or {})})
                config["members"].append((early, final))
                config.setdefault("val_loss", val_loss)

            for lookback, units in tqdm(grid, desc=f"{model_name} {set_name} h{group}", disable=len(grid) == 1):
                origins = window_origins(group_inputs, lookback, min_horizon=min(group))
                x = windows(group_inputs, origins, lookback)
                y = targets(scaled_target, origins, group)
                logger.info("%s %s horizons %s: lookback %d, units %s, %d windows", model_name, set_name,
                            group, lookback, units, len(origins))
                config = {"lookback": lookback, "units": units, "members": [], "origins": origins, "x": x, "y": y}
                for member in range(per_config):
                    add_member(config, member)
                configs.append(config)
            # The grid's choice: the lowest validation loss of the first seed (as without an ensemble).
            best = min(configs, key=lambda c: c["val_loss"])
            # Seed ensemble of the chosen configuration: the members it does not have yet.
            for member in tqdm(range(len(best["members"]), n_members), desc=f"{model_name} h{group} members",
                               disable=n_members == len(best["members"])):
                add_member(best, member)

            def frame_of(config: dict, models: list) -> pd.DataFrame:
                forecasts = ensemble_mean([predict_batched(m, config["x"]) for m in models])
                return prediction_frame(frame.index, config["origins"], group, forecasts * scalers.target_scale,
                                        observed, chrono, model=model_name, features=set_name)

            for config in configs:
                early_frame = frame_of(config, [early for early, _ in config["members"]])
                config["predictions"] = early_frame
                if cfg.get("refit_full_train", False):
                    final_frame = frame_of(config, [final for _, final in config["members"]])
                    config["predictions"] = _out_of_sample_on_validation(final_frame, early_frame)
            chosen, kept = best["predictions"], [best]
            if average_grid and len(configs) > 1:
                whole = average_predictions([c["predictions"] for c in configs])
                common = whole[["timestamp", "horizon_h"]]
                best_rmse = _validation_rmse(chosen.merge(common, on=["timestamp", "horizon_h"]), None)
                whole_rmse = _validation_rmse(whole, None)
                logger.info("%s %s h%s validation RMSE: best configuration's members %.3f, whole grid %.3f",
                            model_name, set_name, group, best_rmse, whole_rmse)
                if whole_rmse < best_rmse:
                    chosen, kept = whole, configs
            parts.append(chosen)
            if mlflow.active_run() is not None:
                tag = "_".join(map(str, group))
                mlflow.log_params({f"h{tag}_lookback": "+".join(str(c["lookback"]) for c in kept),
                                   f"h{tag}_units": "+".join(str(c["units"]) for c in kept),
                                   f"h{tag}_val_loss": round(best["val_loss"], 6)})
                with tempfile.TemporaryDirectory() as tmp:
                    for config in kept:
                        for member, (_, fitted) in enumerate(config["members"]):
                            path = Path(tmp) / f"{model_name}_{set_name}_h{tag}_L{config['lookback']}_m{member}.keras"
                            fitted.save(path)
                            mlflow.log_artifact(str(path), artifact_path="models")
        predictions = pd.concat(parts, ignore_index=True)
        if mlflow.active_run() is not None:
            mlflow.log_params({k: str(v) for k, v in cfg.items()})
            mlflow.log_param("target_scale_ug_m3", scalers.target_scale)
            _log_metric_rows(forecast_metrics(predictions, persistence, scalers.target_scale))
    logger.info("%s %s model selection:\n%s", model_name, set_name, pd.DataFrame(summary).to_string())
    return predictions


def _validation_rmse(predictions: pd.DataFrame, horizon: int | None) -> float:
    """RMSE over the validation tail's observed targets (at one horizon, or all of them)."""
    at_horizon = predictions["horizon_h"] == horizon if horizon is not None else True
    rows = predictions[(predictions["segment"] == "valid") & at_horizon
                       & predictions["y_true"].notna() & predictions["y_pred"].notna()]
    return float(np.sqrt(np.mean((rows["y_pred"] - rows["y_true"]) ** 2))) if len(rows) else np.inf


def average_predictions(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Mean forecast of several prediction frames on the hours all of them forecast (windows
    of different lookbacks start at different hours)."""
    keys = ["timestamp", "horizon_h"]
    merged = frames[0].rename(columns={"y_pred": "pred_0"})
    for i, other in enumerate(frames[1:], start=1):
        merged = merged.merge(other[keys + ["y_pred"]].rename(columns={"y_pred": f"pred_{i}"}), on=keys, how="inner")
    columns = [f"pred_{i}" for i in range(len(frames))]
    merged["y_pred"] = merged[columns].mean(axis=1)
    return merged.drop(columns=columns)[frames[0].columns]


def blend_forecasts(lstm: pd.DataFrame, other: pd.DataFrame, weight: float) -> pd.DataFrame:
    """``weight`` x the LSTM's forecast + (1 - weight) x the other model's, on the hours both
    forecast (a convex mix of non-negative forecasts stays non-negative)."""
    keys = ["timestamp", "horizon_h"]
    mixed = lstm.merge(other[keys + ["y_pred"]].rename(columns={"y_pred": "other_pred"}), on=keys, how="inner")
    mixed["y_pred"] = weight * mixed["y_pred"] + (1.0 - weight) * mixed["other_pred"]
    return mixed.drop(columns="other_pred")


def ensemble_forecasts(params: dict, baselines: pd.DataFrame, *lstm_predictions: pd.DataFrame) -> pd.DataFrame:
    """Per horizon, the causal LSTM with the lowest validation RMSE mixed with the tree model:
    the LSTM's weight is picked on the validation tail from a grid (never on the test hours).
    A separate model row (``ensemble``): not an LSTM."""
    cfg = params["ensemble"]
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
        member = min(candidates, key=lambda key: _validation_rmse(candidates[key], horizon))
        other = partner[partner["horizon_h"] == horizon]
        scores = {w: _validation_rmse(blend_forecasts(candidates[member], other, w), horizon) for w in weights}
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
    with _nested_run("pm25_ensemble") as run:
        if run is not None:
            import mlflow

            for row in chosen.itertuples():
                mlflow.log_params({f"h{row.horizon_h}_lstm": row.lstm,
                                   f"h{row.horizon_h}_lstm_weight": row.lstm_weight})
    return predictions


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
) -> tuple[plt.Figure, plt.Figure, plt.Figure]:
    """Forecast vs actual over the whole record (daily means, train/test boundary marked), a
    zoomed test week for each horizon, and test RMSE by horizon for every model."""
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
    return overview, zoom, by_horizon
