"""Nodes of reporting: the charts of data/08_reporting/model_comparison.csv and report.html,
the one page a user reads after a run."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from gtzan_kedro.evaluation import report_page as rp
from gtzan_kedro.evaluation.plots import INFLATED_PROTOCOLS, PROTOCOL_ORDER, accuracy_heatmap_figure
from gtzan_kedro.evaluation.runner import COMPARISON_COLUMNS

logger = logging.getLogger(__name__)

#: which pipeline scored a comparison row, ``{"features": {feature set: pipeline}, "models":
#: {model: pipeline}}`` (the feature set decides first); reporting.pipeline.row_groups builds it
RowGroups = Mapping[str, Mapping[str, str]]


def comparison_table(*tables: pd.DataFrame) -> pd.DataFrame:
    """The shared comparison table, from the model namespaces' ``comparison_rows`` datasets
    (each loads the whole table, so their union is it; a row appears once)."""
    frames = [t for t in tables if t is not None and not t.empty]
    if not frames:
        return tables[0] if tables else pd.DataFrame(columns=COMPARISON_COLUMNS)
    return (pd.concat(frames, ignore_index=True)
            .drop_duplicates(["model", "features", "protocol"], keep="last", ignore_index=True))


def with_pipelines(comparison: pd.DataFrame, groups: RowGroups | None) -> pd.DataFrame:
    """``comparison`` with a ``pipeline`` column: the pipeline that scored each row (by its
    feature set, else its model name; "other" when neither is known)."""
    by_features, by_model = dict((groups or {}).get("features", {})), dict((groups or {}).get("models", {}))
    pipeline = [by_features.get(str(f)) or by_model.get(str(m)) or "other"
                for m, f in zip(comparison["model"], comparison["features"])]
    order = list(dict.fromkeys([*by_features.values(), *by_model.values(), "other"]))
    frame = comparison.assign(pipeline=pipeline)
    rank = frame["pipeline"].map({name: i for i, name in enumerate(order)})
    return frame.iloc[np.argsort(rank.to_numpy(), kind="stable")].reset_index(drop=True)


def accuracy_chart(comparison: pd.DataFrame, groups: RowGroups | None = None) -> Figure:
    """The comparison heatmap: one row per model x features grouped by pipeline, one column
    per protocol, each cell mean accuracy ± std and n splits."""
    if comparison.empty:
        logger.warning("model_comparison.csv has no rows yet: run a model pipeline first "
                       "(e.g. kedro run --pipeline audio_models_30s)")
    table = with_pipelines(comparison, groups) if groups else comparison
    n_rows = len(comparison.drop_duplicates(["model", "features"])) if not comparison.empty else 0
    return accuracy_heatmap_figure(table, f"test accuracy by model and protocol: {n_rows} model x features "
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
    """Paired bars: track-grouped holdout vs leaky segment split accuracy per model, the
    inflation written beside each pair (largest first)."""
    import matplotlib.pyplot as plt

    if leakage.empty:
        fig, ax = plt.subplots(figsize=(7, 1.6))
        ax.text(0.5, 0.5, "no model scored on both holdout and leaky_segments yet\n"
                "(run audio_models_3s)", ha="center", va="center")
        ax.axis("off")
        return fig
    labels = leakage["model"].astype(str) + " [" + leakage["features"].astype(str) + "]"
    fig, ax = plt.subplots(figsize=(8.5, 0.42 * max(len(leakage), 2) + 1.9))
    y = np.arange(len(leakage))
    ax.barh(y - 0.2, leakage["holdout"], 0.4, color="tab:blue", label="holdout (tracks grouped)")
    ax.barh(y + 0.2, leakage["leaky_segments"], 0.4, color="tab:red", alpha=0.8,
            label="leaky_segments (random 3-s rows: inflated)")
    for i, (high, gain) in enumerate(zip(leakage[["holdout", "leaky_segments"]].max(axis=1),
                                         leakage["inflation"])):
        ax.text(high + 0.01, i, f"{gain:+.3f}", va="center", fontsize=8)
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_ylim(len(leakage) - 0.4, -0.6)  # largest inflation on top, no empty band around the bars
    ax.set_xlim(0, 1.1)
    ax.set_xticks(np.linspace(0, 1, 6))
    ax.axvline(0.1, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("test accuracy (mean over splits; dotted: chance)")
    ax.set_title("how much a random split of 3-s segments inflates accuracy\n"
                 "(number: leaky_segments minus holdout)", fontsize=10, pad=24)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def best_per_protocol(comparison: pd.DataFrame) -> pd.DataFrame:
    """The most accurate row of each protocol (ties: more splits, then higher AUROC)."""
    if comparison.empty:
        return comparison.iloc[0:0]
    ranked = comparison.sort_values(["accuracy_mean", "n_splits", "auroc_mean"],
                                    ascending=False, kind="stable", na_position="last")
    best = ranked.groupby("protocol", sort=False).head(1)
    order = {p: i for i, p in enumerate(PROTOCOL_ORDER)}
    return best.iloc[np.argsort([order.get(p, len(order)) for p in best["protocol"]], kind="stable")]


def _png(figures: Mapping[str, Callable[[], Any]] | None, key: str) -> bytes | None:
    """The PNG ``key`` of the figures folder (a PIL image loader), or None when absent."""
    if not figures or key not in figures:
        return None
    try:
        return rp.image_png(figures[key]())
    except Exception as exc:  # a half-written or corrupt PNG costs its picture, not the page
        logger.warning("data/08_reporting/%s.png could not be read (%s): left out of report.html", key, exc)
        return None


def _command(pipeline: str, env: str | None = None) -> str:
    """The command that runs ``pipeline`` in the config env this report was written in."""
    return f"kedro run{f' --env {env}' if env else ''} --pipeline {pipeline}"


def _run(pipeline: str, env: str | None = None) -> str:
    return f"<code>{html.escape(_command(pipeline, env))}</code>"


def _comparison_section(comparison: pd.DataFrame, groups: RowGroups | None, env: str | None = None) -> str:
    if comparison.empty:
        return rp.missing(f"Model comparison: {rp.NOT_RUN_YET}. No model pipeline has written rows to "
                          f"model_comparison.csv; run {_run('audio_models_30s', env)} (or any model pipeline).")
    leaky = sorted(set(comparison["protocol"].astype(str)) & set(INFLATED_PROTOCOLS))
    inflated = (f" The hatched column ({', '.join(leaky)}) is inflated: segments of one track land on "
                "both sides of the split." if leaky else "")
    shown = comparison[[c for c in COMPARISON_COLUMNS if c in comparison.columns]]
    return "\n".join([
        rp.paragraph(f"{len(comparison)} rows: one per model x features x protocol.{inflated}"),
        rp.img(rp.figure_png(accuracy_chart(comparison, groups)), "test accuracy heatmap"),
        "<details><summary>The whole table (model_comparison.csv)</summary>",
        rp.table_html(shown.sort_values(["protocol", "accuracy_mean"], ascending=[True, False])),
        "</details>",
    ])


def _best_section(comparison: pd.DataFrame, figures, confusion_paths: list[str]) -> str:
    if comparison.empty:
        return rp.missing(f"Best models: {rp.NOT_RUN_YET} (no rows in the comparison table).")
    parts = []
    for row in best_per_protocol(comparison).itertuples(index=False):
        protocol, model, features = str(row.protocol), str(row.model), str(row.features)
        inflated = protocol in INFLATED_PROTOCOLS
        heading = (f"<h3>{html.escape(protocol)}: {html.escape(model)} [{html.escape(features)}], "
                   f"accuracy {row.accuracy_mean:.3f}"
                   f"{f' ± {row.accuracy_std:.3f} over {int(row.n_splits)} splits' if row.n_splits > 1 else ' on 1 split'}"
                   f"{' <span class=inflated>(inflated protocol)</span>' if inflated else ''}</h3>")
        keys = [p.format(model=model, features=features, protocol=protocol) for p in confusion_paths]
        png = next((b for b in (_png(figures, k) for k in keys) if b is not None), None)
        if png is None:
            looked = ", ".join(f"data/08_reporting/{k}.png" for k in keys)
            body = rp.missing(f"No confusion matrix is saved for {html.escape(model)} [{html.escape(features)}] "
                              f"under {html.escape(protocol)} (looked for {html.escape(looked)}).")
        else:
            body = rp.img(png, f"confusion matrix of {model} [{features}], {protocol}")
        parts.append(f'<div class="card">{heading}{body}</div>')
    return '<div class="figure-row">' + "\n".join(parts) + "</div>"


def _leakage_section(leakage: pd.DataFrame, env: str | None = None) -> str:
    if leakage is None or leakage.empty:
        return rp.missing(f"Leakage: {rp.NOT_RUN_YET}. No model is scored on both holdout and "
                          f"leaky_segments; run {_run('audio_models_3s', env)}.")
    return "\n".join([rp.img(rp.figure_png(leakage_chart(leakage)), "leakage chart"),
                      rp.table_html(leakage)])


def _pm25_section(metrics: pd.DataFrame | None, figures, plots: list[str], env: str | None = None) -> str:
    pngs = {key: _png(figures, key) for key in plots}
    if metrics is None and not any(pngs.values()):
        return rp.missing(f"PM2.5 forecasting: {rp.NOT_RUN_YET}. Run {_run('pm25_forecast', env)}.")
    parts = []
    if metrics is None:
        parts.append(rp.missing(f"pm25_metrics.csv: {rp.NOT_RUN_YET}; run {_run('pm25_forecast', env)}."))
    else:
        parts.append("<h3>Test metrics (skill: 1 - RMSE / persistence RMSE)</h3>")
        if {"horizon_h", "rmse"} <= set(metrics.columns):
            ranked = metrics.sort_values(["horizon_h", "rmse"], kind="stable")
            parts.append(rp.paragraph("The most accurate model of each horizon:", "note"))
            parts.append(rp.table_html(ranked.groupby("horizon_h", sort=False).head(1)))
            parts.append(f"<details><summary>Every model ({len(metrics)} rows, pm25_metrics.csv)</summary>"
                         f"{rp.table_html(ranked)}</details>")
        else:
            parts.append(rp.table_html(metrics))
    for key, png in pngs.items():
        parts.append(rp.img(png, key) if png else
                     rp.missing(f"{html.escape(key)}.png: {rp.NOT_RUN_YET}; run {_run('pm25_forecast', env)}."))
    return "\n".join(parts)


def _feature_section(scores: Mapping[str, pd.DataFrame | None], selected: Mapping[str, dict | None],
                     top: int, env: str | None = None) -> str:
    parts = []
    for table, frame in scores.items():
        parts.append(f"<h3>{html.escape(table)} table</h3>")
        if frame is None or frame.empty:
            parts.append(rp.missing(f"Feature selection on the {html.escape(table)} table: {rp.NOT_RUN_YET}. "
                                    f"Run {_run('feature_selection', env)}."))
            continue
        chosen = selected.get(table) or {}
        keep = set(chosen.get("features") or [])
        columns = [c for c in ("feature", "mic", "spearman", "pearson", "boruta_decision", "mdi", "permutation")
                   if c in frame.columns]
        shown = frame[columns].head(top).copy()
        if chosen:
            shown.insert(1, "selected", ["yes" if f in keep else "" for f in shown["feature"]])
            parts.append(rp.paragraph(f"{len(keep)} features selected ({chosen.get('method', '')}): "
                                      f"{', '.join(chosen.get('features') or [])}.", "note"))
        parts.append(rp.paragraph(f"Top {len(shown)} of {len(frame)} features by MIC with the genre.", "note"))
        parts.append(rp.table_html(shown))
    return "\n".join(parts)


_EXPLORE = """<p>The pipelines, their datasets and the last run's parameters:</p>
<pre>make viz            # static kedro-viz site in build/
kedro viz run       # live kedro-viz at http://127.0.0.1:4141</pre>
<p>Every model's parameters, metrics, per-split curves and figures, one MLflow run each:</p>
<pre>make mlflow         # MLflow UI on mlflow.db
kedro mlflow ui     # the same through kedro-mlflow</pre>"""


def _data_note(manifest: pd.DataFrame | None) -> str:
    """A warning paragraph when this run's audio is the synthetic sample corpus."""
    if manifest is None or manifest.empty:
        return ""
    return rp.paragraph(
        f"Data: this run's audio is the synthetic sample corpus ({len(manifest)} generated tracks), "
        "not GTZAN, so the genre accuracies below measure the pipeline, not music (the 30-s and 3-s "
        "table models read Kaggle's real tables only where they were placed in data/01_raw/gtzan/). "
        "For real figures place the real data: README, \"The real data\".", "warning")


def build_report(comparison: pd.DataFrame, leakage: pd.DataFrame | None,
                 figures: Mapping[str, Callable[[], Any]] | None, pm25_metrics: pd.DataFrame | None,
                 feature_scores: pd.DataFrame | None, feature_scores_3s: pd.DataFrame | None,
                 selected_features: dict | None, selected_features_3s: dict | None,
                 params: dict[str, Any], groups: RowGroups | None = None,
                 pm25_plots_written: dict | None = None,
                 sample_manifest: pd.DataFrame | None = None) -> str:
    """report.html: the comparison heatmap, the best model of each protocol with its confusion
    matrix, the leakage chart, the PM2.5 metrics and plots, the feature-selection top list and
    how to open kedro-viz and MLflow; a section whose pipeline has not run says so.

    ``figures`` maps each PNG under data/08_reporting (path without ``.png``) to its loader;
    ``params`` is ``reporting``'s parameters (where confusion matrices and PM2.5 plots are).
    ``pm25_plots_written`` (pm25_forecast's note of its plots, None before it ran) is read only
    so that, in one run with pm25_forecast, this node runs after the plots it embeds.
    ``sample_manifest`` (the synthetic corpus's, None when absent): the page then says first
    that its genre rows come from generated audio."""
    comparison = comparison if comparison is not None else pd.DataFrame(columns=COMPARISON_COLUMNS)
    env = params.get("run_env")
    sections = [
        rp.Section("comparison", "Model comparison", _comparison_section(comparison, groups, env)),
        rp.Section("best", "Best model per protocol",
                   _best_section(comparison, figures, list(params["confusion_matrix_paths"]))),
        rp.Section("leakage", "Leakage: random segment split vs track-grouped holdout",
                   _leakage_section(leakage, env)),
        rp.Section("pm25", "PM2.5 forecasting", _pm25_section(pm25_metrics, figures, list(params["pm25_plots"]), env)),
        rp.Section("features", "Feature selection",
                   _feature_section({"30-s": feature_scores, "3-s": feature_scores_3s},
                                    {"30-s": selected_features, "3-s": selected_features_3s},
                                    int(params.get("top_features", 10)), env)),
        rp.Section("explore", "Explore further: kedro-viz and MLflow", _EXPLORE),
    ]
    written = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    intro = rp.paragraph(f"Written {written} by the reporting pipeline ({_command('reporting', env)}) "
                         "from data/08_reporting.", "note") + _data_note(sample_manifest)
    return rp.page("gtzan-kedro: what the last run found", intro, sections)
