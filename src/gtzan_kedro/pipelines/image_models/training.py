"""Train-and-score loop shared by the image_models and multimodal pipelines: one Keras model
per split of each protocol, per-epoch curves in MLflow, segment- and song-level metrics."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gtzan_kedro.evaluation.runner import COMPARISON_COLUMNS

logger = logging.getLogger(__name__)


@dataclass
class SampleSet:
    """Model inputs (one array, or a list for multi-input models) with one label and one
    track per sample (a 3-s segment or a 30-s slice)."""

    inputs: np.ndarray | list[np.ndarray]
    labels: np.ndarray
    track_ids: np.ndarray
    classes: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.labels = np.asarray(self.labels, dtype=object)
        self.track_ids = np.asarray(self.track_ids, dtype=object)
        if not self.classes:
            self.classes = sorted(set(self.labels))
        n = len(self.labels)
        for arr in self.input_list:
            if len(arr) != n:
                raise ValueError(f"inputs have {len(arr)} samples but there are {n} labels")

    @property
    def input_list(self) -> list[np.ndarray]:
        return self.inputs if isinstance(self.inputs, list) else [self.inputs]

    @property
    def codes(self) -> np.ndarray:
        lookup = {c: i for i, c in enumerate(self.classes)}
        return np.array([lookup[v] for v in self.labels], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.labels)


# --- splits ---------------------------------------------------------------------------------

def protocol_splits(samples: SampleSet, protocol: str, params: dict[str, Any],
                    split_table: pd.DataFrame | None = None) -> list:
    """The shared evaluation splits of ``protocol`` over samples grouped by track; an empty
    list (with a warning) when the split file does not cover this corpus."""
    from gtzan_kedro.evaluation.splits import make_splits

    n_splits = params.get("n_holdouts", 10) if protocol == "holdout" else params.get("n_leaky", 1)
    try:
        return make_splits(protocol, samples.track_ids, samples.labels, split_table=split_table,
                           n_splits=int(n_splits), test_size=float(params.get("test_size", 0.2)),
                           val_size=float(params.get("val_size", 0.2)),
                           random_state=int(params.get("seed", 42)))
    except ValueError as exc:
        if protocol != "fault_filtered":
            raise
        logger.warning("fault_filtered skipped: %s", exc)
        return []


# --- Keras fitting with MLflow curves ----------------------------------------------------------

def _mlflow_active() -> bool:
    try:
        import mlflow

        return mlflow.active_run() is not None
    except ImportError:  # pragma: no cover - mlflow is a project dependency
        return False


def epoch_logger(prefix: str):
    """A Keras callback that logs every epoch's loss/accuracy (train and validation) to the
    active MLflow run as metric history (step = epoch)."""
    import keras
    import mlflow

    class MlflowEpochLogger(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if logs and mlflow.active_run() is not None:
                mlflow.log_metrics({f"{prefix}{k}": float(v) for k, v in logs.items()
                                    if np.isscalar(v)}, step=epoch)

    return MlflowEpochLogger()


def _standardise(samples: SampleSet, train: np.ndarray, standardise: list[str]) -> list[np.ndarray]:
    """Scale each input with statistics of the training samples only: 'scalar' (one mean and
    std), 'column' (per feature, for tabular inputs) or 'none'."""
    scaled = []
    for arr, how in zip(samples.input_list, standardise):
        arr = np.asarray(arr, dtype=np.float32)
        if how == "scalar":
            ref = arr[train]
            arr = (arr - float(ref.mean())) / (float(ref.std()) + 1e-6)
        elif how == "column":
            ref = arr[train]
            arr = (arr - ref.mean(axis=0)) / (ref.std(axis=0) + 1e-6)
        elif how != "none":
            raise ValueError(f"standardise must be scalar, column or none, got {how!r}")
        scaled.append(arr)
    return scaled


def evaluate_keras(
    model_name: str,
    features: str,
    build: Callable[[int], Any],
    samples: SampleSet,
    protocols: list[str],
    eval_params: dict[str, Any],
    fit_params: dict[str, Any],
    split_table: pd.DataFrame | None = None,
    standardise: list[str] | None = None,
    log_params: dict[str, Any] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fit ``build(n_classes)`` on every split of every protocol and score it on the test part
    with the shared evaluation runner (segment- and song-level metrics).

    Returns comparison rows and confusion-matrix figures keyed ``<model>_<protocol>``. Each
    protocol is a nested MLflow run with the per-epoch curves of each split (``split<k>.loss``
    ...), the metrics, per-class scores, the confusion matrix and optionally the last model.
    """
    import keras
    import mlflow

    from gtzan_kedro.evaluation.plots import confusion_matrix_figure, training_curves_figure
    from gtzan_kedro.evaluation.runner import SplitPrediction, comparison_frame, run_protocol

    standardise = standardise or ["scalar"] * len(samples.input_list)
    classes = np.asarray(samples.classes, dtype=object)
    codes = samples.codes
    batch_size = int(fit_params.get("batch_size", 32))
    rows, figures = [], {}
    for protocol in protocols:
        splits = protocol_splits(samples, protocol, eval_params, split_table)
        if not splits:
            continue
        tracking = _mlflow_active()
        run = mlflow.start_run(run_name=f"{model_name}/{protocol}", nested=True) if tracking else None
        try:
            if tracking:
                mlflow.log_params({"model": model_name, "features": features, "protocol": protocol,
                                   "n_splits": len(splits), **(log_params or {})})
            split_number = {split.name: k for k, split in enumerate(splits)}

            def fit_predict(split):
                k = split_number[split.name]
                keras.backend.clear_session()
                keras.utils.set_random_seed(int(eval_params.get("seed", 42)) + k)
                inputs = _standardise(samples, split.train, standardise)

                def pick(idx):
                    return [a[idx] for a in inputs] if len(inputs) > 1 else inputs[0][idx]

                model = build(len(classes))
                callbacks = [epoch_logger(f"split{k}.")]
                patience = fit_params.get("early_stopping_patience")
                validation = (pick(split.val), codes[split.val]) if len(split.val) else None
                if patience and validation is not None:
                    callbacks.append(keras.callbacks.EarlyStopping(
                        monitor="val_loss", patience=int(patience), restore_best_weights=True))
                history = model.fit(pick(split.train), codes[split.train], validation_data=validation,
                                    epochs=int(fit_params.get("epochs", 10)), batch_size=batch_size,
                                    callbacks=callbacks, verbose=int(fit_params.get("verbose", 0)))
                proba = np.asarray(model.predict(pick(split.test), verbose=0, batch_size=batch_size))
                return SplitPrediction(test_proba=proba, model=model, history=history.history)

            result = run_protocol(fit_predict, splits, samples.labels, classes, model=model_name,
                                  features=features, protocol=protocol, groups=samples.track_ids)
            rows.append(result.row)
            fig = confusion_matrix_figure(
                result.confusion, classes,
                title=f"{model_name} on {features}, {protocol} ({len(splits)} split(s))")
            figures[f"{model_name}_{protocol}"] = fig
            if tracking:
                mlflow.log_metrics({k: float(v) for k, v in result.row.items()
                                    if isinstance(v, (int, float, np.number)) and pd.notna(v)})
                mlflow.log_figure(fig, f"confusion_{model_name}_{protocol}.png")
                mlflow.log_text(result.per_class.to_csv(), f"per_class_{model_name}_{protocol}.csv")
                last = result.predictions[-1]
                curves = training_curves_figure(last.history or {},
                                                f"{model_name} {protocol}, last split")
                mlflow.log_figure(curves, f"curves_{model_name}_{protocol}.png")
                if fit_params.get("log_model", True) and last.model is not None:
                    with tempfile.TemporaryDirectory() as tmp:
                        path = Path(tmp) / f"{model_name}.keras"
                        last.model.save(path)
                        mlflow.log_artifact(str(path), artifact_path="model")
            for prediction in result.predictions:
                prediction.model = None  # free the Keras graphs before the next protocol
        finally:
            if run is not None:
                mlflow.end_run()
    return (comparison_frame(rows) if rows else pd.DataFrame(columns=COMPARISON_COLUMNS)), figures
