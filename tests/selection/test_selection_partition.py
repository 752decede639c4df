"""Selection never sees test rows: the partition and the training rows built from it."""

import numpy as np
import pandas as pd
import pytest

from gtzan_kedro.audio.features import FEATURE_COLUMNS, KAGGLE_COLUMNS
from gtzan_kedro.datasets import Skipped
from gtzan_kedro.pipelines.feature_selection import nodes
from gtzan_kedro.selection.partition import partition_rows, track_ids
from gtzan_kedro.selection.relevance import association_to_genres

GENRES = ["blues", "classical", "metal", "pop"]
PARAMS = {
    "tables": ["features_30_sec", "features_3_sec"],
    "use_fault_filtered_split": True,
    "partition": {"train_fraction": 0.8, "valid_fraction": 0.2, "seed": 1},
    "n_jobs": 1,
    "redundancy_measures": ["spearman"],
    "selector": {"relevance": "spearman", "redundancy": "spearman", "redundancy_threshold": 0.95,
                 "max_features": None, "boruta": None, "random_state": 0,
                 "mic_params": {"max_rows": 200}},
}


def _segment_table(n_tracks=10, segments=3, seed=0):
    """A 3-s table: every genre has n_tracks tracks of ``segments`` rows each."""
    rng = np.random.default_rng(seed)
    rows = []
    for genre in GENRES:
        for t in range(n_tracks):
            for s in range(segments):
                rows.append([f"{genre}.{t:05d}.{s}.wav", 66149, *rng.standard_normal(len(FEATURE_COLUMNS)), genre])
    return pd.DataFrame(rows, columns=KAGGLE_COLUMNS)


def test_track_ids():
    assert list(track_ids(["blues.00000.3.wav", "blues.00000.wav", "jazz.00054.wav"])) == [
        "blues.00000", "blues.00000", "jazz.00054"]
    with pytest.raises(ValueError, match="track id"):
        track_ids(["notatrack"])


def test_grouped_partition_keeps_tracks_whole_and_is_seeded():
    table = _segment_table()
    part = partition_rows(table, None, 0.8, 0.2, seed=3)
    roles_per_track = part.groupby("track")["role"].nunique()
    assert (roles_per_track == 1).all()
    test_share = part.drop_duplicates("track")["role"].eq("test").mean()
    assert 0.15 <= test_share <= 0.25
    assert set(part.loc[part.role == "test", "label"]) == set(GENRES)  # stratified
    assert part.equals(partition_rows(table, None, 0.8, 0.2, seed=3))


def test_training_rows_exclude_the_fault_filtered_test_tracks():
    table = _segment_table()
    tracks = sorted(set(track_ids(table.filename)))
    split = pd.DataFrame({"filename": [f"{t}.wav" for t in tracks],
                          "split": (["train", "valid", "test"] * len(tracks))[: len(tracks)]})
    split = split.iloc[:-2]  # two tracks the split does not list: unused
    test_tracks = set(track_ids(split.loc[split.split == "test", "filename"]))
    # Poison the test tracks: any statistic that touched one of their rows would be NaN.
    is_test = np.isin(track_ids(table.filename), list(test_tracks))
    table.loc[is_test, FEATURE_COLUMNS] = np.inf
    partition, training = nodes.prepare_training_rows(table, split, PARAMS, "features_3_sec")
    assert set(partition.loc[partition.role == "test", "track"]) == test_tracks
    assert (partition.role == "unused").sum() == 2 * 3
    assert not set(track_ids(training.filename)) & test_tracks
    assert set(training.role) == {"train", "valid"}
    assert np.isfinite(training[FEATURE_COLUMNS].to_numpy()).all()
    with np.errstate(invalid="ignore"):
        leaked = association_to_genres(table[FEATURE_COLUMNS], table.label, "pearson")["pearson"]
    assert leaked.isna().all()  # what the scores would look like had test rows been seen
    relevance = nodes.score_relevance(training, PARAMS)
    assert np.isfinite(relevance[["pearson", "spearman", "mic"]].to_numpy()).all()
    assert np.isfinite(nodes.score_redundancy(training, PARAMS)["spearman"]).all()
    selected = nodes.choose_features(training, _scores(training), nodes.score_redundancy(training, PARAMS),
                                     PARAMS, "features_3_sec")
    assert selected["features"] and "test rows never seen" in selected["fitted_on"]
    assert f"{len(training)} rows" in selected["fitted_on"]


def _scores(training):
    rel = association_to_genres(training[FEATURE_COLUMNS], training.label, "spearman").reset_index()
    rel["boruta_decision"] = "confirmed"
    return rel


def test_absent_or_unlisted_table_is_skipped():
    partition, training = nodes.prepare_training_rows(None, None, PARAMS, "features_3_sec")
    assert isinstance(partition, Skipped) and isinstance(training, Skipped)
    unlisted = {**PARAMS, "tables": ["features_30_sec"]}
    assert isinstance(nodes.prepare_training_rows(_segment_table(), None, unlisted, "features_3_sec")[0], Skipped)
    assert isinstance(nodes.score_relevance(training, PARAMS), Skipped)


def test_split_from_another_corpus_is_a_clear_error():
    split = pd.DataFrame({"filename": ["rock.00099.wav"], "split": ["train"]})
    with pytest.raises(ValueError, match="none of the tracks"):
        partition_rows(_segment_table(), split, source="features_3_sec")
