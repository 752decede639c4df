"""Run any model over a protocol's splits and summarise it as a comparison-table row.

The model is a callable ``fit_predict(split) -> SplitPrediction`` (or a bare ndarray of test
probabilities) that closes over its own data, so feature tables, spectrogram tensors and
images all go through the same scoring code.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from gtzan_kedro.cluster import map_tasks
from gtzan_kedro.evaluation.aggregation import mean_std, song_level_accuracy
from gtzan_kedro.evaluation.metrics import classification_metrics
from gtzan_kedro.evaluation.splits import Split

logger = logging.getLogger(__name__)

COMPARISON_COLUMNS = ["model", "features", "protocol", "n_splits", "accuracy_mean", "accuracy_std",
                      "auroc_mean", "auprc_mean"]
# Optional columns appended after COMPARISON_COLUMNS when a model provides them.
EXTRA_COLUMNS = ["auroc_std", "auprc_std", "f1_macro_mean", "train_accuracy_mean",
                 "train_auroc_mean", "train_auprc_mean", "song_accuracy_mean_proba_mean",
                 "song_accuracy_vote_mean", "fit_seconds_mean"]


@dataclass
class SplitPrediction:
    """What a model returns for one split: test probabilities (rows = ``split.test``, columns =
    ``classes``), optionally training probabilities, the fitted model and a Keras history.
    ``classes`` gives the probability columns' labels when the model saw only some of the
    classes (e.g. a small training side); they are then expanded to all classes with zeros."""

    test_proba: np.ndarray
    train_proba: np.ndarray | None = None
    model: Any = None
    history: dict | None = None
    info: dict = field(default_factory=dict)
    classes: np.ndarray | None = None


def align_proba(proba: np.ndarray, model_classes, classes) -> np.ndarray:
    """Reorder/expand probability columns from ``model_classes`` to ``classes`` (zeros elsewhere)."""
    proba = np.asarray(proba, dtype=float)
    model_classes = np.asarray(model_classes, dtype=object)
    classes = np.asarray(classes, dtype=object)
    if len(model_classes) == len(classes) and np.all(model_classes == classes):
        return proba
    unknown = set(model_classes) - set(classes)
    if unknown:
        raise ValueError(f"model predicts unknown classes {sorted(map(str, unknown))}")
    out = np.zeros((proba.shape[0], len(classes)))
    index = {c: i for i, c in enumerate(classes)}
    out[:, [index[c] for c in model_classes]] = proba
    return out


@dataclass
class ProtocolResult:
    """Per-split metrics, the aggregated comparison row and what plots need."""

    per_split: pd.DataFrame
    row: dict[str, Any]
    confusion: np.ndarray
    per_class: pd.DataFrame
    predictions: list[SplitPrediction]
    classes: np.ndarray


def _timed(fit_predict: Callable[[Split], Any], split: Split) -> tuple[Any, float]:
    """``fit_predict(split)`` and its wall seconds, measured where it ran."""
    started = time.perf_counter()
    result = fit_predict(split)
    return result, time.perf_counter() - started


def run_protocol(fit_predict: Callable[[Split], SplitPrediction | np.ndarray] | None,
                 splits: Sequence[Split], y: Sequence, classes: Sequence, *, model: str,
                 features: str, protocol: str, groups: Sequence | None = None,
                 train_rows: str = "train", progress: bool = True, as_tasks: bool = False,
                 on_split_done: Callable[[Split, SplitPrediction], None] | None = None,
                 fitted: Sequence[tuple[Any, float]] | None = None) -> ProtocolResult:
    """Fit and score a model on every split; return per-split metrics and the summary row.

    ``y`` holds the labels of all rows (indexed by the split positions); ``groups`` (track ids)
    adds song-level accuracy when rows are segments. ``train_rows`` says which rows the model's
    ``train_proba`` covers: ``"train"`` (``split.train``) or ``"fit"`` (train + validation).
    ``as_tasks`` lets the splits run as tasks of the Dask cluster this node runs on
    (:func:`gtzan_kedro.cluster.map_tasks`; ``fit_predict`` must then be picklable and seed
    each fit itself); ``on_split_done(split, prediction)`` is called here as each split
    finishes, in the order they finish. ``fitted``: the splits' ``(prediction, fit seconds)``
    already computed (by :func:`fit_splits` over several protocols at once), to score only
    (``fit_predict`` is then not called and may be None).
    """
    y = np.asarray(y, dtype=object)
    classes = np.asarray(classes, dtype=object)
    groups = None if groups is None else np.asarray(groups, dtype=object)
    records, predictions, confusion, per_class = [], [], None, []
    bar = tqdm(total=len(splits), desc=f"{model}/{features}/{protocol}", disable=not progress,
               leave=False)

    def arrived(split: Split, fitted: tuple[Any, float]) -> None:
        bar.update()
        if on_split_done is not None:
            on_split_done(split, fitted[0])

    if fitted is None:
        fits = map_tasks(partial(_timed, fit_predict), splits, label=f"{model}-{features}-{protocol}",
                         on_done=arrived, on_cluster=as_tasks)
    else:
        fits = list(fitted)
        if len(fits) != len(splits):
            raise ValueError(f"{len(fits)} fitted splits for {len(splits)} splits")
    bar.close()
    for split, (result, seconds) in zip(splits, fits, strict=True):
        if not isinstance(result, SplitPrediction):
            result = SplitPrediction(test_proba=np.asarray(result))
        if result.classes is not None:
            result.test_proba = align_proba(result.test_proba, result.classes, classes)
            if result.train_proba is not None:
                result.train_proba = align_proba(result.train_proba, result.classes, classes)
        metrics = classification_metrics(y[split.test], result.test_proba, classes)
        record = {"split": split.name, "n_train": len(split.train), "n_val": len(split.val),
                  "n_test": len(split.test), "fit_seconds": seconds,
                  **{k: v for k, v in metrics.items() if np.isscalar(v)}}
        if result.train_proba is not None:
            rows = split.fit if train_rows == "fit" else split.train
            train = classification_metrics(y[rows], result.train_proba, classes, prefix="train_")
            record.update({k: v for k, v in train.items() if np.isscalar(v)})
        if groups is not None and len(np.unique(groups[split.test])) < len(split.test):
            record.update(song_level_accuracy(result.test_proba, y[split.test], groups[split.test],
                                              classes))
        confusion = metrics["confusion"] if confusion is None else confusion + metrics["confusion"]
        per_class.append(metrics["per_class"])
        records.append(record)
        predictions.append(result)
        logger.info("%s/%s/%s %s: accuracy %.3f", model, features, protocol, split.name,
                    record["accuracy"])
    per_split = pd.DataFrame(records)
    summary = mean_std(per_split.drop(columns=["split"]).to_dict("records"))
    row = {"model": model, "features": features, "protocol": protocol, "n_splits": len(splits),
           **{k: summary.get(k, np.nan) for k in COMPARISON_COLUMNS[4:]}}
    row.update({k: summary[k] for k in EXTRA_COLUMNS if k in summary})
    mean_per_class = pd.concat(per_class).groupby(level=0, sort=False).mean()
    return ProtocolResult(per_split, row, confusion, mean_per_class, predictions, classes)


def _timed_item(fit_predict: Callable[[Split], Any], item: tuple[str, Split]) -> tuple[Any, float]:
    """:func:`_timed` of a ``(protocol, split)`` item's split."""
    return _timed(fit_predict, item[1])


def fit_splits(fit_predict: Callable[[Split], Any], planned: dict[str, Sequence[Split]], *, label: str,
               on_split_done: Callable[[str, Split, Any], None] | None = None,
               as_tasks: bool = True) -> dict[str, list[tuple[Any, float]]]:
    """``fit_predict(split)`` for every split of every protocol at once: on a cluster all of
    them are tasks side by side, so a worker need not wait for a protocol's last split before
    the next protocol's start; in-process one after another in the protocols' order.
    Returns each protocol's ``(prediction, fit seconds)`` in split order, for
    :func:`run_protocol`'s ``fitted``; ``on_split_done(protocol, split, prediction)`` is called
    here as each split finishes, in the order they finish."""
    items = [(protocol, split) for protocol, splits in planned.items() for split in splits]

    def arrived(item: tuple[str, Split], fitted: tuple[Any, float]) -> None:
        if on_split_done is not None:
            on_split_done(item[0], item[1], fitted[0])

    fits = map_tasks(partial(_timed_item, fit_predict), items, label=label, on_done=arrived,
                     on_cluster=as_tasks)
    out: dict[str, list[tuple[Any, float]]] = {protocol: [] for protocol in planned}
    for (protocol, _), fitted in zip(items, fits, strict=True):
        out[protocol].append(fitted)
    return out


def comparison_frame(rows: Sequence[dict]) -> pd.DataFrame:
    """Rows as a DataFrame with :data:`COMPARISON_COLUMNS` first, then any extra columns."""
    frame = pd.DataFrame(list(rows))
    for column in COMPARISON_COLUMNS:
        if column not in frame.columns:
            frame[column] = np.nan
    extras = [c for c in frame.columns if c not in COMPARISON_COLUMNS]
    return frame[COMPARISON_COLUMNS + extras]
