"""Exploration of the feature space: PCA projections, K-means against the genres, and plots."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import squareform
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, mutual_info_score, silhouette_score


def pca_projection(x: np.ndarray, n_components: int | None = None,
                   random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """PCA scores of every row and the explained-variance ratio of every component."""
    pca = PCA(n_components=n_components, random_state=random_state).fit(x)
    return pca.transform(x), pca.explained_variance_ratio_


def kmeans_scores(x: np.ndarray, labels, n_clusters: int = 10, n_init: int = 10,
                  random_state: int = 0, silhouette_sample: int | None = 5000) -> dict[str, float]:
    """K-means on ``x`` scored against the genres (mutual information in nats, adjusted Rand
    index) and on its own (mean squared distance to the centroid, silhouette)."""
    labels = np.asarray(labels, dtype=object).astype(str)
    model = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=random_state).fit(x)
    clusters = model.labels_
    sample = None if silhouette_sample is None or len(x) <= silhouette_sample else silhouette_sample
    return {
        "n_rows": int(len(x)),
        "n_dims": int(x.shape[1]),
        "mutual_info": float(mutual_info_score(labels, clusters)),
        "adjusted_rand": float(adjusted_rand_score(labels, clusters)),
        "mean_sq_distance": float(model.inertia_ / len(x)),
        "silhouette": float(silhouette_score(x, clusters, sample_size=sample, random_state=random_state)),
    }


def _genre_colours(genres: list[str]) -> dict[str, tuple]:
    cmap = plt.get_cmap("tab10" if len(genres) <= 10 else "tab20")
    return {g: cmap(i % cmap.N) for i, g in enumerate(genres)}


def pca_scatter_figure(scores: np.ndarray, variance: np.ndarray, labels, title: str) -> Figure:
    """PC1 vs PC2, one colour per genre."""
    labels = np.asarray(labels, dtype=object).astype(str)
    genres = sorted(set(labels))
    colours = _genre_colours(genres)
    fig, ax = plt.subplots(figsize=(7.5, 6))
    for genre in genres:
        rows = labels == genre
        ax.scatter(scores[rows, 0], scores[rows, 1], s=10, alpha=0.6, color=colours[genre], label=genre)
    ax.set_xlabel(f"PC1 ({variance[0]:.1%} of variance)")
    ax.set_ylabel(f"PC2 ({variance[1]:.1%} of variance)")
    ax.set_title(title)
    ax.legend(markerscale=2, fontsize=8, ncol=2, loc="best", frameon=True)
    fig.tight_layout()
    return fig


def explained_variance_figure(variances: dict[str, np.ndarray]) -> Figure:
    """Cumulative explained variance against the number of components, one line per space."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, variance in variances.items():
        cumulative = np.cumsum(variance)
        ax.plot(np.arange(1, len(cumulative) + 1), cumulative, marker="o", markersize=3,
                label=f"{name} ({len(cumulative)} dims)")
        needed = int(np.searchsorted(cumulative, 0.9) + 1)
        ax.axvline(needed, color=ax.lines[-1].get_color(), linestyle=":", linewidth=1)
    ax.axhline(0.9, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("number of principal components (dotted: 90 % of variance)")
    ax.set_ylabel("cumulative explained variance")
    ax.set_ylim(0, 1.02)
    ax.set_title("PCA explained variance (training rows, robust-scaled)")
    ax.legend()
    fig.tight_layout()
    return fig


def correlation_order(corr: pd.DataFrame) -> list[str]:
    """Feature order from average-linkage clustering on 1 - |correlation|, so blocks show."""
    distance = 1.0 - np.abs(corr.to_numpy())
    distance = (distance + distance.T) / 2
    np.fill_diagonal(distance, 0.0)
    order = leaves_list(linkage(squareform(np.clip(distance, 0, None), checks=False), "average"))
    return list(corr.index[order])


def correlation_heatmap_figure(corr: pd.DataFrame, title: str) -> Figure:
    """Signed correlation heatmap in clustered feature order."""
    order = correlation_order(corr)
    data = corr.loc[order, order].to_numpy()
    size = max(6.0, 0.17 * len(order) + 2)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    image = ax.imshow(data, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_xticks(range(len(order)), order, rotation=90, fontsize=6)
    ax.set_yticks(range(len(order)), order, fontsize=6)
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02, label="Spearman rho")
    fig.tight_layout()
    return fig


def top_importance_figure(scores: pd.DataFrame, columns: list[str], top_n: int = 10) -> Figure:
    """One horizontal bar chart per score column: its ``top_n`` features."""
    fig, axes = plt.subplots(1, len(columns), figsize=(4.2 * len(columns), 0.35 * top_n + 1.6))
    axes = np.atleast_1d(axes)
    for ax, column in zip(axes, columns):
        top = scores[column].astype(float).nlargest(top_n)[::-1]
        ax.barh(top.index, top.to_numpy(), color="tab:blue")
        ax.set_title(f"top {top_n}: {column}")
        ax.tick_params(axis="y", labelsize=8)
        ax.set_xlabel(column)
    fig.tight_layout()
    return fig
