"""Nodes of the feature-table model template: score one model on one feature set under each
protocol, and refit the best model for `gtzan predict`. The protocol loop is evaluation.tabular."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from gtzan_kedro.audio.features import FEATURE_COLUMNS, MFCC_COLUMNS
from gtzan_kedro.evaluation.tabular import evaluate_table, feature_matrix, refit_on_all_rows
from gtzan_kedro.inference.provenance import training_corpus
from gtzan_kedro.models.baselines import NETWORK_KINDS, TREE_KINDS, build_estimator, with_selector

logger = logging.getLogger(__name__)

# Columns of a feature table that are never features (Kaggle's layout and the embeddings').
NON_FEATURE_COLUMNS = ("filename", "length", "label")


def feature_columns(table: pd.DataFrame, feature_set: dict[str, Any], model: dict[str, Any]
                    ) -> list[str]:
    """The columns a model sees: the feature set's ``columns`` (``kaggle``: Kaggle's 57,
    ``numeric``: every numeric column but filename/length/label, or a list), minus the MFCCs
    when the model sets ``drop_mfcc``."""
    columns = feature_set.get("columns", "kaggle")
    if columns == "kaggle":
        columns = list(FEATURE_COLUMNS)
    elif columns == "numeric":
        columns = [c for c in table.select_dtypes("number").columns if c not in NON_FEATURE_COLUMNS]
    if model.get("drop_mfcc"):
        columns = [c for c in columns if c not in MFCC_COLUMNS]
    return list(columns)


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


def _make_estimator(model: dict[str, Any], evaluation: dict[str, Any], selector):
    """A fresh unfitted estimator for one split (the selector, if any, as its first step)."""
    estimator = build_estimator(model, evaluation.get("n_jobs", 1), evaluation.get("random_state", 0))
    return with_selector(estimator, selector)


def tuner_settings(model: dict[str, Any]) -> dict[str, Any]:
    """The tuned MLP's search budget: the model's own epochs, patience and batch size (so a trial
    trains as the refit and the fixed presets do), then its ``tuner`` block over them."""
    return {"epochs": model.get("epochs", 100), "patience": model.get("patience", 10),
            "batch_size": model.get("batch_size", 32), **(model.get("tuner") or {})}


def evaluate_model(table: pd.DataFrame, split_table: pd.DataFrame | None,
                   selected_features: dict | None, use_selected_features: bool,
                   evaluation: dict[str, Any], feature_set: dict[str, Any], model: dict[str, Any],
                   features: str, model_name: str, section: str = "audio_models"
                   ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Figure], Any]:
    """Fit and score one model on one feature set under each of the set's protocols
    (``section``: the parameters block the model is configured in, named in errors).

    Returns its comparison rows, per-split metrics, figures (confusion matrices per protocol,
    training curves of the first split, importances for trees) and its fitted model.
    """
    source = feature_set.get("table", f"features_{features}")
    if table is None:
        raise ValueError(f"the {features} feature table ({source}) is missing: run the pipeline "
                         f"that writes it (ingest) or place Kaggle's CSV under data/01_raw/gtzan/")
    table, X = feature_matrix(table, feature_columns(table, feature_set, model), source)
    selector = _selector(selected_features, use_selected_features)
    kind = model["kind"]
    result = evaluate_table(
        table, X, split_table, partial(_make_estimator, model, evaluation, selector),
        model=model_name, features=features, protocols=feature_set["protocols"],
        evaluation=evaluation, fit_mode=kind if kind in NETWORK_KINDS else "sklearn",
        tuner=tuner_settings(model) if kind == "mlp_tuned" else None,
        with_importances=kind in TREE_KINDS,
        extra_row={"selected_features": True} if selector is not None else None,
        source=source, cv_parameter=f"{section}.models.{model_name}.cv")
    return result.rows, result.per_split, result.figures, result.fitted_model


def evaluate_unselected(table: pd.DataFrame, split_table: pd.DataFrame | None,
                        evaluation: dict[str, Any], feature_set: dict[str, Any], model: dict[str, Any],
                        features: str, model_name: str, section: str = "audio_models"
                        ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Figure], Any]:
    """:func:`evaluate_model` for feature sets the Kaggle-column selector does not apply to
    (e.g. embeddings): no feature-selection input, so no dependency on feature_selection."""
    return evaluate_model(table, split_table, None, False, evaluation, feature_set, model,
                          features, model_name, section)


def refittable(model: dict[str, Any]) -> bool:
    """Whether the best-model refit may pick ``model``: a scikit-learn kind on every column."""
    return model["kind"] not in NETWORK_KINDS and not model.get("drop_mfcc")


def select_best_model(per_split: list[pd.DataFrame], tables: dict[str, pd.DataFrame],
                      models: dict[str, dict], evaluation: dict[str, Any],
                      manifest: pd.DataFrame | None = None) -> dict[str, Any]:
    """Refit the scikit-learn model with the best mean holdout accuracy (from the per-split
    metrics) on all rows of the finest feature table (3-s when present), for `gtzan predict`.
    ``manifest`` (the sample corpus's, None when absent) lets the bundle say when it was
    trained on synthetic clips."""
    frames = [f for f in per_split if f is not None and not f.empty]
    if not frames:
        raise ValueError("no per-split metrics: no model was scored, nothing to save")
    comparison = (pd.concat(frames, ignore_index=True)
                  .groupby(["model", "features", "protocol"], as_index=False)["accuracy"].mean()
                  .rename(columns={"accuracy": "accuracy_mean"}))
    eligible = comparison["model"].map(lambda m: m in models and refittable(models[m]))
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
    estimator = refit_on_all_rows(estimator, X, y, table["filename"])
    scores = comparison[(comparison["model"] == name) & (comparison["features"] == features)]
    logger.info("best audio model: %s on %s features (holdout accuracy %.3f), refitted on %d rows",
                name, features, best["accuracy_mean"], len(table))
    return {"model": estimator, "classes": [str(c) for c in estimator.classes_],
            "feature_columns": list(FEATURE_COLUMNS), "features": features, "name": name,
            "protocol_scores": {str(r["protocol"]): float(r["accuracy_mean"])
                                for r in scores.to_dict("records")},
            "training_note": training_corpus(table, manifest)}
