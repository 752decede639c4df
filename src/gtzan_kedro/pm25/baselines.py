"""Reference forecasters every model must beat: persistence, 24-h seasonal persistence and
a ridge regression on lags."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge

from gtzan_kedro.pm25.features import (
    INPUT_TARGET,
    TARGET,
    ChronoSplit,
    lag_matrix,
    lead_columns,
    targets,
    window_origins,
)


class NonNegativeRidge(Ridge):
    """Ridge whose prediction passes through a ReLU: the same non-negative output layer the
    LSTMs have, in a target space where 0 is 0 ug/m3 (sklearn has no such option)."""

    def predict(self, X):
        return np.maximum(super().predict(X), 0.0)


def prediction_frame(
    index: pd.DatetimeIndex,
    origins: np.ndarray,
    horizons: list[int],
    forecasts: np.ndarray,
    observed: np.ndarray,
    split: ChronoSplit,
    model: str,
    features: str,
) -> pd.DataFrame:
    """Long table of forecasts ``forecasts[i, j]`` made at ``origins[i]`` for ``horizons[j]``,
    one row per target hour, with the observed value (NaN when the target is missing)."""
    parts = []
    for j, h in enumerate(horizons):
        rows = origins + h
        keep = rows < len(index)
        rows = rows[keep]
        parts.append(pd.DataFrame({
            "timestamp": index[rows],
            "model": model,
            "features": features,
            "horizon_h": h,
            "segment": split.segment(rows),
            "y_true": observed[rows],
            "y_pred": forecasts[keep, j].astype(float),
        }))
    return pd.concat(parts, ignore_index=True)


def persistence_forecasts(frame: pd.DataFrame, horizons: list[int], split: ChronoSplit,
                          period: int | None = None) -> pd.DataFrame:
    """``y(t) = y(t - h)`` (or ``y(t - k*period)`` with the smallest k*period >= h for the
    seasonal variant), from the input copy of pm2.5 (short gaps interpolated)."""
    series = frame[INPUT_TARGET].to_numpy(dtype=float)
    observed = frame[TARGET].to_numpy(dtype=float)
    parts = []
    for h in horizons:
        lag = h if period is None else period * math.ceil(h / period)
        origins = np.arange(len(series) - h)
        source = origins + h - lag
        valid = source >= 0
        origins, source = origins[valid], source[valid]
        parts.append(prediction_frame(
            frame.index, origins, [h], series[source].reshape(-1, 1), observed, split,
            model="persistence" if period is None else f"seasonal_persistence_{period}h",
            features="pm2.5",
        ))
    out = pd.concat(parts, ignore_index=True)
    return out[out["y_pred"].notna()].reset_index(drop=True)


@dataclass(frozen=True)
class LagDesign:
    """What the lag regressions (ridge, GBM) share: the scaled inputs with their column names,
    the hourly frame (index and observed target), the target's scale, the split and the lags."""

    inputs: np.ndarray
    input_columns: list[str]
    frame: pd.DataFrame
    target_scale: float
    split: ChronoSplit
    lags: int

    @property
    def observed(self) -> np.ndarray:
        return self.frame[TARGET].to_numpy(dtype=float)

    def rows(self, horizon: int, inputs: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Origins, design (the last ``lags`` hours of scaled pm2.5 plus every input at the
        origin) and scaled target ``horizon`` hours ahead, for every origin with a full window."""
        inputs = self.inputs if inputs is None else inputs
        pm_col = self.input_columns.index(INPUT_TARGET)
        origins = window_origins(inputs, self.lags, min_horizon=horizon)
        design = np.hstack([lag_matrix(inputs[:, pm_col], origins, self.lags), inputs[origins]])
        return origins, design, targets(self.observed / self.target_scale, origins, [horizon])[:, 0]

    def prediction_frame(self, origins: np.ndarray, horizon: int, scaled_forecasts: np.ndarray, model: str,
                         features: str) -> pd.DataFrame:
        return prediction_frame(self.frame.index, origins, [horizon], (scaled_forecasts * self.target_scale)
                                .reshape(-1, 1), self.observed, self.split, model=model, features=features)


def ridge_forecasts(
    data: LagDesign,
    horizons: list[int],
    alpha: float,
    features: str,
    weather_at_target: list[str] | None = None,
) -> pd.DataFrame:
    """One ridge per horizon on the lag design (``weather_at_target`` columns taken at the
    target hour instead of the origin); fitted on all training targets (train + validation tail)."""
    parts = []
    for h in horizons:
        shifted = lead_columns(data.inputs, data.input_columns, weather_at_target, h) if weather_at_target else None
        origins, design, y = data.rows(h, shifted)
        fit = (origins + h < data.split.test_start) & np.isfinite(y)
        model = NonNegativeRidge(alpha=alpha).fit(design[fit], y[fit])
        parts.append(data.prediction_frame(origins, h, model.predict(design), "ridge_lags", features))
    return pd.concat(parts, ignore_index=True)


def gbm_forecasts(
    data: LagDesign,
    horizons: list[int],
    features: str,
    max_iter: int = 300,
    learning_rate: float = 0.05,
    max_leaf_nodes: int = 31,
    seed: int = 0,
) -> pd.DataFrame:
    """One gradient-boosted tree model per horizon on the same design as the ridge, fitted to
    the change from the last PM2.5 value (trees cannot extrapolate a level, a change they
    can); the forecast is last value + change, floored at 0 like every other model's output.
    Forecasts up to the test start come from a model fitted before the validation tail (so
    they are out of sample there and can weigh it against the LSTM in an ensemble); test
    forecasts from one refitted on all training targets, as the ridge is."""
    pm_col = data.input_columns.index(INPUT_TARGET)
    split = data.split
    parts = []
    for h in horizons:
        origins, design, y = data.rows(h)
        last = data.inputs[origins, pm_col]
        change = np.full(len(origins), np.nan)
        for fit_end, scored in ((split.valid_start, origins + h < split.test_start),
                                (split.test_start, origins + h >= split.test_start)):
            fit = (origins + h < fit_end) & np.isfinite(y)
            if not scored.any():
                continue
            model = HistGradientBoostingRegressor(max_iter=max_iter, learning_rate=learning_rate,
                                                  max_leaf_nodes=max_leaf_nodes, early_stopping=False,
                                                  random_state=seed)
            model.fit(design[fit], y[fit] - last[fit])
            change[scored] = model.predict(design[scored])
        parts.append(data.prediction_frame(origins, h, np.maximum(change + last, 0.0), "gbm_lags", features))
    return pd.concat(parts, ignore_index=True)
