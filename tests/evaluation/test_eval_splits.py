"""Protocols: no track on both sides, stratification, the predefined split, the leaky split."""

import numpy as np
import pandas as pd
import pytest

from gtzan_kedro.evaluation.splits import (
    fault_filtered_splits,
    holdout_splits,
    leaky_segment_splits,
    make_splits,
    track_id,
    track_ids,
)


def segment_table(n_genres=4, n_tracks=10, n_segments=10):
    rows = [(f"g{g}.{t:05d}.{s}.wav", f"g{g}") for g in range(n_genres) for t in range(n_tracks)
            for s in range(n_segments)]
    return pd.DataFrame(rows, columns=["filename", "label"])


@pytest.mark.parametrize("name, expected", [
    ("blues.00000.3.wav", "blues.00000"), ("blues.00000.wav", "blues.00000"),
    ("jazz.00054.9.au", "jazz.00054"), ("rock.00012", "rock.00012"),
])
def test_track_id(name, expected):
    assert track_id(name) == expected


def test_holdout_never_puts_a_track_on_two_sides():
    table = segment_table()
    groups = track_ids(table.filename)
    splits = holdout_splits(table.label, groups, n_splits=10)
    assert len(splits) == 10
    for split in splits:
        sides = [set(groups[split.train]), set(groups[split.val]), set(groups[split.test])]
        assert not sides[0] & sides[1] and not sides[0] & sides[2] and not sides[1] & sides[2]
        assert len(split.train) + len(split.val) + len(split.test) == len(table)
        # all ten segments of every test track are in test
        assert len(split.test) == 10 * len(sides[2])
    assert len({tuple(s.test) for s in splits}) > 1  # the holdouts differ


def test_holdout_is_stratified_by_genre():
    table = segment_table(n_genres=5, n_tracks=20, n_segments=3)
    for split in holdout_splits(table.label, track_ids(table.filename), n_splits=3):
        test_counts = table.label.iloc[split.test].value_counts()
        # 20 % of 20 tracks per genre = 4 tracks x 3 segments
        assert (test_counts == 12).all() and len(test_counts) == 5
        val_counts = table.label.iloc[split.val].value_counts()
        assert val_counts.max() - val_counts.min() <= 3


def test_leaky_split_mixes_segments_of_a_track():
    table = segment_table()
    groups = track_ids(table.filename)
    split = leaky_segment_splits(table.label, n_splits=1)[0]
    assert set(groups[split.train]) & set(groups[split.test])


def test_fault_filtered_uses_the_file_and_leaves_unknown_tracks_out():
    table = segment_table(n_genres=2, n_tracks=5, n_segments=2)
    split_file = pd.DataFrame({"filename": [f"g0.{t:05d}.wav" for t in range(5)] + ["g1.00000.wav"],
                               "split": ["train", "train", "valid", "test", "test", "train"]})
    (split,) = fault_filtered_splits(track_ids(table.filename), split_file)
    groups = track_ids(table.filename)
    assert set(groups[split.train]) == {"g0.00000", "g0.00001", "g1.00000"}
    assert set(groups[split.val]) == {"g0.00002"}
    assert set(groups[split.test]) == {"g0.00003", "g0.00004"}
    assert len(split.train) + len(split.val) + len(split.test) == 12  # g1.00001.. left out


def test_fault_filtered_rejects_a_bad_file():
    with pytest.raises(ValueError, match="unknown split values"):
        fault_filtered_splits(np.array(["a.00000"]), pd.DataFrame({"filename": ["a.00000.wav"],
                                                                    "split": ["dev"]}))
    with pytest.raises(ValueError, match="missing columns"):
        fault_filtered_splits(np.array(["a.00000"]), pd.DataFrame({"file": ["a.00000.wav"]}))


def test_make_splits_on_the_real_fault_filtered_file(kaggle_30s, shared_data):
    split_file = pd.read_csv(shared_data("gtzan/fault_filtered_split.csv"))
    (split,) = make_splits("fault_filtered", kaggle_30s.filename, kaggle_30s.label, split_file)
    assert (len(split.train), len(split.val), len(split.test)) == (443, 197, 290)
    with pytest.raises(ValueError, match="unknown protocol"):
        make_splits("random", kaggle_30s.filename, kaggle_30s.label)
