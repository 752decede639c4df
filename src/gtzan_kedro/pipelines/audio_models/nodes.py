"""Nodes of audio_models: fit and score one model on one feature table under each protocol,
and refit the best model for `gtzan predict`."""

from __future__ import annotations

import logging
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.base import clone
from sklearn.inspection import permutation_importance
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from gtzan_kedro.audio.features import FEATURE_COLUMNS, MFCC_COLUMNS
from gtzan_kedro.evaluation.plots import (
    confusion_matrix_figure,
    importance_figure,
    training_curves_figure,
)
from gtzan_kedro.evaluation.runner import (
    ProtocolResult,
    SplitPrediction,
    comparison_frame,
    run_protocol,
)
from gtzan_kedro.evaluation.splits import Split, make_splits, track_ids
from gtzan_kedro.models.baselines import (
    feature_importances,
    make_estimator,
    quantile_normal,
    soft_vote,
    with_grid_search,
)
from gtzan_kedro.models.mlp import KerasMLPClassifier, fit_with_validation

logger = logging.getLogger(__name__)

TREE_MODELS = ("random_forest", "extra_trees")


def _feature_columns(table: pd.DataFrame, model: dict[str, Any], source: str) -> list[str]:
    missing = [c for c in FEATURE_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"{source}: missing feature columns {missing[:5]}{'...' if len(missing) > 5 else ''}; "
                         "expected Kaggle's columns (filename, length, 57 features, label)")
    if model.get("drop_mfcc"):
        return [c for c in FEATURE_COLUMNS if c not in MFCC_COLUMNS]
    return list(FEATURE_COLUMNS)


def _selector(selected_features: dict | None, use_selected: bool):
    """The feature-selection step refitted inside each split, or None when switched off."""
    if not use_selected:
        return None
    if not selected_features or "selector" not in selected_features:
        raise ValueError("audio_models.use_selected_features is true but "
                         "data/05_model_input/selected_features.json is absent or has no 'selector'; "
                         "run `kedro run --pipeline feature_selection` first or set it to false")
    from gtzan_kedro.selection.transformers import FeatureSelector

    return FeatureSelector(**selected_features["selector"])


def build_estimator(model: dict[str, Any], n_jobs: int = 1, random_state: int = 0):
    """The unfitted estimator described by a model's parameters (a Pipeline or a grid search)."""
    kind = model["kind"]
    if kind in ("mlp", "mlp_tuned"):
        mlp = KerasMLPClassifier(preset=model.get("preset"), build_params=model.get("build_params"),
                                 epochs=model.get("epochs", 100), batch_size=model.get("batch_size", 32),
                                 patience=model.get("patience", 10), seed=random_state)
        return Pipeline([("scale", StandardScaler()), ("model", mlp)])
    if kind == "soft_vote":
        members = {name: make_estimator(name, params, random_state, n_jobs)
                   for name, params in model["members"].items()}
        return Pipeline([("model", soft_vote(members, model.get("weights")))])
    estimator = make_estimator(kind, model.get("params"), random_state, n_jobs)
    return with_grid_search(estimator, model.get("grid"), cv=model.get("cv", 5),
                            grouped=bool(model.get("grouped")), random_state=random_state,
                            n_jobs=n_jobs)


def _with_selector(estimator, selector):
    if selector is None:
        return estimator
    if isinstance(estimator, Pipeline):
        return Pipeline([("select", clone(selector)), *estimator.steps])
    # a grid search: select inside each CV fold too
    estimator.estimator = Pipeline([("select", clone(selector)), *estimator.estimator.steps])
    return estimator


def _fit_split(model: dict, X: pd.DataFrame, y: np.ndarray, groups: np.ndarray, split: Split,
               selector, evaluation: dict) -> SplitPrediction:
    """Fit on the split's training rows (validation rows: early stopping/tuning only)."""
    kind = model["kind"]
    random_state = evaluation.get("random_state", 0)
    n_jobs = evaluation.get("n_jobs", 1)
    if kind == "mlp_tuned":
        from gtzan_kedro.models.tuning import tune_mlp

        estimator = _with_selector(build_estimator(model, n_jobs, random_state), selector)
        prep = estimator[:-1]
        Xt = prep.fit_transform(X.iloc[split.train], y[split.train])
        Xv = prep.transform(X.iloc[split.val])
        classes = np.unique(y[split.train])
        best, build_best = tune_mlp(np.asarray(Xt), np.searchsorted(classes, y[split.train]),
                                    np.asarray(Xv), np.searchsorted(classes, y[split.val]),
                                    len(classes), seed=random_state, **model.get("tuner", {}))
        estimator.steps[-1][1].build_fn = build_best
        estimator.steps[-1][1].fit(Xt, y[split.train], validation_data=(Xv, y[split.val]))
        return SplitPrediction(estimator.predict_proba(X.iloc[split.test]),
                               estimator.predict_proba(X.iloc[split.train]), estimator,
                               estimator[-1].history_, {"best_hyperparameters": best},
                               estimator.classes_)
    estimator = _with_selector(build_estimator(model, n_jobs, random_state), selector)
    if kind == "mlp":
        fit_with_validation(estimator, X.iloc[split.train], y[split.train], X.iloc[split.val],
                            y[split.val])
        return SplitPrediction(estimator.predict_proba(X.iloc[split.test]),
                               estimator.predict_proba(X.iloc[split.train]), estimator,
                               estimator[-1].history_, classes=estimator.classes_)
    # scikit-learn models have no early stopping: validation rows join the training rows
    rows = split.fit
    if hasattr(estimator, "param_grid") and isinstance(estimator.cv, StratifiedGroupKFold):
        estimator.fit(X.iloc[rows], y[rows], groups=groups[rows])
        info = {"best_params": estimator.best_params_}
    elif hasattr(estimator, "param_grid"):
        estimator.fit(X.iloc[rows], y[rows])
        info = {"best_params": estimator.best_params_}
    else:
        estimator.fit(X.iloc[rows], y[rows])
        info = {}
    return SplitPrediction(estimator.predict_proba(X.iloc[split.test]),
                           estimator.predict_proba(X.iloc[rows]), estimator, None, info,
                           estimator.classes_)


def _importances(model_name: str, result: ProtocolResult, X: pd.DataFrame, y: np.ndarray,
                 split: Split, repeats: int, random_state: int) -> dict[str, pd.Series]:
    """Mean decrease in impurity and permutation importance (on the first split's test rows)."""
    fitted = result.predictions[0].model
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


def _log_mlflow(name: str, model: dict, result: ProtocolResult, figures: dict[str, Figure],
                log_model: bool) -> None:
    """One nested MLflow run per model x features x protocol (only inside a tracked run)."""
    import mlflow

    if mlflow.active_run() is None:
        return
    row = result.row
    with mlflow.start_run(run_name=name, nested=True):
        mlflow.set_tags({"model": row["model"], "features": row["features"],
                         "protocol": row["protocol"]})
        mlflow.log_params({k: str(v)[:250] for k, v in model.items()})
        for step, record in enumerate(result.per_split.to_dict("records")):
            mlflow.log_metrics({f"split_{k}": float(v) for k, v in record.items()
                                if isinstance(v, int | float | np.number) and np.isfinite(v)},
                               step=step)
        mlflow.log_metrics({k: float(v) for k, v in row.items()
                            if isinstance(v, float | np.floating) and np.isfinite(v)})
        with tempfile.TemporaryDirectory() as tmp:
            for key, fig in figures.items():
                path = Path(tmp) / key
                fig.savefig(path, dpi=100, bbox_inches="tight")
                mlflow.log_artifact(str(path))
        if log_model:
            fitted = result.predictions[-1].model
            try:
                if isinstance(fitted, Pipeline) and isinstance(fitted[-1], KerasMLPClassifier):
                    import mlflow.keras

                    mlflow.keras.log_model(fitted[-1].model_, name="model")
                else:
                    import mlflow.sklearn

                    # MLflow 3's default skops format refuses fitted trees ("untrusted types")
                    mlflow.sklearn.log_model(fitted, name="model",
                                             serialization_format="cloudpickle")
            except Exception as exc:  # a tracking failure must not discard the scores
                logger.warning("%s: the fitted model was not logged to MLflow: %s", name, exc)


def evaluate_model(table: pd.DataFrame, split_table: pd.DataFrame | None,
                   selected_features: dict | None, use_selected_features: bool,
                   evaluation: dict[str, Any], model: dict[str, Any], features: str,
                   model_name: str) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Figure]]:
    """Fit and score one model on one feature table under each configured protocol.

    Returns its comparison rows, per-split metrics and figures (confusion matrices per protocol,
    training curves of the first split, top-10 importances for trees).
    """
    with warnings.catch_warnings():
        # known and harmless: SVC(probability=True) is deprecated in 1.9, and small training
        # sides have fewer rows than the QuantileTransformer's n_quantiles
        warnings.filterwarnings("ignore", message=".*probability.*deprecated", category=FutureWarning)
        warnings.filterwarnings("ignore", message="n_quantiles .* is greater than", category=UserWarning)
        return _evaluate_model(table, split_table, selected_features, use_selected_features,
                               evaluation, model, features, model_name)


def _evaluate_model(table: pd.DataFrame, split_table: pd.DataFrame | None,
                   selected_features: dict | None, use_selected_features: bool,
                   evaluation: dict[str, Any], model: dict[str, Any], features: str,
                   model_name: str) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Figure]]:
    """``evaluate_model``'s work, run inside its warning filters."""
    if table is None:
        raise ValueError(f"the {features} feature table is missing: run the ingest pipeline or "
                         f"place Kaggle's features_{features.replace('s', '_sec')}.csv under data/01_raw/gtzan/")
    columns = _feature_columns(table, model, f"features_{features}")
    X = table[columns].astype(float)
    bad = ~np.isfinite(X.to_numpy()).all(axis=1)
    if bad.any():
        logger.error("features_%s: %d rows with missing/infinite features are left out: %s",
                     features, int(bad.sum()), table.loc[bad, "filename"].head(5).tolist())
        table, X = table.loc[~bad].reset_index(drop=True), X.loc[~bad].reset_index(drop=True)
    y = np.asarray(table["label"], dtype=object)
    classes = np.unique(y)
    groups = track_ids(table["filename"])
    selector = _selector(selected_features, use_selected_features)
    rows, per_split, figures = [], [], {}
    for protocol in evaluation["protocols"][features]:
        if protocol == "fault_filtered" and split_table is None:
            logger.warning("%s/%s: fault_filtered skipped: data/01_raw/gtzan/fault_filtered_split.csv "
                           "is absent", model_name, features)
            continue
        splits = make_splits(protocol, table["filename"], y, split_table,
                             n_splits=evaluation.get("n_splits", 10),
                             test_size=evaluation.get("test_size", 0.2),
                             val_size=evaluation.get("val_size", 0.2),
                             random_state=evaluation.get("random_state", 0))
        result = run_protocol(lambda s: _fit_split(model, X, y, groups, s, selector, evaluation),
                              splits, y, classes, model=model_name, features=features,
                              protocol=protocol, groups=groups, train_rows="fit"
                              if model["kind"] not in ("mlp", "mlp_tuned") else "train")
        if selector is not None:
            result.row["selected_features"] = True
        protocol_figures = {f"confusion_{protocol}.png": confusion_matrix_figure(
            result.confusion, classes, f"{model_name} [{features}] {protocol}: summed over "
            f"{len(splits)} splits, accuracy {result.row['accuracy_mean']:.3f}")}
        history = result.predictions[0].history
        if history:
            protocol_figures[f"training_curves_{protocol}.png"] = training_curves_figure(
                history, f"{model_name} [{features}] {protocol}, {splits[0].name}")
        if model["kind"] in TREE_MODELS and protocol == "holdout":
            importances = _importances(model_name, result, X, y, splits[0],
                                       evaluation.get("permutation_repeats", 5),
                                       evaluation.get("random_state", 0))
            if "impurity" in importances:
                protocol_figures["importance_impurity.png"] = importance_figure(
                    importances["impurity"], f"{model_name} [{features}]: mean decrease in impurity")
            if "permutation" in importances:
                protocol_figures["importance_permutation.png"] = importance_figure(
                    importances["permutation"], f"{model_name} [{features}]: permutation importance\n"
                    f"(accuracy drop on {splits[0].name} test rows)", errors=importances["permutation_std"])
        _log_mlflow(f"{model_name}/{features}/{protocol}", model, result, protocol_figures,
                    evaluation.get("log_models", True))
        figures.update(protocol_figures)
        rows.append(result.row)
        per_split.append(result.per_split.assign(model=model_name, features=features,
                                                 protocol=protocol))
        logger.info("%s [%s] %s: accuracy %.3f +- %.3f over %d splits", model_name, features,
                    protocol, result.row["accuracy_mean"], result.row["accuracy_std"], len(splits))
    per_split_frame = (pd.concat(per_split, ignore_index=True) if per_split else
                       pd.DataFrame(columns=["split", "accuracy", "model", "features", "protocol"]))
    return comparison_frame(rows), per_split_frame, figures


def select_best_model(per_split: list[pd.DataFrame], tables: dict[str, pd.DataFrame],
                      models: dict[str, dict], evaluation: dict[str, Any]) -> dict[str, Any]:
    """Refit the scikit-learn model with the best mean holdout accuracy (from the per-split
    metrics) on all rows of the finest feature table (3-s when present), for `gtzan predict`."""
    frames = [f for f in per_split if f is not None and not f.empty]
    if not frames:
        raise ValueError("no per-split metrics: no model was scored, nothing to save")
    comparison = (pd.concat(frames, ignore_index=True)
                  .groupby(["model", "features", "protocol"], as_index=False)["accuracy"].mean()
                  .rename(columns={"accuracy": "accuracy_mean"}))
    eligible = comparison["model"].map(lambda m: m in models
                                       and models[m]["kind"] not in ("mlp", "mlp_tuned")
                                       and not models[m].get("drop_mfcc"))
    candidates = comparison[(comparison["protocol"] == "holdout") & eligible
                            & comparison["features"].isin(list(tables))]
    features = "3s" if "3s" in set(candidates["features"]) else "30s"
    candidates = candidates[candidates["features"] == features]
    if candidates.empty:
        raise ValueError("no scikit-learn model was scored on the holdout protocol; nothing to save")
    best = candidates.sort_values("accuracy_mean", ascending=False).iloc[0]
    name = str(best["model"])
    table = tables[features]
    estimator = build_estimator(models[name], evaluation.get("n_jobs", 1),
                                evaluation.get("random_state", 0))
    X = table[FEATURE_COLUMNS].astype(float)
    y = np.asarray(table["label"], dtype=object)
    if hasattr(estimator, "param_grid"):
        grouped = isinstance(estimator.cv, StratifiedGroupKFold)
        estimator.fit(X, y, **({"groups": track_ids(table["filename"])} if grouped else {}))
        estimator = estimator.best_estimator_
    else:
        estimator.fit(X, y)
    scores = comparison[(comparison["model"] == name) & (comparison["features"] == features)]
    logger.info("best audio model: %s on %s features (holdout accuracy %.3f), refitted on %d rows",
                name, features, best["accuracy_mean"], len(table))
    return {"model": estimator, "classes": [str(c) for c in estimator.classes_],
            "feature_columns": list(FEATURE_COLUMNS), "features": features, "name": name,
            "protocol_scores": {str(r["protocol"]): float(r["accuracy_mean"])
                                for r in scores.to_dict("records")}}
