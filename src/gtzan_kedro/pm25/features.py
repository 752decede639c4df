"""Model inputs for hourly PM2.5 forecasting: one-hot wind, cyclic calendar, the
chronological split, train-only scalers and sliding windows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler

from gtzan_kedro.pm25 import WIND_DIRECTIONS

TARGET = "pm2.5"
INPUT_TARGET = "pm2.5_filled"
WIND_COLUMNS = [f"cbwd_{d}" for d in WIND_DIRECTIONS]
CALENDAR_COLUMNS = ["hour_sin", "hour_cos", "dow_sin", "dow_cos", "month_sin", "month_cos"]
# The report's 11 inputs, as named in the engineered frame (pm2.5 is the lagged series).
REPORT_11 = [INPUT_TARGET, "DEWP", "TEMP", "PRES", "Iws", "Is", "Ir", *WIND_COLUMNS]


def add_model_features(hourly: pd.DataFrame) -> pd.DataFrame:
    """Add one-hot ``cbwd`` (NaN in long gaps) and sin/cos of hour, weekday and month."""
    frame = hourly.copy()
    known = frame["cbwd"].notna()
    for direction, column in zip(WIND_DIRECTIONS, WIND_COLUMNS):
        frame[column] = np.where(known, (frame["cbwd"] == direction).astype(float), np.nan)
    index = pd.DatetimeIndex(frame.index)
    for name, value, period in (("hour", index.hour, 24), ("dow", index.dayofweek, 7),
                                ("month", index.month - 1, 12)):
        angle = 2 * np.pi * np.asarray(value) / period
        frame[f"{name}_sin"] = np.sin(angle)
        frame[f"{name}_cos"] = np.cos(angle)
    return frame


# Causal summaries of the recent past (each uses rows up to its own hour only): PM2.5 change
# and level, and the dew-point drop / pressure rise by which a dry north-west front arrives.
DYNAMIC_COLUMNS = [
    "pm_log1p", "pm_diff1", "pm_diff3", "pm_mean6", "pm_mean24", "pm_mean72", "pm_max24",
    "DEWP_d3", "DEWP_d6", "DEWP_d24", "PRES_d3", "PRES_d6", "PRES_d24", "TEMP_d24", "Iws_d3", "nw_hours",
    "pm_diff2", "pm_diff6", "pm_min24", "pm_std6", "pm_ratio24", "DEWP_d1", "PRES_d1", "TEMP_d1", "TEMP_d3",
    "Iws_d1", "wind_changed",
]


def add_dynamics(frame: pd.DataFrame, nw_cap_hours: int = 72) -> pd.DataFrame:
    """Add DYNAMIC_COLUMNS: differences, trailing rolling means / max of the input PM2.5, and
    the hours the wind has blown from the north-west (capped), all from past rows only."""
    out = frame.copy()
    pm = out[INPUT_TARGET].astype(float)
    out["pm_log1p"] = np.log1p(pm)
    for hours in (1, 2, 3, 6):
        out[f"pm_diff{hours}"] = pm.diff(hours)
    out["pm_min24"] = pm.rolling(24, min_periods=12).min()
    out["pm_std6"] = pm.rolling(6, min_periods=3).std()
    out["pm_ratio24"] = pm / (pm.rolling(24, min_periods=12).mean() + 1.0)
    for hours in (6, 24, 72):
        out[f"pm_mean{hours}"] = pm.rolling(hours, min_periods=hours // 2).mean()
    out["pm_max24"] = pm.rolling(24, min_periods=12).max()
    for column, spans in (("DEWP", (1, 3, 6, 24)), ("PRES", (1, 3, 6, 24)), ("TEMP", (1, 3, 24)), ("Iws", (1, 3))):
        for hours in spans:
            out[f"{column}_d{hours}"] = out[column].astype(float).diff(hours)
    # A change of wind direction is when fronts arrive; unknown directions count as no change.
    out["wind_changed"] = (out["cbwd"].notna() & out["cbwd"].shift().notna()
                           & (out["cbwd"] != out["cbwd"].shift())).astype(float)
    north_west = (out["cbwd"] == "NW").to_numpy()
    spell = (~north_west).cumsum()  # one id per run of NW hours (and the non-NW hour before it)
    out["nw_hours"] = np.minimum(pd.Series(north_west.astype(int)).groupby(spell).cumsum().to_numpy(),
                                 nw_cap_hours).astype(float)
    return out


@dataclass(frozen=True)
class ChronoSplit:
    """Row boundaries of a chronological split: fit [0, valid_start), validation tail
    [valid_start, test_start), test [test_start, n). Targets are assigned by their own hour."""

    n: int
    valid_start: int
    test_start: int

    def segment(self, rows: np.ndarray) -> np.ndarray:
        """'train', 'valid' or 'test' for each target row."""
        return np.select([rows < self.valid_start, rows < self.test_start], ["train", "valid"], "test")


def chronological_split(n: int, test_fraction: float = 0.3, valid_fraction: float = 0.1) -> ChronoSplit:
    """First 1 - test_fraction of hours for training (its last valid_fraction for early
    stopping), the rest for testing, as in the report (no shuffling, no overlap)."""
    if not (0 < test_fraction < 1 and 0 <= valid_fraction < 1):
        raise ValueError(f"bad split fractions test={test_fraction} valid={valid_fraction}")
    test_start = int((1 - test_fraction) * n)
    valid_start = test_start - int(valid_fraction * test_start)
    return ChronoSplit(n=n, valid_start=valid_start, test_start=test_start)


@dataclass
class FittedScalers:
    """Input MinMax scaler and target MaxAbs scaler, both fitted on the fit rows only.

    The target scaler only divides (by the training maximum), so 0 ug/m3 stays 0 and a
    non-negative output layer in scaled space means a non-negative forecast.
    """

    columns: list[str]
    inputs: MinMaxScaler
    target: MaxAbsScaler

    @property
    def target_scale(self) -> float:
        return float(self.target.scale_[0])


def fit_scalers(frame: pd.DataFrame, columns: list[str], split: ChronoSplit) -> FittedScalers:
    """Fit the scalers on rows before ``split.valid_start`` (NaNs are ignored by sklearn)."""
    fit_rows = frame.iloc[: split.valid_start]
    inputs = MinMaxScaler().fit(fit_rows[columns].to_numpy(dtype=float))
    target = MaxAbsScaler().fit(fit_rows[[TARGET]].dropna().to_numpy(dtype=float))
    return FittedScalers(columns=list(columns), inputs=inputs, target=target)


def scaled_inputs(frame: pd.DataFrame, scalers: FittedScalers) -> np.ndarray:
    """The frame's input columns scaled with the training scaler, float32 (n, f)."""
    return scalers.inputs.transform(frame[scalers.columns].to_numpy(dtype=float)).astype(np.float32)


def window_origins(inputs: np.ndarray, lookback: int, min_horizon: int = 1) -> np.ndarray:
    """Rows ``o`` (forecast origins) whose window ``o-lookback+1 .. o`` is fully known."""
    finite = np.isfinite(inputs).all(axis=1).astype(np.int64)
    complete = np.convolve(finite, np.ones(lookback, dtype=np.int64), mode="full")[: len(finite)] == lookback
    origins = np.flatnonzero(complete)
    return origins[origins + min_horizon < len(inputs)]


def windows(inputs: np.ndarray, origins: np.ndarray, lookback: int) -> np.ndarray:
    """Stack the ``lookback`` input rows ending at each origin: (len(origins), lookback, f)."""
    view = sliding_window_view(inputs, lookback, axis=0)  # (n - L + 1, f, L)
    return np.ascontiguousarray(view[origins - lookback + 1].transpose(0, 2, 1))


def targets(target: np.ndarray, origins: np.ndarray, horizons: list[int]) -> np.ndarray:
    """Targets ``h`` hours after each origin, NaN where unobserved or past the end: (m, H)."""
    out = np.full((len(origins), len(horizons)), np.nan, dtype=np.float32)
    for j, h in enumerate(horizons):
        rows = origins + h
        inside = rows < len(target)
        out[inside, j] = target[rows[inside]]
    return out


def lag_matrix(series: np.ndarray, origins: np.ndarray, lags: int) -> np.ndarray:
    """The last ``lags`` values of ``series`` up to each origin (oldest first): (m, lags)."""
    return windows(series.reshape(-1, 1), origins, lags)[:, :, 0]


def lead_columns(inputs: np.ndarray, columns: list[str], lead: list[str], hours: int) -> np.ndarray:
    """Copy of ``inputs`` whose ``lead`` columns are moved ``hours`` earlier, so the row of
    an origin carries the weather of its target hour (a stand-in for a weather forecast:
    observed future weather, hence an optimistic bound). The last rows become NaN."""
    out = inputs.copy()
    idx = [columns.index(c) for c in lead]
    out[:, idx] = np.nan
    if hours < len(inputs):
        out[: len(inputs) - hours, idx] = inputs[hours:, idx]
    return out
