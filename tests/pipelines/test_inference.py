"""`kedro run --pipeline inference`: the inbox classified into predictions.csv, model registered."""

from __future__ import annotations

import shutil

import joblib
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from gtzan_kedro.audio.features import FEATURE_COLUMNS


@pytest.mark.e2e
@pytest.mark.shared_data
def test_inference_pipeline_on_a_tiny_inbox(kedro_project, kaggle_30s, shared_data):
    root = kedro_project.path
    y = np.asarray(kaggle_30s["label"], dtype=object)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(kaggle_30s[FEATURE_COLUMNS].astype(float), y)
    # what audio_models' select_best_model saves through the best_audio_model entry
    joblib.dump({"model": model, "classes": list(model.classes_), "features": "30s", "name": "logreg"},
                root / "data" / "06_models" / "best_audio_model.pkl")
    inbox = root / "data" / "01_raw" / "inbox"
    (inbox / "friends").mkdir(parents=True)
    shutil.copy(shared_data("gtzan/audio_sample/blues.00099.mp3"), inbox / "blues.00099.mp3")
    sf.write(inbox / "friends" / "quiet.wav", np.zeros(22050 * 31), 22050)
    (inbox / "broken.ogg").write_bytes(b"OggS but not really")

    kedro_project.run("--pipeline", "inference")

    table = pd.read_csv(root / "data" / "07_model_output" / "predictions.csv")
    by_name = {path.rsplit("/", 1)[1]: row for path, row in zip(table["file"], table.to_dict("records"))}
    assert set(by_name) == {"blues.00099.mp3", "quiet.wav", "broken.ogg"}
    blues = by_name["blues.00099.mp3"]
    assert blues["genre"] == "blues" and blues["vote_genre"] == "blues" and blues["n_segments"] == 1
    assert blues["probability"] >= blues["probability_2"] >= blues["probability_3"]
    assert pd.isna(blues["error"])
    assert "silent" in by_name["quiet.wav"]["error"]
    assert "broken.ogg" in by_name["broken.ogg"]["error"] and pd.isna(by_name["broken.ogg"]["genre"])

    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(f"sqlite:///{root / 'mlflow.db'}")
    try:
        versions = MlflowClient().search_model_versions("name = 'gtzan_genre'")
        assert len(versions) == 1
    finally:
        mlflow.set_tracking_uri(None)
