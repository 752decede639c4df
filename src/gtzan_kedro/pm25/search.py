"""The LSTM forecaster search: a grid over lookback x units picked on the validation tail,
seed members of the chosen configuration averaged, optionally the whole grid's mean, and
optionally test-time models refitted on train + validation tail.

:func:`search_lstm` returns an :class:`LstmSearch` (forecasts of every hour, the fitted
test-time models, the choices made); it logs nothing to MLflow and knows nothing of Kedro.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from gtzan_kedro.models.progress import ProgressTracker
from gtzan_kedro.pm25.baselines import prediction_frame
from gtzan_kedro.pm25.features import (
    INPUT_TARGET,
    TARGET,
    ChronoSplit,
    FittedScalers,
    fit_scalers,
    lead_columns,
    scaled_inputs,
    targets,
    window_origins,
    windows,
)

logger = logging.getLogger(__name__)

# Feature-set label of models that see the observed weather of the target hour (a stand-in
# for a weather forecast), so they are never mistaken for causal ones.
TARGET_WEATHER_SUFFIX = "+target_weather"


@dataclass
class LstmSearch:
    """What one LSTM search found: forecasts of every hour (``prediction_frame`` rows), the
    test-time models of the kept configurations by file stem, the choices per horizon group
    (lookback, units, validation loss) and the per-member model-selection table."""

    predictions: pd.DataFrame
    models: dict[str, Any]
    chosen: dict[str, Any]
    summary: pd.DataFrame
    target_scale: float
    features: str = ""
    name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def validation_rmse(predictions: pd.DataFrame, horizon: int | None) -> float:
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


def out_of_sample_on_validation(final: pd.DataFrame, early: pd.DataFrame) -> pd.DataFrame:
    """The refitted models' forecasts, except on the validation tail, which they trained on:
    there the early-stopped models' forecasts stay, so every validation score and the
    ensemble weights remain out of sample."""
    on_valid = (final["segment"] == "valid").to_numpy()
    out = final.copy()
    out.loc[on_valid, "y_pred"] = early.loc[on_valid, "y_pred"].to_numpy()
    return out


def _fit_one(x, y, origins, chrono, horizons_out, cfg, lookback, units, n_features, pm_column, seed,
             label: str = "LSTM"):
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
                       lr_patience=int(cfg["lr_patience"]) if cfg.get("lr_patience") else None,
                       progress=label)
    val_loss = float(np.min(history.history["val_loss"]))
    if not cfg.get("refit_full_train", False):
        return model, model, history, val_loss, None
    # As the ridge and GBM: the validation tail (the hours right before the test) also trains
    # the test-time model, for the epoch count early stopping chose on it.
    full_idx = np.flatnonzero(has_target & (last_target < chrono.test_start))[::stride]
    epochs = best_epoch_count(history)
    refitted = build()
    refit_lstm(refitted, x[full_idx], y[full_idx], epochs=epochs, batch_size=int(cfg["batch_size"]),
               progress=f"{label} refit")
    return model, refitted, history, val_loss, {"refit_windows": len(full_idx), "refit_epochs": epochs,
                                                "fit_windows": len(fit_idx)}


@dataclass
class _Problem:
    """The fixed inputs of one search: the scaled series, the split and the model settings."""

    frame: pd.DataFrame
    chrono: ChronoSplit
    cfg: dict[str, Any]
    columns: list[str]
    inputs: np.ndarray
    scalers: FittedScalers
    observed: np.ndarray
    scaled_target: np.ndarray
    lead: list[str]
    set_name: str
    seed: int
    summary: list[dict] = field(default_factory=list)
    progress: ProgressTracker | None = None  # one step per trained member, with the time left


def _grid(cfg: dict[str, Any]) -> list[tuple[int, list[int]]]:
    """Every (lookback, layer sizes) configuration of the model's grid."""
    lookbacks = cfg["lookback"] if isinstance(cfg["lookback"], list) else [cfg["lookback"]]
    units = cfg["units"] if isinstance(cfg["units"], list) and isinstance(cfg["units"][0], list) else [cfg["units"]]
    return list(itertools.product(lookbacks, units))


def planned_fits(cfg: dict[str, Any]) -> int:
    """How many LSTMs one horizon group trains: the grid's (``n_members`` each with
    ``average_grid``) plus the chosen configuration's remaining seed members."""
    n_members = max(1, int(cfg.get("n_members", 1)))
    per_config = n_members if cfg.get("average_grid", False) else 1
    return len(_grid(cfg)) * per_config + (n_members - per_config)


@dataclass
class _Member:
    """One trained seed member: early-stopped model, test-time model, history dict, best
    validation loss, refit record. One object, so Dask pickles it whole (its own serializer
    for a bare Keras model calls Keras 2's ``_updated_config``, which Keras 3 lacks)."""

    fitted: tuple


def _train_member(chrono: ChronoSplit, cfg: dict[str, Any], set_name: str, group: list[int],
                  n_features: int, pm_column: int, seed: int, configs: list[dict],
                  item: tuple[int, int]) -> _Member:
    """Seed member ``item = (configuration, member)`` of the group's grid, wherever it runs."""
    number, member = item
    config = configs[number]
    early, final, history, val_loss, refit = _fit_one(
        config["x"], config["y"], config["origins"], chrono, group, cfg, config["lookback"],
        config["units"], n_features, pm_column, seed + member,
        label=_member_label(cfg["name"], set_name, group, config, member))
    return _Member((early, final, history.history, val_loss, refit))


def _member_label(name: str, set_name: str, group: list[int], config: dict, member: int) -> str:
    return f"{name} {set_name} h{group} L{config['lookback']} units {config['units']} member {member}"


def _add_members(problem: _Problem, group: list[int], configs: list[dict],
                 items: list[tuple[int, int]]) -> None:
    """Fit the seed members ``items`` (``(configuration, member)``) of the group's grid: as
    tasks of the Dask cluster this runs on (each seeded by its member number, so the same
    wherever it runs), else here one after another. The first member's loss is the
    configuration's; the summary keeps the items' order, the progress lines come as members
    finish."""
    from gtzan_kedro.cluster import map_tasks
    from gtzan_kedro.models.lstm import register_masked_mse

    register_masked_mse()   # the loss by name, so members trained on other workers load here

    def finished(item: tuple[int, int], trained: _Member) -> None:   # in the order they finish
        if problem.progress is not None:
            number, member = item
            _, _, history, val_loss, _ = trained.fitted
            what = _member_label(problem.cfg["name"], problem.set_name, group, configs[number], member)
            problem.progress.step(f"{what}: val_loss {val_loss:.4g}, {len(history['val_loss'])} epochs")

    def arrived(item: tuple[int, int], trained: _Member) -> None:   # in the items' order
        number, member = item
        config = configs[number]
        early, final, history, val_loss, refit = trained.fitted
        problem.summary.append({"horizons": str(group), "lookback": config["lookback"],
                                "units": str(config["units"]), "member": member, "val_loss": val_loss,
                                "epochs": len(history["val_loss"]), **(refit or {})})
        config["members"].append((early, final))
        config.setdefault("val_loss", val_loss)

    # the windows travel, not the fitted members already in the configurations
    shipped = [{k: c[k] for k in ("lookback", "units", "origins", "x", "y")} for c in configs]
    fit = partial(_train_member, problem.chrono, problem.cfg, problem.set_name, group,
                  len(problem.columns), problem.columns.index(INPUT_TARGET), problem.seed, shipped)
    map_tasks(fit, items, label=f"{problem.cfg['name']}-h{'_'.join(map(str, group))}",
              on_result=arrived, on_done=finished)


def _config_predictions(problem: _Problem, group: list[int], config: dict) -> pd.DataFrame:
    """The configuration's member-mean forecasts (refitted models after the validation tail)."""
    from gtzan_kedro.models.lstm import ensemble_mean, predict_batched

    def frame_of(models: list) -> pd.DataFrame:
        forecasts = ensemble_mean([predict_batched(m, config["x"]) for m in models])
        return prediction_frame(problem.frame.index, config["origins"], group,
                                forecasts * problem.scalers.target_scale, problem.observed,
                                problem.chrono, model=problem.cfg["name"], features=problem.set_name)

    early = frame_of([early for early, _ in config["members"]])
    if not problem.cfg.get("refit_full_train", False):
        return early
    return out_of_sample_on_validation(frame_of([final for _, final in config["members"]]), early)


def _search_group(problem: _Problem, group: list[int]) -> tuple[pd.DataFrame, list[dict], dict]:
    """The grid, the chosen configuration's seed members and (``average_grid``) the whole
    grid's mean for one group of horizons; returns the kept forecasts, the kept
    configurations and the best one."""
    cfg, name = problem.cfg, problem.cfg["name"]
    n_members = int(cfg.get("n_members", 1))
    average_grid = bool(cfg.get("average_grid", False))
    # average_grid: every configuration gets its seed members, so the mean over the whole
    # grid can compete on the validation tail with the best configuration's members.
    per_config = n_members if average_grid else 1
    group_inputs = (lead_columns(problem.inputs, problem.columns, problem.lead, group[0])
                    if problem.lead else problem.inputs)
    grid = _grid(cfg)
    configs = []
    for lookback, units in grid:
        origins = window_origins(group_inputs, lookback, min_horizon=min(group))
        config = {"lookback": lookback, "units": units, "members": [], "origins": origins,
                  "x": windows(group_inputs, origins, lookback),
                  "y": targets(problem.scaled_target, origins, group)}
        logger.info("%s %s horizons %s: lookback %d, units %s, %d windows", name, problem.set_name,
                    group, lookback, units, len(origins))
        configs.append(config)
    _add_members(problem, group, configs,
                 [(number, member) for number in range(len(configs)) for member in range(per_config)])
    # The grid's choice: the lowest validation loss of the first seed (as without an ensemble).
    best = min(configs, key=lambda c: c["val_loss"])
    # Seed ensemble of the chosen configuration: the members it does not have yet.
    _add_members(problem, group, configs, [(configs.index(best), member)
                                           for member in range(len(best["members"]), n_members)])
    for config in configs:
        config["predictions"] = _config_predictions(problem, group, config)
    chosen, kept = best["predictions"], [best]
    if average_grid and len(configs) > 1:
        whole = average_predictions([c["predictions"] for c in configs])
        best_rmse = validation_rmse(chosen.merge(whole[["timestamp", "horizon_h"]],
                                                 on=["timestamp", "horizon_h"]), None)
        whole_rmse = validation_rmse(whole, None)
        logger.info("%s %s h%s validation RMSE: best configuration's members %.3f, whole grid %.3f",
                    name, problem.set_name, group, best_rmse, whole_rmse)
        if whole_rmse < best_rmse:
            chosen, kept = whole, configs
    return chosen, kept, best


def search_lstm(frame: pd.DataFrame, chrono: ChronoSplit, horizons: list[int],
                feature_sets: dict[str, list[str]], cfg: dict[str, Any], seed: int = 0) -> LstmSearch:
    """Search the LSTM described by ``cfg`` (grid over lookback x units picked on the
    validation tail; ``n_members`` seeds of the chosen one averaged; ``average_grid``: the
    whole grid's mean when it validates better; ``refit_full_train``: test-time models
    refitted on train + validation tail) and forecast every hour of ``frame``."""
    name = cfg["name"]
    lead = list(cfg.get("weather_at_target") or [])
    columns = feature_sets[cfg["features"]]
    scalers = fit_scalers(frame, columns, chrono)
    observed = frame[TARGET].to_numpy(dtype=float)
    problem = _Problem(frame, chrono, cfg, columns, scaled_inputs(frame, scalers), scalers, observed,
                       (observed / scalers.target_scale).astype(np.float32), lead,
                       cfg["features"] + (TARGET_WEATHER_SUFFIX if lead else ""), seed)
    # One multi-output model for all horizons, or (the report's way) one model per horizon.
    groups = [horizons] if cfg.get("joint_horizons", False) else [[h] for h in horizons]
    if lead and len(groups[0]) > 1:
        raise ValueError(f"{name}: weather_at_target needs joint_horizons: false (one lead per model)")
    if int(cfg.get("n_members", 1)) < 1:
        raise ValueError(f"{name}: n_members must be >= 1, got {cfg.get('n_members')}")
    problem.progress = ProgressTracker(len(groups) * planned_fits(cfg), f"{name} {problem.set_name}",
                                       log=logger)
    parts, models, chosen = [], {}, {}
    for group in groups:
        predictions, kept, best = _search_group(problem, group)
        parts.append(predictions)
        tag = "_".join(map(str, group))
        chosen.update({f"h{tag}_lookback": "+".join(str(c["lookback"]) for c in kept),
                       f"h{tag}_units": "+".join(str(c["units"]) for c in kept),
                       f"h{tag}_val_loss": round(best["val_loss"], 6)})
        for config in kept:
            for member, (_, fitted) in enumerate(config["members"]):
                models[f"{name}_{problem.set_name}_h{tag}_L{config['lookback']}_m{member}"] = fitted
    summary = pd.DataFrame(problem.summary)
    logger.info("%s %s model selection:\n%s", name, problem.set_name, summary.to_string())
    return LstmSearch(pd.concat(parts, ignore_index=True), models, chosen, summary,
                      scalers.target_scale, problem.set_name, name)
