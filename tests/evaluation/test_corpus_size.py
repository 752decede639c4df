"""A corpus too small for a model's grid-search folds is a clear error before any fit, giving
each protocol's need in clips per genre, what the table has and the parameter to change."""

import numpy as np
import pandas as pd
import pytest

from gtzan_kedro.audio.features import FEATURE_COLUMNS
from gtzan_kedro.evaluation import tabular
from gtzan_kedro.evaluation.corpus_size import TooFewClipsError, check_clips_per_genre, clips_needed
from gtzan_kedro.evaluation.splits import make_splits, track_ids
from gtzan_kedro.templates.feature_models_nodes import evaluate_model

GENRES = ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"]
EVALUATION = {"n_splits": 2, "test_size": 0.2, "val_size": 0.2, "random_state": 0,
              "permutation_repeats": 0}


def balanced_table(n_per_genre: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    filenames = [f"{g}.{i:05d}.wav" for g in GENRES for i in range(n_per_genre)]
    table = pd.DataFrame(rng.normal(size=(len(filenames), len(FEATURE_COLUMNS))),
                         columns=FEATURE_COLUMNS)
    table.insert(0, "filename", filenames)
    table["label"] = [f.split(".")[0] for f in filenames]
    return table


def split_file(table: pd.DataFrame) -> pd.DataFrame:
    """Half of each genre's tracks train, a quarter validate, the rest test."""
    sides = []
    for _, group in table.groupby("label"):
        n = len(group)
        sides += ["train"] * (n // 2) + ["valid"] * (n // 4) + ["test"] * (n - n // 2 - n // 4)
    return pd.DataFrame({"filename": table.sort_values("label")["filename"].to_numpy(), "split": sides})


def test_four_clips_per_genre_fail_before_any_fit_with_the_need_and_the_parameter(monkeypatch):
    def no_fit(*args, **kwargs):
        raise AssertionError("a model was fitted before the corpus size was checked")

    monkeypatch.setattr(tabular, "fit_split", no_fit)
    table = balanced_table(4)
    model = {"kind": "svm", "grid": {"model__C": [1]}, "cv": 5, "grouped": True}
    feature_set = {"table": "features_30_sec", "columns": "kaggle",
                   "protocols": ["holdout", "fault_filtered"]}
    with pytest.raises(TooFewClipsError) as raised:
        evaluate_model(table, split_file(table), None, False, EVALUATION, feature_set, model,
                       "30s", "svm")
    message = str(raised.value)
    needed = clips_needed("holdout", 10, 1, 5, 2, 0.2, 0.2, 0)
    assert "features_30_sec has 4 per genre" in message
    assert f"holdout: needs at least {needed} clips per genre" in message
    # 4 clips: 2 train, 1 valid, so 75 % of a genre fits and 5 folds need ceil(5 / 0.75) clips
    assert "fault_filtered: needs about 7 clips per genre" in message
    assert "audio_models.models.svm.cv" in message and "sample_data.n_per_genre" in message
    assert "cannot be greater than the number of members" not in message


@pytest.mark.parametrize("folds", [2, 5])
def test_the_stated_need_is_exactly_what_the_holdouts_require(folds):
    """At the stated number of clips per genre every holdout's training side has enough rows
    of each genre for the folds; with one clip fewer some genre falls short."""
    needed = clips_needed("holdout", len(GENRES), 1, folds, 2, 0.2, 0.2, 0)
    assert needed is not None and needed > folds

    def fewest_training_rows(n):
        table = balanced_table(n)
        labels = table["label"].to_numpy(dtype=object)
        splits = make_splits("holdout", table["filename"], labels, n_splits=2)
        return min(pd.Series(labels[s.fit]).value_counts().reindex(GENRES, fill_value=0).min()
                   for s in splits)

    assert fewest_training_rows(needed) >= folds
    assert fewest_training_rows(needed - 1) < folds


def test_the_check_raises_where_scikit_learn_would_and_passes_at_the_need():
    def check(n):
        table = balanced_table(n)
        labels, groups = table["label"].to_numpy(dtype=object), track_ids(table["filename"])
        planned = {"holdout": make_splits("holdout", table["filename"], labels, n_splits=2)}
        check_clips_per_genre(planned, labels, groups, 5, EVALUATION, {"holdout": 2},
                              source="features_30_sec", model="svm [30s]")

    check(clips_needed("holdout", len(GENRES), 1, 5, 2, 0.2, 0.2, 0))
    with pytest.raises(TooFewClipsError, match="has 3 per genre"):
        check(3)


def test_a_model_without_a_grid_search_is_not_checked():
    table = balanced_table(2)
    rows, *_ = evaluate_model(table, None, None, False, EVALUATION,
                              {"table": "features_30_sec", "protocols": ["holdout"]},
                              {"kind": "logistic_regression"}, "30s", "logistic_regression")
    assert list(rows.protocol) == ["holdout"]
