"""End to end: `kedro run --pipeline feature_selection` on a small slice of the real 30-s table."""

import json

import numpy as np
import pandas as pd
import pytest

from gtzan_kedro.audio.features import FEATURE_COLUMNS
from gtzan_kedro.selection.partition import track_ids
from gtzan_kedro.selection.transformers import FeatureSelector

FAST = """
feature_selection:
  n_jobs: 1
  partition: {seed: 3}
  selector:
    boruta_params: {n_estimators: 20, max_iter: 8, max_depth: 4}
    mic_params: {max_rows: 120}
  forest: {n_estimators: 20, n_repeats: 2}
  exploration: {n_init: 2}
"""

SCORE_COLUMNS = ["feature", "pearson", "spearman", "mic", "boruta_decision", "boruta_rank", "mdi",
                 "permutation", "pearson_genre", "spearman_genre", "mic_genre"]
PNGS = ["pca_full", "pca_mfcc", "pca_explained_variance", "kmeans_scores", "correlation_heatmap",
        "top_importances"]


@pytest.mark.e2e
def test_feature_selection_end_to_end(kedro_project, kaggle_30s):
    tiny = kaggle_30s.groupby("label", group_keys=False).head(10).reset_index(drop=True)
    primary = kedro_project.path / "data" / "03_primary"
    tiny.to_csv(primary / "features_30_sec.csv", index=False)
    kedro_project.write_conf("local/parameters_feature_selection.yml", FAST)

    proc = kedro_project.run("--pipeline", "feature_selection")
    assert "features_3_sec is absent: its analysis is skipped" in proc.stdout + proc.stderr

    data = kedro_project.path / "data"
    scores = pd.read_csv(data / "08_reporting" / "feature_scores.csv")
    assert set(SCORE_COLUMNS) <= set(scores.columns)
    assert sorted(scores.feature) == sorted(FEATURE_COLUMNS)
    assert set(scores.boruta_decision) <= {"confirmed", "tentative", "rejected"}
    assert scores[["pearson", "spearman", "mic", "mdi"]].notna().all().all()
    assert set(scores.mic_genre) <= set(tiny.label)

    selected = json.loads((data / "05_model_input" / "selected_features.json").read_text())
    assert {"features", "selector", "fitted_on", "method"} <= set(selected)
    assert selected["features"] and set(selected["features"]) <= set(FEATURE_COLUMNS)
    assert not (data / "05_model_input" / "selected_features_3s.json").exists()

    partition = pd.read_csv(data / "08_reporting" / "feature_selection" / "30s" / "partition.csv")
    seen = partition[partition.role.isin(["train", "valid"])]
    assert not set(seen.track) & set(partition.loc[partition.role == "test", "track"])
    assert f"{len(seen)} rows" in selected["fitted_on"]

    # The JSON's selector reproduces the list on the same training rows.
    rows = tiny[tiny.filename.isin(seen.filename)]
    refit = FeatureSelector(**selected["selector"]).fit(rows[FEATURE_COLUMNS], rows.label.to_numpy())
    assert list(refit.get_feature_names_out()) == selected["features"]

    kmeans = pd.read_csv(data / "08_reporting" / "feature_selection" / "30s" / "kmeans_scores.csv")
    assert {"full", "mfcc"} <= set(kmeans.space)
    assert {"mutual_info", "adjusted_rand", "mean_sq_distance", "silhouette"} <= set(kmeans.columns)
    for name in PNGS:
        png = data / "08_reporting" / "feature_selection" / "30s" / f"{name}.png"
        assert png.read_bytes()[:4] == b"\x89PNG", name


@pytest.mark.e2e
def test_feature_selection_3s_table_uses_the_split(kedro_project, kaggle_30s):
    """With a 3-s table and a split present, both tables are analysed and test tracks stay out."""
    tiny = kaggle_30s.groupby("label", group_keys=False).head(6).reset_index(drop=True)
    primary = kedro_project.path / "data" / "03_primary"
    tiny.to_csv(primary / "features_30_sec.csv", index=False)
    rng = np.random.default_rng(0)
    segments = []
    for k in range(2):
        part = tiny.copy()
        part[FEATURE_COLUMNS] *= 1 + 0.05 * rng.standard_normal((len(part), len(FEATURE_COLUMNS)))
        part["filename"] = [f.removesuffix(".wav") + f".{k}.wav" for f in tiny.filename]
        segments.append(part)
    pd.concat(segments).to_csv(primary / "features_3_sec.csv", index=False)
    tracks = sorted(set(track_ids(tiny.filename)))
    split = pd.DataFrame({"filename": [f"{t}.wav" for t in tracks],
                          "split": [("train", "train", "valid", "test")[i % 4] for i in range(len(tracks))]})
    raw = kedro_project.path / "data" / "01_raw" / "gtzan"
    raw.mkdir(parents=True, exist_ok=True)
    split.to_csv(raw / "fault_filtered_split.csv", index=False)
    kedro_project.write_conf("local/parameters_feature_selection.yml",
                             FAST + "  redundancy_measures: [spearman]\n")

    kedro_project.run("--pipeline", "feature_selection")
    data = kedro_project.path / "data"
    partition = pd.read_csv(data / "08_reporting" / "feature_selection" / "3s" / "partition.csv")
    test_tracks = set(track_ids(split.loc[split.split == "test", "filename"]))
    assert set(partition.loc[partition.role == "test", "track"]) == test_tracks
    selected = json.loads((data / "05_model_input" / "selected_features_3s.json").read_text())
    assert "fault_filtered split" in selected["fitted_on"]
    assert len(pd.read_csv(data / "08_reporting" / "feature_scores_3s.csv")) == len(FEATURE_COLUMNS)
    assert (data / "08_reporting" / "feature_selection" / "3s" / "correlation_heatmap.png").exists()
