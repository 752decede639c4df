"""Bayesian search of the MLP architecture with keras-tuner, on training/validation rows only.

The search space holds every fixed preset of :data:`gtzan_kedro.models.mlp.MLP_PRESETS`, and the
presets are the search's first trials (its initial points), so the Gaussian process starts from
the reports' networks instead of from random draws. Every trial is built and trained with the
same seed as a fixed preset in the pipeline, and scored on the validation accuracy of the weights
that early stopping restores, i.e. of the model a refit with :func:`tune_mlp`'s build function
reproduces. With the same epochs, patience and batch size as the presets, the tuned MLP cannot
lose to a preset on its own validation data.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gtzan_kedro.models.mlp import MLP_PRESETS, build_mlp
from gtzan_kedro.models.progress import ProgressTracker
from gtzan_kedro.models.seeding import one_fit_at_a_time

logger = logging.getLogger(__name__)

# build_mlp's defaults, for presets that leave a knob out
_BUILD_DEFAULTS = {"activation": "relu", "dropout": 0.0, "l1": 0.0, "l2": 0.0,
                   "optimizer": "adam", "learning_rate": 1e-3}
# values searched beyond the presets' own (a middle learning rate, heavier dropout)
_EXTRA_VALUES = {"dropouts": [0.5], "learning_rates": [3e-4]}
# space key -> build_mlp keyword, for the categorical knobs
_CHOICES = {"activations": "activation", "dropouts": "dropout", "l1": "l1", "l2": "l2",
            "optimizers": "optimizer", "learning_rates": "learning_rate"}


def preset_space(presets: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The smallest space of :func:`mlp_hypermodel` holding every preset, plus a few extra values."""
    presets = MLP_PRESETS if presets is None else presets
    settings = [{**_BUILD_DEFAULTS, **p} for p in presets.values()]
    space: dict[str, Any] = {
        "min_layers": min(len(s["units"]) for s in settings),
        "max_layers": max(len(s["units"]) for s in settings),
        "units": sorted({int(u) for s in settings for u in s["units"]}),
    }
    for key, keyword in _CHOICES.items():
        values = {s[keyword] for s in settings} | set(_EXTRA_VALUES.get(key, []))
        space[key] = sorted(values, key=lambda v: (isinstance(v, str), v))
    return space


DEFAULT_SPACE = preset_space()


def resolve_space(space: dict[str, Any] | None = None) -> dict[str, Any]:
    """The default space with ``space``'s entries over it; ``min_units``/``max_units`` (the old
    integer range) keep only the widths inside it."""
    space = dict(space or {})
    low, high = space.pop("min_units", None), space.pop("max_units", None)
    unknown = set(space) - set(DEFAULT_SPACE)
    if unknown:
        raise ValueError(f"unknown MLP search-space keys {sorted(unknown)}; "
                         f"use {sorted(DEFAULT_SPACE) + ['max_units', 'min_units']}")
    full = {**DEFAULT_SPACE, **space}
    if low is not None or high is not None:
        lo, hi = int(low if low is not None else 1), int(high if high is not None else 1 << 30)
        full["units"] = [u for u in full["units"] if lo <= u <= hi] or [lo, hi]
    if not 1 <= int(full["min_layers"]) <= int(full["max_layers"]):
        raise ValueError(f"MLP search space: need 1 <= min_layers <= max_layers, got "
                         f"{full['min_layers']} and {full['max_layers']}")
    for key in ["units", *_CHOICES]:
        if not full[key]:
            raise ValueError(f"MLP search space: {key!r} is empty; give at least one value")
    return full


def build_params(values: dict[str, Any]) -> dict[str, Any]:
    """build_mlp's keyword arguments (units, activation, ...) for a trial's hyperparameter values."""
    params = {keyword: values[keyword] for keyword in _CHOICES.values() if keyword in values}
    params["units"] = [int(values[f"units_{i}"]) for i in range(int(values["layers"]))]
    for keyword in ("dropout", "l1", "l2", "learning_rate"):
        if keyword in params:
            params[keyword] = float(params[keyword])
    return {**_BUILD_DEFAULTS, **params}


def preset_values(params: dict[str, Any], space: dict[str, Any]) -> dict[str, Any] | None:
    """The hyperparameter values of a preset's build_mlp keywords, or None when the space lacks one."""
    settings = {**_BUILD_DEFAULTS, **params}
    units = [int(u) for u in settings["units"]]
    if not int(space["min_layers"]) <= len(units) <= int(space["max_layers"]):
        return None
    if any(u not in space["units"] for u in units):
        return None
    values: dict[str, Any] = {"layers": len(units)}
    for i in range(int(space["max_layers"])):  # inactive layers' widths still need a value
        values[f"units_{i}"] = units[min(i, len(units) - 1)]
    for key, keyword in _CHOICES.items():
        if settings[keyword] not in space[key]:
            return None
        values[keyword] = settings[keyword]
    return values


def mlp_hypermodel(n_features: int, n_classes: int, space: dict[str, Any] | None = None,
                   seed: int | None = 0) -> Callable:
    """A keras-tuner build function over depth, per-layer widths, activation, dropout, L1/L2,
    optimizer and learning rate; each model is initialised from ``seed``."""
    space = resolve_space(space)

    def build(hp):
        values = {"layers": hp.Int("layers", int(space["min_layers"]), int(space["max_layers"]))}
        for i in range(values["layers"]):
            values[f"units_{i}"] = hp.Choice(f"units_{i}", [int(u) for u in space["units"]])
        for key, keyword in _CHOICES.items():
            values[keyword] = hp.Choice(keyword, list(space[key]))
        return build_mlp(n_features, n_classes, seed=seed, **build_params(values))

    return build


@dataclass
class TuningResult:
    """What a search found: the best trial's values and keywords, and every trial's score."""

    best_values: dict[str, Any]
    best_params: dict[str, Any]
    trials: pd.DataFrame  # one row per trial: trial, preset (or ''), val_accuracy, val_loss, epochs
    seed: int | None

    def build_fn(self) -> Callable[[int, int], Any]:
        """A build function for KerasMLPClassifier(build_fn=...): the best network, same seed."""
        params, seed = dict(self.best_params), self.seed

        def build_best(n_features: int, n_classes: int):
            return build_mlp(n_features, n_classes, seed=seed, **params)

        return build_best


def _check_codes(y: np.ndarray, n_classes: int, what: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"tune_mlp: {what} must be a 1-D array of integer class codes, got "
                         f"dtype {y.dtype} and shape {y.shape}; encode labels with np.searchsorted")
    if len(y) and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"tune_mlp: {what} has codes outside 0..{n_classes - 1} "
                         f"(min {y.min()}, max {y.max()}); a validation class unseen in training?")
    return y


def _initial_points(presets: bool | Iterable[str], space: dict[str, Any]) -> list[tuple[str, dict]]:
    if presets is True:
        names = list(MLP_PRESETS)
    elif not presets:
        names = []
    else:
        names = list(presets)
    points = []
    for name in names:
        if name not in MLP_PRESETS:
            raise ValueError(f"unknown MLP preset {name!r} in the tuner's presets; "
                             f"use some of {sorted(MLP_PRESETS)}")
        values = preset_values(MLP_PRESETS[name], space)
        if values is None:
            logger.warning("MLP preset %s lies outside the search space %s and is not a starting "
                           "point; widen the space (or drop its space entry) to hold it", name, space)
            continue
        points.append((name, values))
    return points


def search_mlp(X_train: np.ndarray, y_train: np.ndarray, X_val: np.ndarray, y_val: np.ndarray,
               n_classes: int, max_trials: int = 12, epochs: int = 100, patience: int = 15,
               batch_size: int = 32, space: dict | None = None, seed: int | None = 0,
               presets: bool | Iterable[str] = True, directory: str | Path | None = None,
               ) -> TuningResult:
    """Bayesian optimisation of validation accuracy, starting from the presets; ``y_*`` are
    integer class codes. Trials live in a temporary directory (deleted afterwards) unless
    ``directory`` is given.

    ``max_trials`` counts the preset trials too: with fewer trials than presets only the first
    presets are tried. Each trial trains like KerasMLPClassifier (early stopping on validation
    loss, best weights restored) and scores the restored weights' validation accuracy.
    """
    import keras
    import keras_tuner

    y_train = _check_codes(y_train, n_classes, "y_train")
    y_val = _check_codes(y_val, n_classes, "y_val")
    if not len(y_val):
        raise ValueError("tune_mlp needs validation rows to score trials; the split has none "
                         "(set val_size > 0 or use a fixed preset)")
    X_train = np.asarray(X_train, dtype=np.float32)
    X_val = np.asarray(X_val, dtype=np.float32)
    space = resolve_space(space)
    points = _initial_points(presets, space)
    if max_trials < len(points):
        logger.warning("tuner max_trials=%d < %d presets: only %s are tried",
                       max_trials, len(points), [n for n, _ in points[:max_trials]])
    labels = {_values_key(v): name for name, v in points}
    progress = ProgressTracker(max_trials, "tuned MLP trials", log=logger)

    class PresetFirstOracle(keras_tuner.oracles.BayesianOptimizationOracle):
        """Bayesian optimisation whose first trials are the presets (keras-tuner starts from
        random draws, and its first trial from every hyperparameter's minimum)."""

        def populate_space(self, trial_id):
            done = len(self.trials)  # keras-tuner registers the trial after this call
            if done < len(points):
                return {"status": keras_tuner.engine.trial.TrialStatus.RUNNING,
                        "values": dict(points[done][1])}
            completed = [t for t in self.trials.values() if t.status == "COMPLETED"]
            if len(completed) < self.num_initial_points:
                return self._random_populate_space()
            return {"status": keras_tuner.engine.trial.TrialStatus.RUNNING,
                    "values": self._vector_to_values(_next_point(self))}

    class ValidationTuner(keras_tuner.Tuner):
        """Scores a trial on the restored (best-val-loss) weights, the model a refit returns."""

        def run_trial(self, trial, *args, **kwargs):
            model = self.hypermodel.build(trial.hyperparameters)
            stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                                 restore_best_weights=True)
            history = model.fit(X_train, y_train, validation_data=(X_val, y_val), epochs=epochs,
                                batch_size=batch_size, callbacks=[stop], verbose=0)
            loss, accuracy = model.evaluate(X_val, y_val, verbose=0, batch_size=1024)
            keras.backend.clear_session()
            name = labels.get(_values_key(trial.hyperparameters.values), "search point")
            progress.step(f"trial {int(trial.trial_id)} {name}: val_accuracy {accuracy:.3f}, "
                          f"{len(history.history['loss'])} epochs")
            return {"val_accuracy": float(accuracy), "val_loss": float(loss),
                    "epochs": float(len(history.history["loss"]))}

    oracle = PresetFirstOracle(objective=keras_tuner.Objective("val_accuracy", "max"),
                               max_trials=max_trials, seed=_oracle_seed(seed),
                               num_initial_points=max(len(points), 2))
    workdir = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="gtzan_tuner_"))
    try:
        tuner = ValidationTuner(oracle=oracle,
                                hypermodel=mlp_hypermodel(X_train.shape[1], n_classes, space, seed),
                                directory=str(workdir), project_name="mlp", overwrite=True)
        tuner.search(verbose=0)  # keras-tuner prints a table per trial otherwise
        trials = sorted(tuner.oracle.trials.values(), key=lambda t: int(t.trial_id))
        rows = []
        for t in trials:
            if t.status != "COMPLETED":
                continue
            metrics = {name: t.metrics.get_last_value(name)
                       for name in ("val_accuracy", "val_loss", "epochs")}
            rows.append({"trial": int(t.trial_id),
                         "preset": labels.get(_values_key(t.hyperparameters.values), ""),
                         **metrics, "params": build_params(t.hyperparameters.values)})
        if not rows:
            raise RuntimeError("tune_mlp: no trial completed; see the keras-tuner log above")
        table = pd.DataFrame(rows)
        # ties go to the earliest trial (a preset before a search point)
        best_row = table.sort_values(["val_accuracy", "trial"], ascending=[False, True]).iloc[0]
        best_values = dict(trials[[int(t.trial_id) for t in trials].index(best_row["trial"])]
                           .hyperparameters.values)
    finally:
        if directory is None:
            shutil.rmtree(workdir, ignore_errors=True)
    best_values = {k: v for k, v in best_values.items()
                   if not (k.startswith("units_") and int(k.split("_")[1]) >= best_values["layers"])}
    result = TuningResult(best_values, build_params(best_values), table, seed)
    logger.info("tuned MLP: best of %d trials (val_accuracy %.3f%s): %s", len(table),
                best_row["val_accuracy"], f", preset {best_row['preset']}" if best_row["preset"] else "",
                result.best_params)
    return result


def _next_point(oracle, candidates: int = 2000, refine: int = 5) -> np.ndarray:
    """The lower-confidence-bound minimiser of a fitted GP, as keras-tuner's Bayesian oracle
    computes it, but from one vectorised pass over random candidates and a few L-BFGS-B
    refinements instead of 50 restarts (which cost 30 s per trial on a loaded 2-core CPU)."""
    import scipy.optimize

    from sklearn.exceptions import ConvergenceWarning

    x, y = oracle._vectorize_trials()
    with warnings.catch_warnings():  # a length scale at its bound on a handful of trials: noise
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        oracle.gpr.fit(np.nan_to_num(x, posinf=0, neginf=0), np.nan_to_num(y, posinf=0, neginf=0))
    bounds = oracle._get_hp_bounds()

    def lcb(points: np.ndarray) -> np.ndarray:
        mu, sigma = oracle.gpr.predict(np.atleast_2d(points), return_std=True)
        return mu - oracle.beta * sigma  # keras-tuner flips the score's sign when maximising

    pool = oracle._random_state.uniform(bounds[:, 0], bounds[:, 1],
                                        size=(candidates, bounds.shape[0]))
    best_x, best_f = None, np.inf
    for start in pool[np.argsort(lcb(pool))[:refine]]:
        res = scipy.optimize.minimize(lambda v: float(lcb(v)[0]), x0=start, bounds=bounds,
                                      method="L-BFGS-B")
        if float(res.fun) < best_f:
            best_x, best_f = res.x, float(res.fun)
    return best_x


def _oracle_seed(seed: int | None) -> int | None:
    """keras-tuner's oracle replaces a falsy seed by a random one (``seed or randint``): the
    project's default seed 0 made every search different; shift it so 0 stays reproducible."""
    return None if seed is None else int(seed) + 1


def _values_key(values: dict[str, Any]) -> tuple:
    """A hashable identity of a trial's active values (inactive layer widths left out)."""
    n = int(values["layers"])
    return tuple(sorted((k, v) for k, v in values.items()
                        if not (k.startswith("units_") and int(k.split("_")[1]) >= n)))


@one_fit_at_a_time
def tune_mlp(X_train: np.ndarray, y_train: np.ndarray, X_val: np.ndarray, y_val: np.ndarray,
             n_classes: int, max_trials: int = 12, epochs: int = 100, patience: int = 15,
             batch_size: int = 32, space: dict | None = None, seed: int | None = 0,
             presets: bool | Iterable[str] = True,
             directory: str | Path | None = None) -> tuple[dict[str, Any], Callable]:
    """:func:`search_mlp`, returning (best hyperparameter values, seeded build function of the
    best network) for ``KerasMLPClassifier(build_fn=...)``.

    Refitted with the same epochs, patience and batch size (and validation rows), the build
    function reproduces the best trial's network and its validation accuracy.
    """
    result = search_mlp(X_train, y_train, X_val, y_val, n_classes, max_trials=max_trials,
                        epochs=epochs, patience=patience, batch_size=batch_size, space=space,
                        seed=seed, presets=presets, directory=directory)
    return result.best_values, result.build_fn()
