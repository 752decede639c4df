"""The protocol loop for models on feature tables: splits, fit, score, figures, importances.

One call, :func:`evaluate_table`, takes the feature matrix and an estimator factory and returns
everything a pipeline persists (comparison rows, per-split metrics, figures, a fitted model);
the pipeline node only wires catalog inputs to it. No Kedro, no MLflow: a notebook can call it.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.base import BaseEstimator
from sklearn.inspection import permutation_importance
from sklearn.model_selection import StratifiedGroupKFold

from gtzan_kedro.evaluation.corpus_size import check_clips_per_genre, inner_cv_folds
from gtzan_kedro.evaluation.plots import (
    confusion_matrix_figure,
    importance_figure,
    training_curves_figure,
)
from gtzan_kedro.evaluation.runner import (
    ProtocolResult,
    SplitPrediction,
    comparison_frame,
    fit_splits,
    run_protocol,
)
from gtzan_kedro.evaluation.splits import Split, make_splits, track_ids
from gtzan_kedro.models.baselines import feature_importances
from gtzan_kedro.models.progress import ProgressTracker, progress_label

logger = logging.getLogger(__name__)

FIT_MODES = ("sklearn", "mlp", "mlp_tuned")
PER_SPLIT_COLUMNS = ["split", "accuracy", "model", "features", "protocol"]


@dataclass
class TableEvaluation:
    """What :func:`evaluate_table` returns: one comparison row per protocol, the per-split
    metrics, the figures by file name, and the fitted model of the first protocol's last split."""

    rows: pd.DataFrame
    per_split: pd.DataFrame
    figures: dict[str, Figure]
    fitted_model: Any


def feature_matrix(table: pd.DataFrame, columns: Sequence[str], source: str
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``table[columns]`` as floats, leaving out (and logging) rows with missing or infinite
    values; returns the kept table rows and their feature matrix."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{source}: missing feature columns {missing[:5]}{'...' if len(missing) > 5 else ''}; "
                         "check the feature set's columns in conf/base/parameters_audio_models.yml")
    X = table[list(columns)].astype(float)
    bad = ~np.isfinite(X.to_numpy()).all(axis=1)
    if bad.any():
        logger.error("%s: %d rows with missing/infinite features are left out: %s", source,
                     int(bad.sum()), table.loc[bad, "filename"].head(5).tolist())
        table, X = table.loc[~bad].reset_index(drop=True), X.loc[~bad].reset_index(drop=True)
    return table, X


def protocol_n_splits(evaluation: dict[str, Any], protocol: str) -> int:
    """How many splits ``protocol`` gets: ``n_leaky`` for leaky_segments when given (it only
    shows the inflation, so fewer splits suffice), else ``n_splits``."""
    if protocol == "leaky_segments" and evaluation.get("n_leaky") is not None:
        return int(evaluation["n_leaky"])
    return int(evaluation.get("n_splits", 10))


def fit_split(estimator: BaseEstimator, X: pd.DataFrame, y: np.ndarray, groups: np.ndarray,
              split: Split, mode: str = "sklearn", tuner: dict[str, Any] | None = None,
              random_state: int = 0) -> SplitPrediction:
    """Fit ``estimator`` on one split and predict its test rows. Networks (``mlp``,
    ``mlp_tuned``) train on ``split.train`` and stop early / tune on ``split.val``;
    scikit-learn models have no early stopping, so validation rows join their training rows."""
    if mode == "mlp_tuned":
        from gtzan_kedro.models.tuning import tune_mlp

        prep = estimator[:-1]
        Xt = prep.fit_transform(X.iloc[split.train], y[split.train])
        Xv = prep.transform(X.iloc[split.val])
        classes = np.unique(y[split.train])
        best, build_best = tune_mlp(np.asarray(Xt), np.searchsorted(classes, y[split.train]),
                                    np.asarray(Xv), np.searchsorted(classes, y[split.val]),
                                    len(classes), seed=random_state, **(tuner or {}))
        estimator.steps[-1][1].build_fn = build_best
        estimator.steps[-1][1].fit(Xt, y[split.train], validation_data=(Xv, y[split.val]))
        return SplitPrediction(estimator.predict_proba(X.iloc[split.test]),
                               estimator.predict_proba(X.iloc[split.train]), estimator,
                               estimator[-1].history_, {"best_hyperparameters": best},
                               estimator.classes_)
    if mode == "mlp":
        from gtzan_kedro.models.mlp import fit_with_validation

        fit_with_validation(estimator, X.iloc[split.train], y[split.train], X.iloc[split.val],
                            y[split.val])
        return SplitPrediction(estimator.predict_proba(X.iloc[split.test]),
                               estimator.predict_proba(X.iloc[split.train]), estimator,
                               estimator[-1].history_, classes=estimator.classes_)
    if mode != "sklearn":
        raise ValueError(f"fit mode must be one of {FIT_MODES}, got {mode!r}")
    rows = split.fit
    info = {}
    if hasattr(estimator, "param_grid"):
        grouped = isinstance(estimator.cv, StratifiedGroupKFold)
        estimator.fit(X.iloc[rows], y[rows], **({"groups": groups[rows]} if grouped else {}))
        info = {"best_params": estimator.best_params_}
    else:
        estimator.fit(X.iloc[rows], y[rows])
    return SplitPrediction(estimator.predict_proba(X.iloc[split.test]),
                           estimator.predict_proba(X.iloc[rows]), estimator, None, info,
                           estimator.classes_)


def refit_on_all_rows(estimator: BaseEstimator, X: pd.DataFrame, y: np.ndarray,
                      filenames: pd.Series) -> BaseEstimator:
    """``estimator`` fitted on every row (the model that is saved for `gtzan predict`); a grid
    search is grouped by track when its CV is, and its best estimator is returned."""
    if hasattr(estimator, "param_grid"):
        grouped = isinstance(estimator.cv, StratifiedGroupKFold)
        estimator.fit(X, y, **({"groups": track_ids(filenames)} if grouped else {}))
        return estimator.best_estimator_
    return estimator.fit(X, y)


def importances(fitted: BaseEstimator, X: pd.DataFrame, y: np.ndarray, split: Split,
                repeats: int, random_state: int) -> dict[str, pd.Series]:
    """Mean decrease in impurity and permutation importance (on ``split``'s test rows)."""
    out = {}
    columns = list(X.columns)
    mdi = feature_importances(fitted, columns)
    if mdi is not None:
        out["impurity"] = pd.Series(mdi, index=columns)
    if repeats:
        perm = permutation_importance(fitted, X.iloc[split.test], y[split.test], n_repeats=repeats,
                                      random_state=random_state, scoring="accuracy")
        out["permutation"] = pd.Series(perm.importances_mean, index=columns)
        out["permutation_std"] = pd.Series(perm.importances_std, index=columns)
    return out


def _protocol_figures(result: ProtocolResult, splits: list[Split], title: str, protocol: str
                      ) -> dict[str, Figure]:
    """The confusion matrix summed over the splits and the first split's training curves."""
    figures = {f"confusion_{protocol}.png": confusion_matrix_figure(
        result.confusion, result.classes, f"{title} {protocol}: "
        f"{'summed over %d splits' % len(splits) if len(splits) > 1 else 'one split'}, "
        f"accuracy {result.row['accuracy_mean']:.3f}")}
    history = result.predictions[0].history
    if history:
        figures[f"training_curves_{protocol}.png"] = training_curves_figure(
            history, f"{title} {protocol}, {splits[0].name}")
    return figures


def _importance_figures(values: dict[str, pd.Series], title: str, split_name: str
                        ) -> dict[str, Figure]:
    figures = {}
    if "impurity" in values:
        figures["importance_impurity.png"] = importance_figure(
            values["impurity"], f"{title}: mean decrease in impurity")
    if "permutation" in values:
        figures["importance_permutation.png"] = importance_figure(
            values["permutation"], f"{title}: permutation importance\n"
            f"(accuracy drop on {split_name} test rows)", errors=values["permutation_std"])
    return figures


@contextmanager
def _known_warnings_hidden() -> Iterator[None]:
    """Known and harmless: SVC(probability=True) is deprecated in 1.9, and small training sides
    have fewer rows than the QuantileTransformer's n_quantiles."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*probability.*deprecated", category=FutureWarning)
        warnings.filterwarnings("ignore", message="n_quantiles .* is greater than", category=UserWarning)
        # a split run as a cluster task fits with n_jobs=1 (its worker is one core already)
        warnings.filterwarnings("ignore", message="Inside a Dask worker", category=UserWarning)
        yield


def _fit_one(estimator_factory, X, y, groups, fit_mode, tuner, random_state, split) -> SplitPrediction:
    """One split's fit from a fresh estimator, seeded from ``random_state`` alone (so a split
    gives the same result on any worker, in any order); the warning filters travel with it."""
    with _known_warnings_hidden():
        return fit_split(estimator_factory(), X, y, groups, split, fit_mode, tuner, random_state)


def evaluate_table(table: pd.DataFrame, X: pd.DataFrame, split_table: pd.DataFrame | None,
                   estimator_factory: Callable[[], BaseEstimator], *, model: str, features: str,
                   protocols: Sequence[str], evaluation: dict[str, Any], fit_mode: str = "sklearn",
                   tuner: dict[str, Any] | None = None, with_importances: bool = False,
                   extra_row: dict[str, Any] | None = None, source: str = "feature table",
                   cv_parameter: str | None = None) -> TableEvaluation:
    """Fit a fresh ``estimator_factory()`` on every split of every protocol and score it.

    ``table`` holds ``filename`` and ``label`` for the rows of ``X``; ``evaluation`` the split
    budget (``n_splits``, ``test_size``, ``val_size``, ``random_state``, ``permutation_repeats``).
    A ``fault_filtered`` protocol without ``split_table`` is skipped with a warning. Before any
    fit, a grid search's folds are checked against every split's training side (a
    :class:`~gtzan_kedro.evaluation.corpus_size.TooFewClipsError` names ``source``, the table,
    and ``cv_parameter``, the setting to lower).
    """
    with _known_warnings_hidden():
        return _evaluate_table(table, X, split_table, estimator_factory, model, features, protocols,
                               evaluation, fit_mode, tuner, with_importances, extra_row or {},
                               source, cv_parameter)


def _evaluate_table(table, X, split_table, estimator_factory, model, features, protocols,
                    evaluation, fit_mode, tuner, with_importances, extra_row, source,
                    cv_parameter) -> TableEvaluation:
    """:func:`evaluate_table`'s work, run inside its warning filters."""
    y = np.asarray(table["label"], dtype=object)
    classes = np.unique(y)
    groups = track_ids(table["filename"])
    random_state = evaluation.get("random_state", 0)
    title = f"{model} [{features}]"
    rows, per_split, figures, fitted = [], [], {}, None
    planned = {}
    for protocol in protocols:
        if protocol == "fault_filtered" and split_table is None:
            logger.warning("%s/%s: fault_filtered skipped: data/01_raw/gtzan/fault_filtered_split.csv "
                           "is absent", model, features)
            continue
        planned[protocol] = make_splits(
            protocol, table["filename"], y, split_table, n_splits=protocol_n_splits(evaluation, protocol),
            test_size=evaluation.get("test_size", 0.2), val_size=evaluation.get("val_size", 0.2),
            random_state=random_state)
    folds = inner_cv_folds(estimator_factory()) if fit_mode == "sklearn" else None
    if folds is not None and planned:
        check_clips_per_genre(planned, y, groups, folds, evaluation,
                              {p: protocol_n_splits(evaluation, p) for p in planned},
                              source=source, model=f"{model} [{features}]",
                              cv_parameter=cv_parameter)
    progress = ProgressTracker(sum(len(s) for s in planned.values()), progress_label(model, features),
                               log=logger)
    # the fitted models used later: the first protocol's last (fitted) and the first holdout's
    # (importances); the others are dropped as they arrive, so memory holds two models, not nine
    first = next(iter(planned), None)
    kept = {(first, planned[first][-1].name)} if first else set()
    if with_importances and planned.get("holdout"):
        kept.add(("holdout", planned["holdout"][0].name))

    def arrived(protocol: str, split: Split, prediction: Any) -> None:
        if isinstance(prediction, SplitPrediction) and (protocol, split.name) not in kept:
            prediction.model = None
        progress.step(f"{protocol} {split.name}")

    # every split of every protocol goes to the cluster at once when there is one
    # (gtzan_kedro.cluster), the MLPs' and the tuner's too, each seeded on its own
    fits = fit_splits(partial(_fit_one, estimator_factory, X, y, groups, fit_mode, tuner, random_state),
                      planned, label=f"{model}-{features}", on_split_done=arrived)
    for protocol, splits in planned.items():
        result = run_protocol(
            None, splits, y, classes, model=model, features=features, protocol=protocol, groups=groups,
            train_rows="fit" if fit_mode == "sklearn" else "train", fitted=fits[protocol],
            progress=False)  # the tracker logged each split with the time left
        result.row.update(extra_row)
        figures.update(_protocol_figures(result, splits, title, protocol))
        if with_importances and protocol == "holdout":
            values = importances(result.predictions[0].model, X, y, splits[0],
                                 evaluation.get("permutation_repeats", 5), random_state)
            figures.update(_importance_figures(values, title, splits[0].name))
        if fitted is None:
            fitted = result.predictions[-1].model
        rows.append(result.row)
        per_split.append(result.per_split.assign(model=model, features=features, protocol=protocol))
        logger.info("%s (%s) %s: accuracy %.3f +- %.3f over %d splits", model, features, protocol,
                    result.row["accuracy_mean"], result.row["accuracy_std"], len(splits))
    per_split_frame = (pd.concat(per_split, ignore_index=True) if per_split
                       else pd.DataFrame(columns=PER_SPLIT_COLUMNS))
    return TableEvaluation(comparison_frame(rows), per_split_frame, figures, fitted)
