"""Forecast scores in ug/m3 and on the scaled target, each against persistence on the
very same target hours."""

from __future__ import annotations

import numpy as np
import pandas as pd

METRIC_COLUMNS = ["model", "features", "horizon_h", "rmse", "mae", "mse_scaled", "persistence_rmse", "skill"]
KEYS = ["timestamp", "horizon_h"]


def forecast_metrics(predictions: pd.DataFrame, persistence: pd.DataFrame, target_scale: float,
                     segment: str = "test") -> pd.DataFrame:
    """One row per model x features x horizon over ``segment`` hours whose target was
    observed (never an imputed one) and that both the model and persistence forecast."""
    scored = predictions[(predictions["segment"] == segment) & predictions["y_true"].notna()
                         & predictions["y_pred"].notna()]
    reference = persistence[KEYS + ["y_pred"]].rename(columns={"y_pred": "persistence_pred"})
    scored = scored.merge(reference, on=KEYS, how="inner")
    rows = []
    for (model, features, horizon), group in scored.groupby(["model", "features", "horizon_h"], sort=False):
        error = group["y_pred"].to_numpy() - group["y_true"].to_numpy()
        reference_error = group["persistence_pred"].to_numpy() - group["y_true"].to_numpy()
        rmse = float(np.sqrt(np.mean(error**2)))
        persistence_rmse = float(np.sqrt(np.mean(reference_error**2)))
        rows.append({
            "model": model, "features": features, "horizon_h": int(horizon),
            "rmse": rmse, "mae": float(np.mean(np.abs(error))),
            "mse_scaled": float(np.mean((error / target_scale) ** 2)),
            "persistence_rmse": persistence_rmse,
            "skill": 1.0 - rmse / persistence_rmse if persistence_rmse > 0 else np.nan,
        })
    return pd.DataFrame(rows, columns=METRIC_COLUMNS)
