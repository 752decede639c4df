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
