"""The genre model as one MLflow pyfunc: audio in, genres out, servable by `mlflow models serve`.

A request is a table, one song per row: ``audio_base64`` (the file's bytes) with an optional
``filename`` (its extension tells the decoder the container). A ``path`` column is read only
when the server was started with an allowed folder (see ``serving``). Every row gets an
answer: a genre, or an ``error`` that names at most the file name the client sent.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import pandas as pd

from gtzan_kedro.audio.io import AudioError
from gtzan_kedro.inference.predictor import GenrePredictor
from gtzan_kedro.inference.requirements import serving_requirements
from gtzan_kedro.inference.serving import (
    MAX_ROWS_ENV,
    MAX_SECONDS_ENV,
    MAX_UPLOAD_MB_ENV,
    MB,
    PATH_REFUSED,
    PATHS_DISABLED,
    ServingLimits,
    allowed_file,
    decoded_size,
)

logger = logging.getLogger(__name__)

PATH_COLUMN = "path"
BYTES_COLUMN = "audio_base64"
NAME_COLUMN = "filename"
OUTPUT_COLUMNS = [
    "filename", "genre", "probability", "vote_genre", "vote_share",
    "n_segments", "top", "segments", "note", "error",
]
# The longest client file name echoed back (a name, not a payload).
MAX_NAME_CHARS = 200


class GenrePyfuncModel(mlflow.pyfunc.PythonModel):
    """Feature extraction, scaling and classifier of a GenrePredictor behind MLflow's predict.

    Output: one row per input row with the song's genre, its mean probability, the majority
    vote, the top-3 and the per-segment genres (JSON strings), ``note`` (e.g. that a long song
    was classified on its first segments) and ``error`` (empty on success; on failure it says
    why and the genre fields are empty). ``predict`` never raises: MLflow's server would send
    the traceback to the client.
    """

    def __init__(self, predictor: GenrePredictor, limits: ServingLimits | None = None):
        self.predictor = predictor
        self.limits = limits or ServingLimits()

    def load_context(self, context) -> None:
        """The limits it was packaged with, unless the serving machine's settings say otherwise;
        the allowed folder only ever from the serving machine."""
        # getattr: a model registered before limits existed unpickles without them
        self.limits = ServingLimits.from_config(getattr(context, "model_config", None),
                                                base=getattr(self, "limits", None))
        logger.info("genre model limits: %s", self.limits)

    def predict(
        self, context, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        try:
            records = _as_frame(model_input).to_dict(orient="records")
        except Exception as exc:  # not a table: one error row, no traceback
            return pd.DataFrame([_error_row("", f"cannot read the request as a table ({type(exc).__name__}); "
                                                "send dataframe_split or dataframe_records")],
                                columns=OUTPUT_COLUMNS)
        rows = []
        for index, record in enumerate(records):
            if index >= self.limits.max_rows:
                rows.append(_error_row(_client_name(record), (
                    f"not read: the request has {len(records)} rows and this server answers at most "
                    f"{self.limits.max_rows} per request ({MAX_ROWS_ENV}); send the rest in another request")))
            else:
                rows.append(self._answer(record))
        return pd.DataFrame(rows, columns=OUTPUT_COLUMNS)

    def _answer(self, record: dict) -> dict:
        name = _client_name(record)
        try:
            if _text(record.get(BYTES_COLUMN)):
                return self._predict_upload(record[BYTES_COLUMN], name or "upload")
            if _text(record.get(PATH_COLUMN)):
                return self._predict_server_path(record[PATH_COLUMN], name)
            return _error_row(name, f"row has neither {BYTES_COLUMN} nor {PATH_COLUMN}")
        except Exception:  # a bug or a decoder crash is this row's problem, and stays on the server
            logger.exception("genre model failed on row %r", name)
            return _error_row(name, f"{name or 'row'}: could not be classified (internal error)")

    def _predict_upload(self, encoded: str, name: str) -> dict:
        limit = self.limits.max_upload_bytes
        if decoded_size(encoded) > limit:
            return _error_row(name, f"{name}: upload too large: {decoded_size(encoded) / MB:.1f} MB, "
                                    f"the limit is {limit / MB:g} MB ({MAX_UPLOAD_MB_ENV})")
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return _error_row(name, f"{name}: audio_base64 is not valid base64")
        # soundfile reads from a file; the suffix tells it the container.
        suffix = Path(name).suffix.lower() if Path(name).suffix else ".wav"
        fd, tmp = tempfile.mkstemp(suffix=suffix if suffix.isascii() and len(suffix) <= 8 else ".wav")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            return self._predict_local(tmp, name)
        finally:
            os.unlink(tmp)

    def _predict_server_path(self, sent: str, name: str) -> dict:
        name = name or _basename(sent)
        if self.limits.allowed_dir is None:
            return _error_row(name, PATHS_DISABLED)
        path = allowed_file(sent, self.limits.allowed_dir)
        if path is None:
            return _error_row(name, PATH_REFUSED)
        if path.stat().st_size > self.limits.max_upload_bytes:
            return _error_row(name, f"{name}: file too large: {path.stat().st_size / MB:.1f} MB, the limit "
                                    f"is {self.limits.max_upload_bytes / MB:g} MB ({MAX_UPLOAD_MB_ENV})")
        return self._predict_local(str(path), name)

    def _predict_local(self, path: str, name: str) -> dict:
        """Classify a file on this machine; errors name ``name``, never ``path``."""
        try:
            result = self.predictor.predict_file(path, max_seconds=self.limits.max_seconds)
        except AudioError as exc:
            return _error_row(name, f"{name}: {exc.reason.replace(path, name)}")
        except Exception as exc:  # a decoder's own message may carry the server's temp path
            logger.warning("genre model could not classify %r: %s", name, exc)
            return _error_row(name, f"{name}: could not be decoded or classified ({type(exc).__name__})")
        result["file"] = name
        if result.get("note"):
            result["note"] += f" (the server's limit is {self.limits.max_seconds:g} s, {MAX_SECONDS_ENV})"
        return flatten_result(result)


def flatten_result(result: dict) -> dict:
    """One flat output row of a predictor result (lists as JSON strings)."""
    if "error" in result:
        return _error_row(result["file"], result["error"])
    return {
        "filename": result["file"],
        "genre": result["genre"],
        "probability": result["probability"],
        "vote_genre": result["vote"]["genre"],
        "vote_share": result["vote"]["votes"] / result["vote"]["of"],
        "n_segments": result["n_segments"],
        "top": json.dumps(result["top"]),
        "segments": json.dumps(result["segments"]),
        "note": result.get("note", ""),
        "error": "",
    }


def _error_row(name: str, error: str) -> dict:
    # Empty strings and zeros, not NaN: NaN is not valid JSON for the server's clients.
    return {"filename": name, "genre": "", "probability": 0.0, "vote_genre": "",
            "vote_share": 0.0, "n_segments": 0, "top": "[]", "segments": "[]", "note": "",
            "error": error}


def _client_name(record: dict) -> str:
    """The file name the client gave (its last path part), or the last part of its path."""
    name = _text(record.get(NAME_COLUMN)) or _text(record.get(PATH_COLUMN)) or ""
    return _basename(name)


def _basename(text: str) -> str:
    return Path(text.replace("\\", "/")).name[:MAX_NAME_CHARS] if text else ""


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
        pip_requirements=serving_requirements(),
    )
