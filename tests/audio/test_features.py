"""The Kaggle feature recipe: columns, naming, and parity with Kaggle's published row."""

import numpy as np
import pandas as pd
import pytest

from gtzan_kedro.audio.features import (
    FEATURE_COLUMNS,
    KAGGLE_COLUMNS,
    feature_rows,
    file_feature_rows,
    reference_features,
    segment_filename,
)


def test_columns_match_kaggle_header(kaggle_30s):
    assert list(kaggle_30s.columns) == KAGGLE_COLUMNS
    assert len(FEATURE_COLUMNS) == 57


def test_segment_filename_follows_kaggle():
    assert segment_filename("blues.00000.wav", 3) == "blues.00000.3.wav"
    assert segment_filename("song.mp3", 0) == "song.0.mp3"


def test_segment_rows_named_and_sized():
    sr = 22050
    rng = np.random.default_rng(0)
    y = (0.1 * rng.standard_normal(int(6.5 * sr))).astype(np.float32)
    rows = feature_rows(y, sr, "rock.00001.wav", "rock", segment_seconds=3.0)
    assert [r["filename"] for r in rows] == ["rock.00001.0.wav", "rock.00001.1.wav"]
    assert all(r["length"] == 66150 and r["label"] == "rock" for r in rows)
    assert set(rows[0]) == set(KAGGLE_COLUMNS)


def test_reference_features_track_signal_properties():
    sr = 22050
    t = np.arange(3 * sr) / sr
    low = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    high = (0.5 * np.sin(2 * np.pi * 3000 * t)).astype(np.float32)
    f_low, f_high = reference_features(low, sr), reference_features(high, sr)
    assert f_low["spectral_centroid_mean"] == pytest.approx(220, rel=0.15)
    assert f_high["spectral_centroid_mean"] > 10 * f_low["spectral_centroid_mean"]
    assert f_low["rms_mean"] == pytest.approx(0.5 / np.sqrt(2), rel=0.05)


@pytest.mark.shared_data
def test_blues_00099_mp3_matches_kaggle_row_within_5_percent(shared_data, kaggle_30s):
    rows = file_feature_rows(shared_data("gtzan/audio_sample/blues.00099.mp3"), label="blues")
    assert len(rows) == 1
    ours = pd.Series(rows[0])[FEATURE_COLUMNS].astype(float)
    kaggle = kaggle_30s.set_index("filename").loc["blues.00099.wav", FEATURE_COLUMNS].astype(float)
    relative = ((ours - kaggle).abs() / kaggle.abs()).sort_values(ascending=False)
    assert (relative < 0.05).all(), f"features off by more than 5 %:\n{relative.head()}"
    assert rows[0]["length"] == kaggle_30s.set_index("filename").loc["blues.00099.wav", "length"]
