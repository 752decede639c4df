"""Bayesian search of the MLP architecture with keras-tuner, on training/validation rows only."""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from gtzan_kedro.models.mlp import build_mlp

logger = logging.getLogger(__name__)

DEFAULT_SPACE = {"min_layers": 1, "max_layers": 6, "min_units": 8, "max_units": 256,
                 "dropouts": [0.3, 0.4, 0.5], "learning_rates": [1e-3, 3e-4]}


def mlp_hypermodel(n_features: int, n_classes: int, space: dict[str, Any] | None = None):
    """A keras-tuner build function over depth, widths, dropout and learning rate."""
    space = {**DEFAULT_SPACE, **(space or {})}

    def build(hp):
        n_layers = hp.Int("layers", space["min_layers"], space["max_layers"])
        units = [hp.Int(f"units_{i}", space["min_units"], space["max_units"], sampling="log")
                 for i in range(n_layers)]
        return build_mlp(n_features, n_classes, units=units,
                         dropout=hp.Choice("dropout", space["dropouts"]),
                         optimizer="adam",
                         learning_rate=hp.Choice("learning_rate", space["learning_rates"]))

    return build


def tune_mlp(X_train: np.ndarray, y_train: np.ndarray, X_val: np.ndarray, y_val: np.ndarray,
             n_classes: int, max_trials: int = 10, epochs: int = 100, patience: int = 15,
             batch_size: int = 32, space: dict | None = None, seed: int = 0,
             directory: str | Path | None = None) -> tuple[dict[str, Any], Any]:
    """Bayesian optimisation of val accuracy; returns (best hyperparameters, build function).

    ``y_*`` are integer class codes. Trials live in a temporary directory (deleted afterwards)
    unless ``directory`` is given.
    """
    import keras
    import keras_tuner

    workdir = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="gtzan_tuner_"))
    try:
        tuner = keras_tuner.BayesianOptimization(
            mlp_hypermodel(X_train.shape[1], n_classes, space), objective="val_accuracy",
            max_trials=max_trials, seed=seed, directory=str(workdir), project_name="mlp",
            overwrite=True)
        tuner.search(X_train.astype(np.float32), y_train, validation_data=(X_val.astype(np.float32), y_val),
                     epochs=epochs, batch_size=batch_size, verbose=0,
                     callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                                              restore_best_weights=True)])
        best = tuner.get_best_hyperparameters(1)[0].values
    finally:
        if directory is None:
            shutil.rmtree(workdir, ignore_errors=True)
    logger.info("tuned MLP: %s", best)
    space_full = {**DEFAULT_SPACE, **(space or {})}

    def build_best(n_features: int, n_cls: int):
        units = [int(best[f"units_{i}"]) for i in range(int(best["layers"]))]
        return build_mlp(n_features, n_cls, units=units, dropout=float(best["dropout"]),
                         optimizer="adam", learning_rate=float(best.get("learning_rate",
                                                                        space_full["learning_rates"][0])))

    return best, build_best
