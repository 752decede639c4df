"""Nodes of feature_selection: every score is computed on the training partition only.

Each table (30-s, 3-s) runs the same nodes in its own namespace. A table that is absent or not
listed in ``feature_selection.tables`` arrives as ``None``; every node then returns ``Skipped()``
and the optional catalog entries write nothing, so the run goes on with the other table.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.preprocessing import RobustScaler

from gtzan_kedro.audio.features import FEATURE_COLUMNS, MFCC_COLUMNS
from gtzan_kedro.datasets.json import Skipped, is_absent
from gtzan_kedro.selection import exploration
from gtzan_kedro.selection.boruta_selection import boruta_decisions
from gtzan_kedro.selection.importance import forest_importances
from gtzan_kedro.selection.partition import TRAIN, VALID, partition_rows
from gtzan_kedro.selection.redundancy import redundancy_matrix
from gtzan_kedro.selection.relevance import association_to_genres, correlation
from gtzan_kedro.selection.transformers import FeatureSelector, select_features

logger = logging.getLogger(__name__)

SCORE_COLUMNS = ["feature", "pearson", "pearson_genre", "spearman", "spearman_genre", "mic",
                 "mic_genre", "boruta_decision", "boruta_rank", "mdi", "permutation",
                 "permutation_std"]


def _skip_when_absent(n_outputs: int):
    """Return ``Skipped()`` for every output when the first input (the table) is absent."""
    def decorate(func):
        @functools.wraps(func)
        def wrapper(first, *args, **kwargs):
            if is_absent(first):
                return Skipped() if n_outputs == 1 else tuple(Skipped() for _ in range(n_outputs))
            return func(first, *args, **kwargs)
        return wrapper
    return decorate


def _features(training: pd.DataFrame) -> pd.DataFrame:
    return training[[c for c in training.columns if c not in ("filename", "label", "role", "track")]]


def _timed(label: str, start: float, rows: int) -> None:
    logger.info("%s on %d training rows took %.1f s", label, rows, time.perf_counter() - start)


def prepare_training_rows(table: pd.DataFrame | None, split: pd.DataFrame | None,
                          params: dict[str, Any], table_name: str
                          ) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Role of every row (train / valid / test / unused) and the train+valid rows with the 57
    features; test rows stop here, so no later node can see them."""
    if table_name not in params.get("tables", []):
        logger.info("feature_selection: %s is not listed in feature_selection.tables: skipped", table_name)
        return Skipped(), Skipped()
    if table is None:
        logger.info("feature_selection: %s is absent: its analysis is skipped", table_name)
        return Skipped(), Skipped()
    missing = [c for c in FEATURE_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"{table_name} lacks feature columns {missing[:5]}"
                         f"{' ...' if len(missing) > 5 else ''}: expected Kaggle's columns")
    bad = table[FEATURE_COLUMNS].isna().any(axis=1)
    if bad.any():
        logger.warning("%s: %d rows with missing features are left out: %s", table_name, int(bad.sum()),
                       list(table.loc[bad, "filename"][:5]))
        table = table.loc[~bad]
    part = params["partition"]
    partition = partition_rows(table, split if params.get("use_fault_filtered_split", True) else None,
                               part["train_fraction"], part["valid_fraction"], part["seed"], table_name)
    seen = partition["role"].isin([TRAIN, VALID]).to_numpy()
    training = table.loc[seen, FEATURE_COLUMNS].astype(np.float64).reset_index(drop=True)
    training.insert(0, "filename", partition.loc[seen, "filename"].to_numpy())
    training["label"] = partition.loc[seen, "label"].to_numpy()
    training["role"] = partition.loc[seen, "role"].to_numpy()
    training.attrs["fitted_on"] = partition.attrs["method"]
    return partition, training


@_skip_when_absent(1)
def robust_scale(training: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """The training rows robust-scaled (median/IQR fitted on these rows only), for PCA and K-means."""
    features = _features(training)
    scaled = RobustScaler().fit_transform(features.to_numpy())
    clip = params["exploration"].get("clip")
    if clip:
        # The *_var features are heavy-tailed: unclipped, a handful of tracks take PC1 and a
        # K-means cluster each, and the pictures show outliers instead of genres.
        scaled = np.clip(scaled, -clip, clip)
    out = pd.DataFrame(scaled, columns=features.columns)
    out["label"] = training["label"].to_numpy()
    return out


@_skip_when_absent(1)
def score_relevance(training: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Pearson, Spearman and MIC of each feature with its best one-vs-rest genre indicator."""
    features, labels = _features(training), training["label"].to_numpy()
    selector = params["selector"]
    mic_params = {"seed": selector["random_state"], **selector.get("mic_params", {})}
    parts = []
    for measure in ("pearson", "spearman", "mic"):
        start = time.perf_counter()
        parts.append(association_to_genres(features, labels, measure, mic_params, params["n_jobs"]))
        _timed(f"relevance {measure}", start, len(features))
    return pd.concat(parts, axis=1)


@_skip_when_absent(1)
def score_redundancy(training: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Pairwise |association| between features by each redundancy measure (long form, a < b)."""
    features = _features(training)
    selector = params["selector"]
    mic_params = {"seed": selector["random_state"], **selector.get("mic_params", {})}
    names = list(features.columns)
    upper = np.triu_indices(len(names), k=1)
    out = pd.DataFrame({"feature_a": np.asarray(names, dtype=object)[upper[0]],
                        "feature_b": np.asarray(names, dtype=object)[upper[1]]})
    for measure in params["redundancy_measures"]:
        start = time.perf_counter()
        out[measure] = redundancy_matrix(features, measure, mic_params, params["n_jobs"]).to_numpy()[upper]
        _timed(f"redundancy {measure} ({len(out)} pairs)", start, len(features))
    return out


@_skip_when_absent(1)
def run_boruta(training: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Boruta's confirmed / tentative / rejected verdict and rank per feature."""
    selector = params["selector"]
    boruta = {"random_state": selector["random_state"], "n_jobs": params["n_jobs"],
              **selector.get("boruta_params", {})}
    start = time.perf_counter()
    out = boruta_decisions(_features(training), training["label"].to_numpy(), **boruta)
    _timed("Boruta", start, len(training))
    logger.info("Boruta: %s", out["boruta_decision"].value_counts().to_dict())
    return out


@_skip_when_absent(1)
def score_forest_importances(training: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """MDI of a forest fitted on the train rows and permutation importance on the valid rows."""
    features = _features(training)
    fit = training["role"].to_numpy() == TRAIN
    forest = {"random_state": params["selector"]["random_state"], "n_jobs": params["n_jobs"],
              **params["forest"]}
    start = time.perf_counter()
    out = forest_importances(features[fit], training["label"][fit], features[~fit],
                             training["label"][~fit], **forest)
    _timed("forest importances", start, len(training))
    return out


@_skip_when_absent(1)
def assemble_feature_scores(relevance: pd.DataFrame, boruta: pd.DataFrame,
                            importances: pd.DataFrame) -> pd.DataFrame:
    """One row per feature with every score (the feature_scores.csv report), by MIC descending."""
    scores = relevance.join(boruta).join(importances).reset_index()
    return scores[SCORE_COLUMNS].sort_values("mic", ascending=False, kind="stable").reset_index(drop=True)


@_skip_when_absent(1)
def choose_features(training: pd.DataFrame, feature_scores: pd.DataFrame, redundancy: pd.DataFrame,
                    params: dict[str, Any], table_name: str) -> dict[str, Any]:
    """The selected features and the FeatureSelector arguments that reproduce them."""
    selector = dict(params["selector"])
    scores = feature_scores.set_index("feature")
    square = redundancy.pivot(index="feature_a", columns="feature_b", values=selector["redundancy"])
    names = list(scores.index)
    square = square.reindex(index=names, columns=names)
    square = square.fillna(square.T).fillna(1.0)
    chosen, dropped = select_features(scores[selector["relevance"]], square,
                                      selector["redundancy_threshold"], selector.get("max_features"),
                                      selector.get("min_relevance", 0.0), scores["boruta_decision"],
                                      selector.get("boruta"))
    logger.info("%s: %d of %d features selected (%d dropped as redundant)", table_name, len(chosen),
                len(names), len(dropped))
    boruta = f" among Boruta-{selector['boruta']} features" if selector.get("boruta") else ""
    cap = f", at most {selector['max_features']}" if selector.get("max_features") else ""
    return {
        "features": chosen,
        "selector": selector,
        "fitted_on": f"{table_name}: {len(training)} rows ({training.attrs.get('fitted_on', 'training partition')}), "
                     "test rows never seen",
        "method": f"rank by {selector['relevance']} relevance{boruta}, drop the less relevant of any "
                  f"pair with |{selector['redundancy']}| >= {selector['redundancy_threshold']}{cap}",
        "dropped_as_redundant": dropped.to_dict(orient="records"),
    }


@_skip_when_absent(5)
def explore_feature_space(scaled: pd.DataFrame, params: dict[str, Any]
                          ) -> tuple[pd.DataFrame, Figure, Figure, Figure, Figure]:
    """PCA of the full and the MFCC space (scatter, explained variance) and K-means (k = 10)
    in both, scored against the genres."""
    labels = scaled["label"].to_numpy()
    explore = params["exploration"]
    spaces = {"full": FEATURE_COLUMNS, "mfcc": MFCC_COLUMNS}
    rows, figures, variances = [], {}, {}
    for space, columns in spaces.items():
        x = scaled[columns].to_numpy()
        projected, variance = exploration.pca_projection(x, random_state=explore["random_state"])
        variances[space] = variance
        figures[space] = exploration.pca_scatter_figure(
            projected, variance, labels, f"PCA of the {space} feature space ({len(columns)} dims, training rows)")
        for name, data in ((f"{space}", x), (f"{space}_pca2", projected[:, :2])):
            start = time.perf_counter()
            score = exploration.kmeans_scores(data, labels, explore["n_clusters"], explore["n_init"],
                                              explore["random_state"], explore["silhouette_sample"])
            rows.append({"space": name, "n_clusters": explore["n_clusters"], **score})
            _timed(f"K-means {name}", start, len(data))
    variance_fig = exploration.explained_variance_figure(variances)
    kmeans = pd.DataFrame(rows)
    kmeans_fig = _kmeans_figure(kmeans)
    return kmeans, figures["full"], figures["mfcc"], variance_fig, kmeans_fig


def _kmeans_figure(kmeans: pd.DataFrame) -> Figure:
    import matplotlib.pyplot as plt

    metrics = ["mutual_info", "adjusted_rand", "silhouette", "mean_sq_distance"]
    fig, axes = plt.subplots(1, len(metrics), figsize=(14, 3.6))
    for ax, metric in zip(axes, metrics):
        ax.bar(kmeans["space"], kmeans[metric], color="tab:green")
        ax.set_title(metric)
        ax.tick_params(axis="x", rotation=30, labelsize=8)
    fig.suptitle(f"K-means (k = {int(kmeans['n_clusters'].iloc[0])}) against the genres, by feature space")
    fig.tight_layout()
    return fig


@_skip_when_absent(1)
def plot_correlation_heatmap(training: pd.DataFrame, table_name: str) -> Figure:
    """Spearman correlation of every feature pair, clustered so redundant blocks line up."""
    features = _features(training)
    rho = pd.DataFrame(correlation(features.to_numpy(), method="spearman"), index=features.columns,
                       columns=features.columns)
    return exploration.correlation_heatmap_figure(
        rho, f"{table_name}: Spearman correlation, clustered ({len(training)} training rows)")


@_skip_when_absent(1)
def plot_top_importances(feature_scores: pd.DataFrame, params: dict[str, Any]) -> Figure:
    """Top-10 bar charts of relevance and importance scores."""
    return exploration.top_importance_figure(feature_scores.set_index("feature"),
                                             ["mic", "spearman", "mdi", "permutation"],
                                             params["exploration"]["top_n"])


def check_selector_reproduces(training: pd.DataFrame, selected: dict[str, Any]) -> list[str]:
    """Refit FeatureSelector from the JSON on the same rows (used by tests and notebooks)."""
    selector = FeatureSelector(**selected["selector"])
    selector.fit(_features(training), training["label"].to_numpy())
    return list(selector.get_feature_names_out())
