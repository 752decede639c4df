"""Which model `gtzan predict` uses: a path, an MLflow URI, or the newest trained one."""

from __future__ import annotations

import ast
import os
import time
from pathlib import Path

import joblib
import mlflow
import pytest

from gtzan_kedro.cli_resolve import default_predictor, resolve_predictor
from gtzan_kedro.inference.predictor import GenrePredictor, as_predictor
from gtzan_kedro.inference.pyfunc import log_genre_model
from gtzan_kedro.inference.resolve import REGISTERED_MODEL_NAME, ModelNotFound, load_predictor

# Given explicitly, so MLflow skips inferring them in a subprocess (slow, not under test).
SKLEARN_REQS = ["scikit-learn"]


def test_bundle_path_keeps_segment_length_and_classes(model_30s, kaggle_estimator):
    predictor = load_predictor(model_30s)
    assert predictor.segment_seconds == 30.0
    assert predictor.classes == list(kaggle_estimator.classes_)
    assert "logreg on 30s features, holdout accuracy 0.700" in predictor.description


def test_bare_estimator_path_defaults_to_3s(kaggle_estimator, tmp_path):
    path = tmp_path / "bare.joblib"
    joblib.dump(kaggle_estimator, path)
    predictor = load_predictor(path)
    assert predictor.segment_seconds == 3.0 and len(predictor.classes) == 10


def test_bad_model_files(tmp_path):
    junk = tmp_path / "junk.pkl"
    junk.write_text("not a pickle")
    with pytest.raises(ModelNotFound, match="junk.pkl: not a saved model"):
        load_predictor(junk)
    joblib.dump({"weights": [1, 2]}, tmp_path / "dict.pkl")
    with pytest.raises(ModelNotFound, match="needs a 'model' key"):
        load_predictor(tmp_path / "dict.pkl")
    with pytest.raises(ModelNotFound, match="folder without an MLmodel"):
        load_predictor(tmp_path)


def test_estimator_with_integer_classes_is_refused():
    from sklearn.dummy import DummyClassifier

    model = DummyClassifier().fit([[0.0], [1.0]], [0, 1])
    with pytest.raises(ValueError, match="does not name its classes"):
        as_predictor(model)


@pytest.fixture
def tracking(tmp_path, monkeypatch):
    """A throwaway sqlite MLflow store for this test."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    yield uri
    mlflow.set_tracking_uri(None)


def test_mlflow_run_uri_pyfunc_and_sklearn_flavor(model_30s, kaggle_estimator, tracking):
    predictor = load_predictor(model_30s)
    with mlflow.start_run() as run:
        log_genre_model(predictor)
        mlflow.sklearn.log_model(kaggle_estimator, name="sk", metadata={"features": "30s"},
                                 pip_requirements=SKLEARN_REQS)
    with mlflow.start_run(tags={"model": "logreg", "features": "30s"}) as tagged:  # audio_models' way
        mlflow.sklearn.log_model(kaggle_estimator, name="model", pip_requirements=SKLEARN_REQS)
    assert load_predictor(f"runs:/{tagged.info.run_id}/model").segment_seconds == 30.0
    from_pyfunc = load_predictor(f"runs:/{run.info.run_id}/genre_model")
    assert isinstance(from_pyfunc, GenrePredictor)
    assert from_pyfunc.classes == predictor.classes and from_pyfunc.segment_seconds == 30.0
    from_sklearn = load_predictor(f"runs:/{run.info.run_id}/sk")
    assert from_sklearn.segment_seconds == 30.0 and from_sklearn.classes == predictor.classes
    with pytest.raises(ModelNotFound, match="cannot load the MLflow model"):
        load_predictor(f"runs:/{run.info.run_id}/no_such_model")


def test_default_is_the_newest_of_catalog_file_and_registry(kedro_project, model_30s, model_3s,
                                                          monkeypatch):
    """best_audio_model (catalog of audio_models) vs the registered gtzan_genre model."""
    root = kedro_project.path
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(ModelNotFound, match="make run"):
        default_predictor(root)

    best = root / "data" / "06_models" / "best_audio_model.pkl"
    best.parent.mkdir(parents=True, exist_ok=True)
    best.write_bytes(model_3s.read_bytes())
    os.utime(best, (time.time() - 3600, time.time() - 3600))  # trained an hour ago
    assert default_predictor(root).segment_seconds == 3.0

    mlflow.set_tracking_uri(f"sqlite:///{root / 'mlflow.db'}")
    try:
        with mlflow.start_run():
            log_genre_model(load_predictor(model_30s), registered_model_name=REGISTERED_MODEL_NAME)
        newer = default_predictor(root)
        assert newer.segment_seconds == 30.0 and REGISTERED_MODEL_NAME in newer.description
        os.utime(best, None)  # retrained after the registration: the file wins again
        assert resolve_predictor(None, project_root=root).segment_seconds == 3.0
        assert resolve_predictor(str(model_30s), project_root=root).segment_seconds == 30.0
    finally:
        mlflow.set_tracking_uri(None)


def test_inference_library_imports_no_kedro():
    """The catalog/conf lookup lives in the CLI layer (cli_resolve); inference/ is plain library."""
    import gtzan_kedro.inference as package

    for source in sorted(Path(package.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n == "kedro" or n.startswith(("kedro.", "kedro_", "gtzan_kedro.cli"))
                           for n in names), f"{source.name} imports {names}"
