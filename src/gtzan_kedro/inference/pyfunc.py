"""The genre model as one MLflow pyfunc: audio in, genres out, servable by `mlflow models serve`."""

from __future__ import annotations

import base64
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import pandas as pd

from gtzan_kedro.inference.predictor import GenrePredictor

# Input columns a request may use, one per row: a path the server can read, or the file's
# bytes as base64 (what a remote client sends).
PATH_COLUMN = "path"
BYTES_COLUMN = "audio_base64"
NAME_COLUMN = "filename"
OUTPUT_COLUMNS = [
    "filename", "genre", "probability", "vote_genre", "vote_share",
    "n_segments", "top", "segments", "error",
]
# What the served model needs at runtime; `--env-manager local` uses the current venv instead.
PIP_REQUIREMENTS = [
    "librosa~=0.11.0", "soundfile>=0.13", "soxr>=0.5", "scikit-learn~=1.9.0",
    "numpy>=2", "pandas>=3", "bottleneck>=1.4", "mlflow>=3.17",
]


class GenrePyfuncModel(mlflow.pyfunc.PythonModel):
    """Feature extraction, scaling and classifier of a GenrePredictor behind MLflow's predict.

    Input: a DataFrame with a ``path`` or an ``audio_base64`` column (optional
    ``filename``). Output: one row per input with the song's genre, its mean probability,
    the majority vote, the top-3 and the per-segment genres (JSON strings), and ``error``
    (empty on success; on failure it names the problem and the other fields are empty).
    """

    def __init__(self, predictor: GenrePredictor):
        self.predictor = predictor

    def predict(
        self, context, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        frame = _as_frame(model_input)
        if PATH_COLUMN not in frame and BYTES_COLUMN not in frame:
            raise ValueError(
                f"input needs a '{PATH_COLUMN}' or '{BYTES_COLUMN}' column, got {list(frame.columns)}"
            )
        rows = [self._predict_row(row) for row in frame.to_dict(orient="records")]
        return pd.DataFrame(rows, columns=OUTPUT_COLUMNS)

    def _predict_row(self, row: dict) -> dict:
        encoded, path, name = (_text(row.get(c)) for c in (BYTES_COLUMN, PATH_COLUMN, NAME_COLUMN))
        if encoded:
            result = self._predict_bytes(encoded, name or "upload")
        elif path:
            result = self.predictor.safe_predict_file(path)
            result["file"] = name or path
        else:
            result = {"file": name or "", "error": "row has neither a path nor audio_base64"}
        return flatten_result(result)

    def _predict_bytes(self, encoded: str, name: str) -> dict:
        try:
            data = base64.b64decode(encoded, validate=True)
        except ValueError as exc:
            return {"file": name, "error": f"{name}: audio_base64 is not valid base64 ({exc})"}
        # soundfile and librosa read from a path; the suffix tells them the container.
        suffix = Path(name).suffix if Path(name).suffix else ".wav"
        fd, tmp = tempfile.mkstemp(suffix=suffix)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            result = self.predictor.safe_predict_file(tmp)
        finally:
            os.unlink(tmp)
        result["file"] = name
        if "error" in result:
            result["error"] = result["error"].replace(tmp, name)
        return result


def flatten_result(result: dict) -> dict:
    """One flat output row of a predictor result (lists as JSON strings)."""
    if "error" in result:
        # Empty strings and zeros, not NaN: NaN is not valid JSON for the server's clients.
        return {"filename": result["file"], "genre": "", "probability": 0.0, "vote_genre": "",
                "vote_share": 0.0, "n_segments": 0, "top": "[]", "segments": "[]",
                "error": result["error"]}
    return {
        "filename": result["file"],
        "genre": result["genre"],
        "probability": result["probability"],
        "vote_genre": result["vote"]["genre"],
        "vote_share": result["vote"]["votes"] / result["vote"]["of"],
        "n_segments": result["n_segments"],
        "top": json.dumps(result["top"]),
        "segments": json.dumps(result["segments"]),
        "error": "",
    }


def _text(value: Any) -> str | None:
    """A non-empty string cell, else None (records missing a column arrive as NaN)."""
    return value if isinstance(value, str) and value else None


def _as_frame(model_input: Any) -> pd.DataFrame:
    if isinstance(model_input, pd.DataFrame):
        return model_input
    if isinstance(model_input, dict):
        return pd.DataFrame({k: v if isinstance(v, list) else [v] for k, v in model_input.items()})
    if isinstance(model_input, list):
        return pd.DataFrame(model_input)
    raise TypeError(f"cannot read a {type(model_input).__name__} as genre-model input")


def log_genre_model(
    predictor: GenrePredictor, name: str = "genre_model", registered_model_name: str | None = None
):
    """Log ``predictor`` as a pyfunc model in the active MLflow run; returns MLflow's ModelInfo."""
    return mlflow.pyfunc.log_model(
        name=name,
        python_model=GenrePyfuncModel(predictor),
        registered_model_name=registered_model_name,
        pip_requirements=PIP_REQUIREMENTS,
    )
