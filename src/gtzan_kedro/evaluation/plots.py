"""Figures for model evaluation; each returns a matplotlib Figure, :func:`save_figure` writes it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from gtzan_kedro.fileio import atomic_path


def save_figure(fig: Figure, path: str | Path, dpi: int = 110) -> Path:
    """Write ``fig`` as PNG atomically and close it."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def confusion_matrix_figure(confusion: np.ndarray, classes: Sequence, title: str = "",
                            normalize: bool = True) -> Figure:
    """Heat map of a confusion matrix (rows true, columns predicted), row-normalised by default."""
    confusion = np.asarray(confusion, dtype=float)
    shown = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1) if normalize else confusion
    classes = [str(c) for c in classes]
    fig, ax = plt.subplots(figsize=(1.0 + 0.6 * len(classes), 0.8 + 0.55 * len(classes)))
    image = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    for i in range(shown.shape[0]):
        for j in range(shown.shape[1]):
            value = f"{shown[i, j]:.2f}" if normalize else f"{int(shown[i, j])}"
            ax.text(j, i, value, ha="center", va="center", fontsize=7,
                    color="white" if shown[i, j] > 0.6 * (shown.max() or 1) else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or ("confusion matrix (share of each true class)" if normalize
                           else "confusion matrix (counts)"), fontsize=10)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return fig


def training_curves_figure(history: dict[str, Sequence[float]], title: str = "") -> Figure:
    """Loss and accuracy per epoch (Keras ``History.history``), train vs validation."""
    metrics = [m for m in ("loss", "accuracy") if m in history]
    fig, axes = plt.subplots(1, max(len(metrics), 1), figsize=(5 * max(len(metrics), 1), 3.5),
                             squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        ax.plot(history[metric], label="train")
        if f"val_{metric}" in history:
            ax.plot(history[f"val_{metric}"], label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(title or "training curves", fontsize=10)
    fig.tight_layout()
    return fig


def importance_figure(importances: pd.Series, title: str = "", top: int = 10,
                      errors: pd.Series | None = None) -> Figure:
    """Horizontal bars of the ``top`` largest importances (index: feature names)."""
    ranked = importances.sort_values(ascending=False).head(top)[::-1]
    fig, ax = plt.subplots(figsize=(6.5, 0.35 * len(ranked) + 1.2))
    xerr = errors.reindex(ranked.index).to_numpy() if errors is not None else None
    ax.barh(ranked.index.astype(str), ranked.to_numpy(), xerr=xerr, color="tab:blue", alpha=0.85)
    ax.set_xlabel("importance")
    ax.set_title(title or f"top {top} features", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def accuracy_by_model_figure(table: pd.DataFrame, title: str = "") -> Figure:
    """Grouped bars of mean test accuracy (+- std) per model, one colour per protocol.

    ``table`` has the comparison-table columns; features are folded into the bar label.
    """
    if table.empty:
        fig, ax = plt.subplots(figsize=(6, 2))
        ax.text(0.5, 0.5, "no rows in the comparison table yet", ha="center", va="center")
        ax.axis("off")
        return fig
    frame = table.copy()
    frame["label"] = frame["model"].astype(str) + " [" + frame["features"].astype(str) + "]"
    means = frame.pivot_table(index="label", columns="protocol", values="accuracy_mean", aggfunc="max")
    stds = frame.pivot_table(index="label", columns="protocol", values="accuracy_std", aggfunc="max")
    order_col = "holdout" if "holdout" in means.columns else means.columns[0]
    means = means.sort_values(order_col, ascending=True, na_position="first")
    stds = stds.reindex(index=means.index, columns=means.columns)
    protocols = list(means.columns)
    height = 0.8 / len(protocols)
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(means) * max(1, len(protocols) / 1.5) + 1.5))
    y = np.arange(len(means))
    for k, protocol in enumerate(protocols):
        ax.barh(y + k * height - 0.4 + height / 2, means[protocol].fillna(0).to_numpy(), height,
                xerr=stds[protocol].fillna(0).to_numpy(), label=protocol, alpha=0.9,
                error_kw={"elinewidth": 0.8, "capsize": 2})
    ax.set_yticks(y, means.index)
    ax.set_xlim(0, 1)
    ax.set_xlabel("test accuracy (mean over splits, bars: std)")
    ax.axvline(0.1, color="grey", lw=0.8, ls=":", label="chance (10 genres)")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title or "test accuracy by model and protocol", fontsize=10)
    fig.tight_layout()
    return fig
