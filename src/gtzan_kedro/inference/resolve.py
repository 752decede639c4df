"""Load a genre model from a path or MLflow URI; pick the newest of several candidates.

No Kedro here: which candidates a project has (its catalog's best model file, its MLflow
store) is the command-line layer's business (``gtzan_kedro.cli_resolve``).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gtzan_kedro.inference.predictor import GenrePredictor, as_predictor

logger = logging.getLogger(__name__)

# The catalog entry audio_models saves its best model to, and the registry name the
# inference pipeline registers the servable model under.
BEST_MODEL_ENTRY = "best_audio_model"
REGISTERED_MODEL_NAME = "gtzan_genre"
MLFLOW_URI_SCHEMES = ("runs:/", "models:/", "mlflow-artifacts:/")
TRAIN_HINT = (
    "train one with `make run` (or `kedro run --pipeline audio_models`), "
    "or pass --model PATH|MLFLOW_URI"
)


class ModelNotFound(Exception):
    """No usable genre model: ``str()`` says where we looked and how to get one."""


@dataclass(frozen=True)
class Candidate:
    """A model we could use, with the time it was made (newest wins)."""

    source: str
    timestamp: float
    load: Any  # () -> GenrePredictor


def set_tracking_uri(project_root: Path | None) -> str | None:
    """Point MLflow at the project's sqlite store unless MLFLOW_TRACKING_URI says otherwise."""
    import mlflow

    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if not uri and project_root is not None:
        uri = f"sqlite:///{project_root / 'mlflow.db'}"
    if uri:
        mlflow.set_tracking_uri(uri)
    return uri


def load_predictor(model: str | Path, project_root: Path | None = None) -> GenrePredictor:
    """A GenrePredictor from a pickle/joblib file, an MLflow model folder or an MLflow URI."""
    text = str(model)
    path = Path(text)
    if text.startswith(MLFLOW_URI_SCHEMES) or (path.is_dir() and (path / "MLmodel").is_file()):
        if not path.exists():
            set_tracking_uri(project_root)
        return _load_mlflow_predictor(text)
    if path.is_dir():
        raise ModelNotFound(f"{path}: a folder without an MLmodel file is not an MLflow model")
    if not path.is_file():
        raise ModelNotFound(f"{path}: no such model file (expected a .pkl/.joblib file or an MLflow URI)")
    import joblib

    try:
        obj = joblib.load(path)
    except Exception as exc:  # pickle raises many unrelated types for a wrong file
        raise ModelNotFound(f"{path}: not a saved model ({type(exc).__name__}: {exc})") from None
    try:
        return as_predictor(obj, description=str(path))
    except (TypeError, ValueError) as exc:
        raise ModelNotFound(f"{path}: {exc}") from None


def _load_mlflow_predictor(uri: str) -> GenrePredictor:
    import mlflow.pyfunc

    from gtzan_kedro.inference.pyfunc import GenrePyfuncModel

    try:
        pyfunc_model = mlflow.pyfunc.load_model(uri)
    except Exception as exc:  # MLflow raises MlflowException, OSError, ... for a bad URI
        raise ModelNotFound(f"{uri}: cannot load the MLflow model ({_first_line(exc)})") from None
    try:
        inner = pyfunc_model.unwrap_python_model()
    except Exception:  # not a python_model pyfunc (e.g. the sklearn flavor)
        inner = None
    if isinstance(inner, GenrePyfuncModel):
        predictor = inner.predictor  # unpickled afresh on every load: ours to relabel
        predictor.description = f"{uri}: {predictor.description}" if predictor.description else uri
        return predictor
    metadata = dict(pyfunc_model.metadata.metadata or {})
    if "features" not in metadata and "segment_seconds" not in metadata:
        # audio_models tags each model's run with its feature table ("30s" or "3s")
        metadata.update(_run_features_tag(pyfunc_model.metadata.run_id))
    flavors = pyfunc_model.metadata.flavors
    try:
        if "sklearn" in flavors:
            import mlflow.sklearn

            estimator = mlflow.sklearn.load_model(uri)
        elif "keras" in flavors:
            import mlflow.keras

            estimator = mlflow.keras.load_model(uri)
        else:
            raise ModelNotFound(f"{uri}: an MLflow model of flavors {sorted(flavors)} is not a genre model")
        return as_predictor({"model": estimator, **metadata}, description=uri)
    except (TypeError, ValueError) as exc:
        raise ModelNotFound(f"{uri}: {exc}") from None


def _run_features_tag(run_id: str | None) -> dict:
    if not run_id:
        return {}
    from mlflow import MlflowClient

    try:
        tags = MlflowClient().get_run(run_id).data.tags
    except Exception:  # the run may live in a store we cannot reach; 3-s is the default
        return {}
    return {"features": tags["features"]} if tags.get("features") else {}


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else type(exc).__name__


def registry_candidate(project_root: Path | None) -> Candidate | None:
    """The newest version of the registered servable genre model, when MLflow has one."""
    has_remote = bool(os.environ.get("MLFLOW_TRACKING_URI"))
    if not has_remote and (project_root is None or not (project_root / "mlflow.db").exists()):
        return None
    from mlflow import MlflowClient

    set_tracking_uri(project_root)
    try:
        versions = MlflowClient().search_model_versions(f"name = '{REGISTERED_MODEL_NAME}'")
    except Exception as exc:  # an old or locked store: report, fall back to local files
        logger.warning("could not search the MLflow registry: %s", _first_line(exc))
        return None
    if not versions:
        return None
    newest = max(versions, key=lambda v: int(v.version))
    uri = f"models:/{REGISTERED_MODEL_NAME}/{newest.version}"
    return Candidate(uri, newest.creation_timestamp / 1000.0, lambda: _load_mlflow_predictor(uri))


def newest_predictor(candidates: list[Candidate], where: str) -> GenrePredictor:
    """Load the newest candidate that loads; ModelNotFound says what was tried and how to train."""
    if not candidates:
        raise ModelNotFound(
            f"no trained genre model found {where}: looked for the catalog entry "
            f"'{BEST_MODEL_ENTRY}' and the MLflow registered model '{REGISTERED_MODEL_NAME}'; "
            + TRAIN_HINT
        )
    errors = []
    for candidate in sorted(candidates, key=lambda c: c.timestamp, reverse=True):
        try:
            return candidate.load()
        except (ModelNotFound, TypeError, ValueError, OSError) as exc:
            errors.append(f"{candidate.source}: {exc}")
    raise ModelNotFound("no usable genre model: " + "; ".join(errors) + "; " + TRAIN_HINT)
