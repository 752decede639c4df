"""The inference pipeline: in-process on a DataCatalog of tiny data, the catalog's servable-model
entry registering `gtzan_genre`, and one `kedro run --pipeline inference` end to end."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from gtzan_kedro.audio.features import FEATURE_COLUMNS
from gtzan_kedro.inference.pyfunc import GenrePyfuncModel
from gtzan_kedro.inference.requirements import serving_requirements
from gtzan_kedro.inference.serving import ServingLimits
from gtzan_kedro.pipelines.inference import create_pipeline

REPO_ROOT = Path(__file__).resolve().parents[3]
GENRES = ["blues", "classical", "rock"]
PARAMS = {"segment_seconds": None, "extractor": "fast",
          "serving": {"max_upload_mb": 5, "max_seconds": 60, "max_rows": 4}}


def _tiny_bundle() -> dict:
    """A logistic regression on random Kaggle-column rows: plumbing, not a real genre model."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(30, len(FEATURE_COLUMNS))), columns=FEATURE_COLUMNS)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, GENRES * 10)
    return {"model": model, "classes": GENRES, "features": "3s", "name": "tiny"}


def _tone(path: Path, seconds: float, silent: bool = False) -> Path:
    t = np.arange(int(seconds * 22050)) / 22050
    sf.write(path, np.zeros_like(t) if silent else 0.3 * np.sin(2 * np.pi * 440 * t) * (1 + t % 1), 22050)
    return path


def _run_in_process(inbox: pd.DataFrame) -> dict:
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.runner import SequentialRunner

    catalog = DataCatalog({"best_audio_model": MemoryDataset(_tiny_bundle()),
                           "inference_inbox": MemoryDataset(inbox),
                           "params:inference": MemoryDataset(PARAMS)})
    outputs = SequentialRunner().run(create_pipeline(), catalog)
    return {name: dataset.load() for name, dataset in outputs.items()}


def test_pipeline_in_process_classifies_the_inbox_and_packages_the_model(tmp_path):
    files = [_tone(tmp_path / "tone.wav", 7.0), _tone(tmp_path / "quiet.wav", 4.0, silent=True),
             tmp_path / "broken.ogg"]
    files[2].write_bytes(b"OggS but not really")
    outputs = _run_in_process(pd.DataFrame({"path": [str(f) for f in files]}))
    assert set(outputs) == {"genre_pyfunc_model", "inbox_predictions"}
    table = outputs["inbox_predictions"]
    assert list(table["file"]) == [str(f) for f in files]
    tone, quiet, broken = table.to_dict("records")
    assert tone["n_segments"] == 2 and tone["genre"] in GENRES and pd.isna(tone["error"])
    assert "silent" in quiet["error"] and "broken.ogg" in broken["error"]
    servable = outputs["genre_pyfunc_model"]
    assert isinstance(servable, GenrePyfuncModel)
    assert servable.limits == ServingLimits(max_upload_bytes=5_000_000, max_seconds=60.0, max_rows=4)
    assert servable.predictor.classes == GENRES and servable.predictor.segment_seconds == 3.0


def test_empty_inbox_gives_an_empty_table(tmp_path):
    table = _run_in_process(pd.DataFrame({"path": pd.Series([], dtype=object)}))["inbox_predictions"]
    assert len(table) == 0 and "genre" in table.columns


def test_catalog_entry_registers_the_servable_model_with_the_project_pins(tmp_path, monkeypatch):
    """conf/base's genre_pyfunc_model (kedro-mlflow) logs and registers what the node returns."""
    import mlflow
    from kedro.config import OmegaConfigLoader
    from kedro.io import DataCatalog
    from mlflow import MlflowClient

    from gtzan_kedro import settings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        conf = OmegaConfigLoader(str(REPO_ROOT / "conf"), **settings.CONFIG_LOADER_ARGS)["catalog"]
    catalog = DataCatalog.from_config({"genre_pyfunc_model": conf["genre_pyfunc_model"]})
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(uri)
    try:
        from gtzan_kedro.inference.predictor import as_predictor

        with mlflow.start_run():
            catalog.save("genre_pyfunc_model", GenrePyfuncModel(as_predictor(_tiny_bundle())))
        (version,) = MlflowClient().search_model_versions("name = 'gtzan_genre'")
        served = mlflow.pyfunc.load_model("models:/gtzan_genre/latest")  # what `make serve` loads
        requirements = Path(mlflow.artifacts.download_artifacts(
            f"models:/gtzan_genre/{version.version}/requirements.txt")).read_text().split()
    finally:
        mlflow.set_tracking_uri(None)
    assert requirements == serving_requirements()
    assert served.unwrap_python_model().predictor.classes == GENRES


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
