"""reporting: the heatmap, the leakage table and chart, and the pipeline's wiring."""

from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure
from PIL import Image

from gtzan_kedro.pipelines.reporting.nodes import accuracy_chart, leakage_chart, leakage_table

REPO_ROOT = Path(__file__).resolve().parents[3]


def table():
    rows = [("svm", "3s", "holdout", 0.70), ("svm", "3s", "leaky_segments", 0.90),
            ("svm", "30s", "holdout", 0.74), ("cnn_mel", "mel", "holdout", 0.80),
            ("cnn_mel", "mel", "fault_filtered", 0.60)]
    return pd.DataFrame([{"model": m, "features": f, "protocol": p, "n_splits": 10, "accuracy_mean": a,
                          "accuracy_std": 0.02, "auroc_mean": 0.9, "auprc_mean": 0.7}
                         for m, f, p, a in rows])


#: (pipeline, feature set, models, protocols): 16 + 16 + 6 + 1 + 69 = 108 model x features
LAYOUT = [("audio_models_30s", "30s", 16, ["holdout", "fault_filtered"]),
          ("audio_models_3s", "3s", 16, ["holdout", "fault_filtered", "leaky_segments"]),
          ("image_models", None, 6, ["holdout", "fault_filtered", "leaky_segments"]),
          ("multimodal", None, 1, ["holdout", "fault_filtered", "leaky_segments"]),
          *[("embeddings", f"musicnn_msd_maxpool{s}", n, ["holdout", "fault_filtered"])
            for s, n in (("", 35), ("_3s", 34))]]


def big_table(seed=0):
    """108 model x features rows (each under 2-3 protocols) and the row groups that name them."""
    rng = np.random.default_rng(seed)
    rows, groups = [], {"features": {}, "models": {}}
    for pipeline, features, n, protocols in LAYOUT:
        for k in range(n):
            model = f"{pipeline.split('_')[0]}_model_{k:02d}"
            feats = features or f"{model}_input"
            if features:
                groups["features"][features] = pipeline
            else:
                groups["models"][model] = pipeline
            rows += [{"model": model, "features": feats, "protocol": p, "n_splits": 5,
                      "accuracy_mean": rng.uniform(0.2, 0.95), "accuracy_std": rng.uniform(0, 0.08),
                      "auroc_mean": 0.9, "auprc_mean": 0.7} for p in protocols]
    return pd.DataFrame(rows), groups


def catalog_png(fig, path):
    """Save as the catalog's model_accuracy_chart entry does (same save_args)."""
    entry = yaml.safe_load((REPO_ROOT / "conf/base/catalog_reporting.yml").read_text())["model_accuracy_chart"]
    fig.savefig(path, **entry["save_args"])
    return Image.open(path).size


def test_leakage_table_pairs_holdout_and_leaky():
    leak = leakage_table(table())
    assert len(leak) == 1 and leak.loc[0, "model"] == "svm"
    assert abs(leak.loc[0, "inflation"] - 0.2) < 1e-9
    assert leakage_table(table().query("protocol != 'leaky_segments'")).empty


def test_heatmap_of_108_rows_stays_under_1800_px_and_shows_every_row_and_cell(tmp_path):
    rows, groups = big_table()
    labels = set(rows["model"] + " [" + rows["features"] + "]")
    assert len(labels) == 108
    fig = accuracy_chart(rows, groups)
    shown = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
    assert sorted(shown) == sorted(labels)  # every row once, none twice across the panels
    cells = [t.get_text() for ax in fig.axes for t in ax.texts if "\n±" in t.get_text()]
    assert len(cells) == len(rows)  # one "mean\n±std n=k" cell per model x features x protocol
    first = rows.iloc[0]
    assert f"{first.accuracy_mean:.3f}\n±{first.accuracy_std:.3f} n=5" in cells
    width, height = catalog_png(fig, tmp_path / "heatmap.png")
    assert height <= 1800, (width, height)
    assert width <= 1800, (width, height)  # two panels side by side, still one screen wide


def test_heatmap_groups_rows_by_pipeline_and_marks_leaky_segments_inflated():
    rows, groups = big_table()
    fig = accuracy_chart(rows, groups)
    headers = [t.get_text() for ax in fig.axes for t in ax.texts if t.get_fontweight() == "bold"]
    for pipeline in ("audio_models_30s", "audio_models_3s", "image_models", "multimodal", "embeddings"):
        assert any(h.startswith(pipeline) for h in headers), (pipeline, headers)
    # grouped: every audio_models_3s row comes before the first embeddings row in the first panel
    first = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert max(i for i, t in enumerate(first) if t.endswith("[3s]")) < min(
        i for i, t in enumerate(first) if "musicnn" in t)
    for ax in fig.axes:
        header = [t.get_text() for t in ax.get_xticklabels()]
        assert header[:2] == ["holdout\ntracks grouped", "fault_filtered\nunseen artists"]
        assert header[2].startswith("leaky_segments") and "INFLATED" in header[2]
        assert any(p.get_hatch() for p in ax.patches), "the leaky_segments column is hatched"
    # a table with no inflated protocol has no hatching
    clean = accuracy_chart(rows.query("protocol != 'leaky_segments'"), groups)
    assert not any(p.get_hatch() for ax in clean.axes for p in ax.patches)


def test_charts_are_figures_and_say_when_there_are_no_rows(tmp_path):
    fig = accuracy_chart(table())
    assert isinstance(fig, Figure)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert set(labels) == {"svm [3s]", "svm [30s]", "cnn_mel [mel]"}
    fig.savefig(tmp_path / "a.png")
    empty = accuracy_chart(table().iloc[0:0])
    assert "no rows" in empty.axes[0].texts[0].get_text()


def test_leakage_chart_keeps_legend_and_labels_inside_the_picture(tmp_path):
    leak = leakage_table(big_table()[0])
    fig = leakage_chart(leak)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(leak["model"] + " [" + leak["features"] + "]")
    assert ax.get_xlabel() and ax.get_legend() is not None
    fig.canvas.draw()
    box = fig.bbox
    for artist in (ax.get_legend(), ax.xaxis.label, ax.title):
        extent = artist.get_window_extent()
        assert box.x0 <= extent.x0 and extent.x1 <= box.x1 and box.y0 <= extent.y0 and extent.y1 <= box.y1, artist
    width, height = catalog_png(fig, tmp_path / "leakage.png")
    assert 600 <= width <= 1400 and height <= 1600, (width, height)


def test_reporting_takes_every_model_namespace_rows_and_runs_in_process():
    """Its inputs are the comparison_rows of every model the parameters define (so Kedro runs it
    after them) and report.html's optional inputs; each comparison_rows loads the whole shared
    table, and the charts show each row once."""
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.runner import SequentialRunner

    from gtzan_kedro.pipelines.reporting.pipeline import create_pipeline

    pipe = create_pipeline()
    inputs = sorted(pipe.inputs())
    assert "audio_models_30s.svm.comparison_rows" in inputs
    assert "image_models.cnn_mel.comparison_rows" in inputs and "multimodal.multimodal.comparison_rows" in inputs
    report_inputs = {"reporting_figures", "pm25_metrics_if_present", "pm25_plots_written",
                     "feature_scores", "feature_scores_3s",
                     "selected_features", "selected_features_3s", "params:reporting",
                     "sample_corpus_manifest"}
    assert report_inputs <= set(inputs)
    assert all(name.endswith(".comparison_rows") for name in set(inputs) - report_inputs)
    assert "report_html" in pipe.outputs()
    rows = table()
    params = yaml.safe_load((REPO_ROOT / "conf/base/parameters_reporting.yml").read_text())["reporting"]
    catalog = DataCatalog({**{name: MemoryDataset(rows) for name in inputs if name.endswith(".comparison_rows")},
                           **{name: MemoryDataset(None) for name in report_inputs},
                           "params:reporting": MemoryDataset(params),
                           **{name: MemoryDataset() for name in pipe.outputs()}})
    SequentialRunner().run(pipe, catalog)
    leakage = catalog.load("leakage_chart")
    assert [t.get_text() for t in leakage.axes[0].get_yticklabels()] == ["svm [3s]"]
    chart = catalog.load("model_accuracy_chart")
    titles = [ax.get_title() for ax in chart.axes] + [chart._suptitle.get_text() if chart._suptitle else ""]
    assert any(f"({len(rows)} rows)" in t for t in titles), titles  # each row once, not once per input
    page = catalog.load("report_html")
    assert "<h2>Model comparison</h2>" in page and "PM2.5 forecasting: not run yet" in page


def test_row_groups_name_every_pipeline_that_writes_comparison_rows():
    from gtzan_kedro.pipelines.reporting.pipeline import comparison_row_outputs, row_groups

    groups = row_groups()
    named = set(groups["features"].values()) | set(groups["models"].values())
    writers = {name.split(".")[0] for name in comparison_row_outputs()}
    assert writers == named
    assert groups["features"]["30s"] == "audio_models_30s" and groups["models"]["cnn_mel"] == "image_models"


def test_a_single_split_shows_no_spread():
    """The std of one split is 0 by construction: the cell says ±– rather than ±0.000."""
    rows = table()
    rows.loc[0, "n_splits"] = 1
    cells = [t.get_text() for ax in accuracy_chart(rows).axes for t in ax.texts]
    assert "0.700\n±– n=1" in cells and "0.740\n±0.020 n=10" in cells


def test_in_one_run_with_pm25_forecast_the_report_waits_for_its_plots():
    """report.html embeds pm25_forecast's PNGs, read from files: the plot node's note
    (pm25_plots_written) is the edge that makes any runner write the page after them."""
    from gtzan_kedro.pipelines.pm25_forecast.pipeline import create_pipeline as pm25_pipeline
    from gtzan_kedro.pipelines.reporting.pipeline import create_pipeline as reporting_pipeline

    combined = pm25_pipeline() + reporting_pipeline()
    waits_for = {n.name: {d.name for d in deps} for n, deps in combined.node_dependencies.items()}
    assert "pm25_forecast.plot_pm25_forecasts" in waits_for["reporting.write_report_html"]
