"""The comparison table upserts rows by (model, features, protocol), atomically, with Markdown."""

import pandas as pd
import pytest
from kedro.io import DatasetError

from gtzan_kedro.datasets import ComparisonTableDataset
from gtzan_kedro.evaluation.runner import COMPARISON_COLUMNS


def rows(model, protocol, accuracy, **extra):
    return pd.DataFrame([{"model": model, "features": "30s", "protocol": protocol, "n_splits": 10,
                          "accuracy_mean": accuracy, "accuracy_std": 0.01, "auroc_mean": 0.9,
                          "auprc_mean": 0.7, **extra}])


def test_upsert_replaces_own_rows_and_keeps_others(tmp_path):
    path = tmp_path / "08_reporting" / "model_comparison.csv"
    audio = ComparisonTableDataset(filepath=str(path))
    image = ComparisonTableDataset(filepath=str(path))  # another pipeline's entry, same file
    assert audio.load().empty and list(audio.load().columns) == COMPARISON_COLUMNS
    audio.save(pd.concat([rows("svm", "holdout", 0.7), rows("svm", "fault_filtered", 0.5)]))
    image.save(rows("cnn_mel", "holdout", 0.8, song_accuracy_vote_mean=0.85))
    audio.save(rows("svm", "holdout", 0.75))  # re-run
    table = audio.load()
    assert len(table) == 3
    assert list(table.columns[:8]) == COMPARISON_COLUMNS
    assert table.set_index(["model", "protocol"]).loc[("svm", "holdout"), "accuracy_mean"] == 0.75
    assert table.set_index(["model", "protocol"]).loc[("cnn_mel", "holdout"),
                                                      "song_accuracy_vote_mean"] == 0.85
    markdown = path.with_suffix(".md").read_text()
    assert markdown.startswith("| model | features | protocol |") and "cnn_mel" in markdown
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp.csv")]


def test_a_failed_save_leaves_the_table_untouched(tmp_path, monkeypatch):
    path = tmp_path / "model_comparison.csv"
    dataset = ComparisonTableDataset(filepath=str(path))
    dataset.save(rows("svm", "holdout", 0.7))
    before = path.read_bytes()

    def broken(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    with pytest.raises(DatasetError, match="disk full"):
        dataset.save(rows("rf", "holdout", 0.6))
    assert path.read_bytes() == before
    # no temp file left behind
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == \
        ["model_comparison.csv", "model_comparison.md"]


def test_bad_rows_are_rejected(tmp_path):
    dataset = ComparisonTableDataset(filepath=str(tmp_path / "t.csv"))
    with pytest.raises(DatasetError, match="lack columns"):
        dataset.save(pd.DataFrame([{"model": "x"}]))
    with pytest.raises(DatasetError, match="repeat"):
        dataset.save(pd.concat([rows("svm", "holdout", 0.7), rows("svm", "holdout", 0.6)]))
    assert not (tmp_path / "t.csv").exists()
