"""reporting: the charts and the leakage table from a comparison table."""

import pandas as pd
from matplotlib.figure import Figure

from gtzan_kedro.pipelines.reporting.nodes import accuracy_chart, leakage_chart, leakage_table


def table():
    rows = [("svm", "3s", "holdout", 0.70), ("svm", "3s", "leaky_segments", 0.90),
            ("svm", "30s", "holdout", 0.74), ("cnn_mel", "mel", "holdout", 0.80),
            ("cnn_mel", "mel", "fault_filtered", 0.60)]
    return pd.DataFrame([{"model": m, "features": f, "protocol": p, "n_splits": 10, "accuracy_mean": a,
                          "accuracy_std": 0.02, "auroc_mean": 0.9, "auprc_mean": 0.7}
                         for m, f, p, a in rows])


def test_leakage_table_pairs_holdout_and_leaky():
    leak = leakage_table(table())
    assert len(leak) == 1 and leak.loc[0, "model"] == "svm"
    assert abs(leak.loc[0, "inflation"] - 0.2) < 1e-9
    assert leakage_table(table().query("protocol != 'leaky_segments'")).empty


def test_charts_are_figures_with_one_bar_group_per_model(tmp_path):
    fig = accuracy_chart(table())
    assert isinstance(fig, Figure)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert set(labels) == {"svm [3s]", "svm [30s]", "cnn_mel [mel]"}
    fig.savefig(tmp_path / "a.png")
    assert isinstance(leakage_chart(leakage_table(table())), Figure)
    empty = accuracy_chart(table().iloc[0:0])
    assert "no rows" in empty.axes[0].texts[0].get_text()


def test_reporting_takes_every_model_namespace_rows_and_runs_in_process():
    """Its inputs are the comparison_rows of every model the parameters define (so Kedro runs it
    after them); each loads the whole shared table, and the charts show each row once."""
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.runner import SequentialRunner

    from gtzan_kedro.pipelines.reporting.pipeline import create_pipeline

    pipe = create_pipeline()
    inputs = sorted(pipe.inputs())
    assert "audio_models_30s.svm.comparison_rows" in inputs
    assert "image_models.cnn_mel.comparison_rows" in inputs and "multimodal.multimodal.comparison_rows" in inputs
    assert all(name.endswith(".comparison_rows") for name in inputs)
    rows = table()
    catalog = DataCatalog({**{name: MemoryDataset(rows) for name in inputs},
                           **{name: MemoryDataset() for name in pipe.outputs()}})
    SequentialRunner().run(pipe, catalog)
    leakage = catalog.load("leakage_chart")
    assert [t.get_text() for t in leakage.axes[0].get_yticklabels()] == ["svm [3s]"]
    chart = catalog.load("model_accuracy_chart")
    titles = [ax.get_title() for ax in chart.axes] + [chart._suptitle.get_text() if chart._suptitle else ""]
    assert any(f"({len(rows)} rows)" in t for t in titles), titles  # each row once, not once per input
