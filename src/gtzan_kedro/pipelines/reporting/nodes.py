"""Nodes of reporting: accuracy charts drawn from data/08_reporting/model_comparison.csv."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from gtzan_kedro.evaluation.plots import accuracy_by_model_figure
from gtzan_kedro.evaluation.runner import COMPARISON_COLUMNS

logger = logging.getLogger(__name__)


def comparison_table(*tables: pd.DataFrame) -> pd.DataFrame:
    """The shared comparison table, from the model namespaces' ``comparison_rows`` datasets
    (each loads the whole table, so their union is it; a row appears once)."""
    frames = [t for t in tables if t is not None and not t.empty]
    if not frames:
        return tables[0] if tables else pd.DataFrame(columns=COMPARISON_COLUMNS)
    return (pd.concat(frames, ignore_index=True)
            .drop_duplicates(["model", "features", "protocol"], keep="last", ignore_index=True))


def accuracy_chart(comparison: pd.DataFrame) -> Figure:
    """Grouped bars of test accuracy per model x features, one colour per protocol."""
    if comparison.empty:
        logger.warning("model_comparison.csv has no rows yet: run a model pipeline first "
                       "(e.g. kedro run --pipeline audio_models_30s)")
    return accuracy_by_model_figure(comparison, f"test accuracy by model and protocol "
                                                f"({len(comparison)} rows)")


def leakage_table(comparison: pd.DataFrame) -> pd.DataFrame:
    """Holdout (grouped by track) next to leaky_segments accuracy for models scored on both:
    how much the reports' random segment split inflates accuracy."""
    wide = comparison.pivot_table(index=["model", "features"], columns="protocol",
                                  values="accuracy_mean", aggfunc="max")
    if not {"holdout", "leaky_segments"} <= set(wide.columns):
        return pd.DataFrame(columns=["model", "features", "holdout", "leaky_segments", "inflation"])
    both = wide[["holdout", "leaky_segments"]].dropna().reset_index()
    both["inflation"] = both["leaky_segments"] - both["holdout"]
    return both.sort_values("inflation", ascending=False, ignore_index=True)


def leakage_chart(leakage: pd.DataFrame) -> Figure:
    """Paired bars: track-grouped holdout vs leaky segment split accuracy per model."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 0.45 * max(len(leakage), 2) + 1.5))
    if leakage.empty:
        ax.text(0.5, 0.5, "no model scored on both holdout and leaky_segments yet\n"
                "(run audio_models_3s)", ha="center", va="center")
        ax.axis("off")
        return fig
    labels = leakage["model"].astype(str) + " [" + leakage["features"].astype(str) + "]"
    y = np.arange(len(leakage))
    ax.barh(y - 0.2, leakage["holdout"], 0.4, label="holdout (grouped by track)")
    ax.barh(y + 0.2, leakage["leaky_segments"], 0.4, label="leaky_segments (random rows)")
    ax.set_yticks(y, labels)
    ax.set_xlim(0, 1)
    ax.set_xlabel("test accuracy (mean over splits)")
    ax.set_title("how much a random split of 3-s segments inflates accuracy", fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig
