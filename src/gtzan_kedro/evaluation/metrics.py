"""Classification metrics on predicted probabilities: accuracy, macro AUROC/AUPRC, per class."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    confusion_matrix,
    precision_recall_fscore_support,
    roc_auc_score,
)

logger = logging.getLogger(__name__)


def _check(y_true: Sequence, proba: np.ndarray, classes: Sequence) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true, dtype=object)
    proba = np.asarray(proba, dtype=float)
    classes = np.asarray(classes, dtype=object)
    if proba.ndim != 2 or proba.shape != (len(y_true), len(classes)):
        raise ValueError(f"proba has shape {proba.shape}; expected ({len(y_true)}, {len(classes)}) "
                         "(rows x classes, columns in the order of `classes`)")
    unknown = set(y_true) - set(classes)
    if unknown:
        raise ValueError(f"labels {sorted(map(str, unknown))} are not among the classes")
    return y_true, proba, classes


def macro_auroc(y_true: Sequence, proba: np.ndarray, classes: Sequence) -> float:
    """One-vs-rest AUROC averaged over the classes present in ``y_true`` (NaN if fewer than 2)."""
    y_true, proba, classes = _check(y_true, proba, classes)
    scores = [roc_auc_score(y_true == c, proba[:, j]) for j, c in enumerate(classes)
              if 0 < np.sum(y_true == c) < len(y_true)]
    return float(np.mean(scores)) if scores else float("nan")


def macro_auprc(y_true: Sequence, proba: np.ndarray, classes: Sequence) -> float:
    """One-vs-rest average precision averaged over the classes present in ``y_true``."""
    y_true, proba, classes = _check(y_true, proba, classes)
    scores = [average_precision_score(y_true == c, proba[:, j]) for j, c in enumerate(classes)
              if np.any(y_true == c)]
    return float(np.mean(scores)) if scores else float("nan")


def per_class_report(y_true: Sequence, y_pred: Sequence, classes: Sequence) -> pd.DataFrame:
    """Precision, recall, F1 and support per class (index: class)."""
    precision, recall, f1, support = precision_recall_fscore_support(
        np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object),
        labels=list(classes), zero_division=0)
    return pd.DataFrame({"precision": precision, "recall": recall, "f1": f1, "support": support},
                        index=pd.Index(list(classes), name="class"))


def classification_metrics(y_true: Sequence, proba: np.ndarray, classes: Sequence,
                           prefix: str = "") -> dict:
    """Scalar metrics (``accuracy``, ``auroc``, ``auprc``, ``f1_macro``) plus ``confusion``
    (ndarray, rows true, columns predicted, in ``classes`` order) and ``per_class`` (DataFrame).

    ``prefix`` (e.g. ``"train_"``) is put before the scalar names only.
    """
    y_true, proba, classes = _check(y_true, proba, classes)
    y_pred = classes[np.argmax(proba, axis=1)]
    report = per_class_report(y_true, y_pred, classes)
    return {
        f"{prefix}accuracy": float(accuracy_score(y_true, y_pred)),
        f"{prefix}auroc": macro_auroc(y_true, proba, classes),
        f"{prefix}auprc": macro_auprc(y_true, proba, classes),
        f"{prefix}f1_macro": float(report["f1"].mean()),
        "confusion": confusion_matrix(y_true, y_pred, labels=list(classes)),
        "per_class": report,
    }


def scalar_metrics(metrics: dict) -> dict[str, float]:
    """Only the scalar entries of a :func:`classification_metrics` result (for logging)."""
    return {k: float(v) for k, v in metrics.items() if np.isscalar(v)}
