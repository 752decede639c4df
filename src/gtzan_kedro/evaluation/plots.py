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


#: the comparison table's protocols, in the order a reader compares them (others follow, sorted)
PROTOCOL_ORDER = ("holdout", "fault_filtered", "leaky_segments")
#: what each protocol's column header says under its name
PROTOCOL_NOTES = {
    "holdout": "tracks grouped",
    "fault_filtered": "unseen artists",
    "leaky_segments": "INFLATED: segments of\none track on both sides",
}
INFLATED_PROTOCOLS = ("leaky_segments",)


def _protocols(table: pd.DataFrame) -> list[str]:
    present = set(table["protocol"].astype(str))
    return [p for p in PROTOCOL_ORDER if p in present] + sorted(present - set(PROTOCOL_ORDER))


def _heatmap_rows(table: pd.DataFrame, protocols: list[str]) -> list[tuple[str, list[tuple]]]:
    """``[(group, [(label, model, features), ...]), ...]``: groups in first-seen order (of the
    ``pipeline`` column, else ``features``), models within a group by their first protocol's
    accuracy, best first."""
    frame = table.copy()
    group_col = "pipeline" if "pipeline" in frame.columns else "features"
    frame["_group"] = frame[group_col].fillna("other").astype(str)
    frame["_label"] = frame["model"].astype(str) + " [" + frame["features"].astype(str) + "]"
    score = frame.pivot_table(index=["_group", "_label", "model", "features"], columns="protocol",
                              values="accuracy_mean", aggfunc="max")
    rank_by = [p for p in protocols if p in score.columns]
    groups = []
    for group in dict.fromkeys(frame["_group"]):
        block = score.xs(group, level="_group").sort_values(rank_by, ascending=False, na_position="last")
        groups.append((group, [(label, model, features) for label, model, features in block.index]))
    return groups


def _panels(groups: list[tuple[str, list[tuple]]], capacity: int) -> list[list[tuple]]:
    """Rows laid out in panels of at most ``capacity`` lines; each group opens with a header
    line, repeated as "(cont.)" when the group goes on in the next panel."""
    panels: list[list[tuple]] = [[]]
    for group, rows in groups:
        if panels[-1] and len(panels[-1]) >= capacity - 1:
            panels.append([])
        panels[-1].append(("header", f"{group}  ({len(rows)})"))
        for row in rows:
            if len(panels[-1]) >= capacity:
                panels.append([("header", f"{group}  (cont.)")])
            panels[-1].append(("row", *row))
    return panels


def accuracy_heatmap_figure(table: pd.DataFrame, title: str = "", max_lines_per_panel: int = 60,
                            row_inches: float = 0.245) -> Figure:
    """Mean test accuracy per model x features (rows) and protocol (columns), each cell with
    its std and number of splits; rows grouped by the ``pipeline`` column when the table has
    one (else by ``features``). Past ``max_lines_per_panel`` lines the rows continue in a
    panel to the right, so 108 rows stay under ~1800 px at 110 dpi. Inflated protocols
    (:data:`INFLATED_PROTOCOLS`) are hatched and say so in their header."""
    if table.empty:
        fig, ax = plt.subplots(figsize=(6, 2))
        ax.text(0.5, 0.5, "no rows in the comparison table yet", ha="center", va="center")
        ax.axis("off")
        return fig
    protocols = _protocols(table)
    cells = table.assign(_label=table["model"].astype(str) + " [" + table["features"].astype(str) + "]")
    cells = cells.drop_duplicates(["_label", "protocol"], keep="last").set_index(["_label", "protocol"])
    groups = _heatmap_rows(table, protocols)
    lines = sum(len(rows) + 1 for _, rows in groups)
    n_panels = int(np.ceil(lines / max_lines_per_panel))
    panels = _panels(groups, capacity=int(np.ceil(lines / n_panels)) + 1)
    longest = max(len(row[1]) for panel in panels for row in panel if row[0] == "row")
    label_in, cell_in = 0.3 + 0.062 * longest, 1.1
    height = max(len(p) for p in panels) * row_inches + 1.5
    fig, axes = plt.subplots(1, len(panels), squeeze=False,
                             figsize=(len(panels) * (label_in + cell_in * len(protocols)) + 0.6, height))
    cmap = plt.get_cmap("YlGn").with_extremes(bad="white")
    for ax, panel in zip(axes[0], panels):
        values = np.full((len(panel), len(protocols)), np.nan)
        for i, line in enumerate(panel):
            if line[0] != "row":
                continue
            for j, protocol in enumerate(protocols):
                if (line[1], protocol) in cells.index:
                    values[i, j] = cells.loc[(line[1], protocol), "accuracy_mean"]
        ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0.1, vmax=1.0, aspect="auto",
                  interpolation="nearest", extent=(-0.5, len(protocols) - 0.5, len(panel) - 0.5, -0.5))
        ticks = []
        for i, line in enumerate(panel):
            if line[0] == "header":
                ax.add_patch(plt.Rectangle((-0.5, i - 0.5), len(protocols), 1, color="0.88", zorder=1))
                ax.axhline(i - 0.5, color="0.2", lw=1.2, zorder=3)
                ax.text(-0.45, i, line[1], ha="left", va="center", fontsize=7.5, fontweight="bold", zorder=4)
                continue
            ticks.append((i, line[1]))
            for j, protocol in enumerate(protocols):
                if (line[1], protocol) not in cells.index:
                    ax.text(j, i, "–", ha="center", va="center", fontsize=8, color="0.45", zorder=4)
                    continue
                row = cells.loc[(line[1], protocol)]
                std = row["accuracy_std"]
                # the std of one split is 0 by construction, not a sign of a stable score
                spread = f"±{std:.3f}" if pd.notna(std) and row["n_splits"] > 1 else "±–"
                ax.text(j, i, f"{row['accuracy_mean']:.3f}\n{spread} n={int(row['n_splits'])}",
                        ha="center", va="center", fontsize=7, linespacing=1.0,
                        color="white" if row["accuracy_mean"] > 0.72 else "black", zorder=4)
        for j, protocol in enumerate(protocols):
            if protocol in INFLATED_PROTOCOLS:
                ax.add_patch(plt.Rectangle((j - 0.5, -0.5), 1, len(panel), fill=False, hatch="///",
                                           edgecolor=(0.75, 0.1, 0.1, 0.35), lw=0, zorder=2))
        ax.set_yticks([i for i, _ in ticks], [label for _, label in ticks], fontsize=7.5)
        ax.set_xticks(range(len(protocols)),
                      [f"{p}\n{PROTOCOL_NOTES.get(p, '')}".strip() for p in protocols], fontsize=7.5)
        for tick, protocol in zip(ax.get_xticklabels(), protocols):
            if protocol in INFLATED_PROTOCOLS:
                tick.set_color("firebrick")
        ax.xaxis.tick_top()
        ax.tick_params(axis="both", length=0)
        ax.set_xticks(np.arange(-0.5, len(protocols)), minor=True)
        ax.grid(which="minor", axis="x", color="white", lw=1.5)
        ax.set_ylim(len(panel) - 0.5, -0.5)
    fig.suptitle(title or "test accuracy by model and protocol", fontsize=10)
    fig.text(0.5, 0.0, "cell: mean accuracy over the protocol's splits, ± their std (±– for one split), "
             "n = splits; – not scored; chance = 0.100 (10 genres)", ha="center", va="bottom", fontsize=7.5)
    fig.tight_layout(rect=(0, 0.012, 1, 1))
    return fig
