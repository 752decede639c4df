"""The protocol loop for Keras models on a SampleSet: a freshly initialised model per split of
each protocol, scored by the shared runner (segment- and song-level metrics), used by the
image_models and multimodal pipelines. Returns what they persist; logs nothing to MLflow."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from gtzan_kedro.evaluation.plots import confusion_matrix_figure, training_curves_figure
from gtzan_kedro.evaluation.runner import SplitPrediction, comparison_frame, run_protocol
from gtzan_kedro.evaluation.samples import SampleSet
from gtzan_kedro.evaluation.splits import make_splits
from gtzan_kedro.models.progress import EpochProgress, ProgressTracker, progress_label
from gtzan_kedro.models.seeding import set_seed

logger = logging.getLogger(__name__)


@dataclass
class KerasEvaluation:
    """One comparison row per protocol, per-split metrics, per-epoch training history
    (protocol, split, epoch, loss ...), per-class precision/recall/F1 (mean over splits),
    confusion matrices keyed ``<model>_<protocol>``, other figures (training curves) by file
    name, and the first protocol's last fitted model."""

    rows: pd.DataFrame
    per_split: pd.DataFrame
    history: pd.DataFrame
    per_class: pd.DataFrame
    confusion: dict[str, Figure]
    figures: dict[str, Figure]
    fitted_models: dict[str, Any]


def model_evaluation(evaluation: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The group's evaluation settings with the model block's own ``evaluation:`` keys over them
    (e.g. one leaky_segments split for the costliest CNNs on CPU, where the others keep 3)."""
    return {**evaluation, **(params.get("evaluation") or {})}


def protocol_n_splits(params: dict[str, Any], protocol: str) -> int:
    """How many splits a Keras model's ``protocol`` asks for: ``n_holdouts`` holdouts, else
    ``n_leaky`` (fault_filtered has one fixed split, whatever is asked)."""
    return int(params.get("n_holdouts", 10) if protocol == "holdout" else params.get("n_leaky", 1))


def protocol_splits(samples: SampleSet, protocol: str, params: dict[str, Any],
                    split_table: pd.DataFrame | None = None) -> list:
    """The shared evaluation splits of ``protocol`` over samples grouped by track; an empty
    list (with a warning) when the split file does not cover this corpus."""
    try:
        return make_splits(protocol, samples.track_ids, samples.labels, split_table=split_table,
                           n_splits=protocol_n_splits(params, protocol), test_size=float(params.get("test_size", 0.2)),
                           val_size=float(params.get("val_size", 0.2)),
                           random_state=int(params.get("seed", 42)))
    except ValueError as exc:
        if protocol != "fault_filtered":
            raise
        logger.warning("fault_filtered skipped: %s", exc)
        return []


def _check_mode(mode: str) -> None:
    if mode not in ("scalar", "column", "none"):
        raise ValueError(f"standardise must be scalar, column or none, got {mode!r}")


def standardise(samples: SampleSet, train: np.ndarray, how: list[str]) -> list[np.ndarray]:
    """Scale each input with statistics of the training samples only: 'scalar' (one mean and
    std), 'column' (per feature, for tabular inputs) or 'none'."""
    scaled = []
    for arr, mode in zip(samples.input_list, how):
        _check_mode(mode)
        arr = np.asarray(arr, dtype=np.float32)
        if mode == "scalar":
            ref = arr[train]
            arr = (arr - float(ref.mean())) / (float(ref.std()) + 1e-6)
        elif mode == "column":
            ref = arr[train]
            arr = (arr - ref.mean(axis=0)) / (ref.std(axis=0) + 1e-6)
        scaled.append(arr)
    return scaled


STATS_CHUNK = 256   # training rows per chunk when the statistics of a memory-mapped input are summed


def training_statistics(arr: np.ndarray, train: np.ndarray, mode: str) -> tuple[Any, Any] | None:
    """``(offset, scale)`` of :func:`standardise` from the training rows, summed in float64
    over chunks of :data:`STATS_CHUNK` rows so no copy of the training rows is made (for a
    memory-mapped input); None for 'none'."""
    _check_mode(mode)
    if mode == "none":
        return None
    rows = np.sort(np.asarray(train))
    axis = None if mode == "scalar" else 0
    count, total, squares = 0, 0.0, 0.0
    for start in range(0, len(rows), STATS_CHUNK):
        chunk = np.asarray(arr[rows[start:start + STATS_CHUNK]], dtype=np.float64)
        count += chunk.size if axis is None else len(chunk)
        total = total + chunk.sum(axis=axis)
        squares = squares + np.square(chunk).sum(axis=axis)
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - np.square(mean), 0.0))
    if mode == "scalar":
        return float(mean), float(std) + 1e-6
    return mean.astype(np.float32), (std + 1e-6).astype(np.float32)


@functools.cache
def _keras_pydataset():
    """The PyDataset class, defined once (Keras is imported on first use)."""
    import keras

    class StandardisedBatches(keras.utils.PyDataset):
        """Batches of some rows of (memory-mapped) inputs, standardised as they are read, so
        training on a full corpus's 3-s tensors never holds a second full copy of them (the
        STFT tensors of 1000 tracks are 2.7 GB). Shuffled each epoch with its own seed when
        ``shuffle``; in ascending row order otherwise (validation, prediction)."""

        def __init__(self, inputs: list[np.ndarray], stats: list[tuple[Any, Any] | None], rows: np.ndarray,
                     labels: np.ndarray, batch_size: int, shuffle: bool = False, seed: int = 0):
            super().__init__(workers=1, use_multiprocessing=False)
            self.inputs, self.stats, self.labels = inputs, stats, labels
            self.rows, self.batch_size, self.shuffle = np.asarray(rows), int(batch_size), shuffle
            self.rng = np.random.default_rng(seed)
            self.order = self.rng.permutation(self.rows) if shuffle else np.sort(self.rows)

        def __len__(self) -> int:
            return -(-len(self.rows) // self.batch_size)

        def __getitem__(self, index: int):
            rows = self.order[index * self.batch_size:(index + 1) * self.batch_size]
            read = np.sort(rows)   # memory maps read fastest in file order
            xs = []
            for arr, stat in zip(self.inputs, self.stats):
                x = np.asarray(arr[read], dtype=np.float32)
                if stat is not None:
                    x = (x - stat[0]) / stat[1]
                xs.append(x)
            return (xs if len(xs) > 1 else xs[0]), self.labels[read]

        def on_epoch_end(self) -> None:
            if self.shuffle:
                self.order = self.rng.permutation(self.rows)

    return StandardisedBatches


def _memory_mapped(arr: Any) -> bool:
    """True for a np.memmap or a view of one (``stack[..., np.newaxis]``)."""
    while arr is not None:
        if isinstance(arr, np.memmap):
            return True
        arr = getattr(arr, "base", None)
    return False


def _streamed(arr: Any) -> bool:
    """Inputs a fit reads batch by batch: memory-mapped ones, and in-memory ones over
    MEMMAP_BYTES (the 1000 mel images of cnn_image, 373 MB as uint8, were copied as float32
    for standardisation, the split's rows and TensorFlow's tensors: 8.8 GB peak RSS)."""
    from gtzan_kedro.evaluation.samples import MEMMAP_BYTES

    return _memory_mapped(arr) or getattr(arr, "nbytes", 0) > MEMMAP_BYTES


def streamed_batches(samples: SampleSet, rows: np.ndarray, stats: list, batch_size: int,
                     shuffle: bool = False, seed: int = 0):
    """A :class:`StandardisedBatches` (keras.utils.PyDataset) over ``rows`` of ``samples``."""
    return _keras_pydataset()(samples.input_list, stats, rows, samples.codes, batch_size, shuffle, seed)


def _history_frame(histories: list[dict], protocol: str) -> pd.DataFrame:
    """Per-epoch Keras metrics of every split of one protocol, one row per (split, epoch)."""
    frames = [pd.DataFrame(h).assign(protocol=protocol, split=k, epoch=range(len(pd.DataFrame(h))))
              for k, h in enumerate(histories) if h]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _state(model: Any) -> list:
    """A Keras model's whole state in a fixed order: its variables (weights and the dropout
    layers' seed-generator states) and, once built, its optimizer's (step, learning rate, slots)."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and not optimizer.built:
        optimizer.build(model.trainable_variables)   # an unfitted model's slots, as fit builds them
    return list(model.variables) + (list(optimizer.variables) if optimizer is not None else [])


def recycle_network(old: Any, new: Any) -> Any | None:
    """``old`` holding ``new``'s freshly initialised state (weights, seeds, optimizer), so that
    fitting it is fitting ``new`` (the same predictions, bit for bit), or None where the two
    differ in kind or shape. A FrozenBaseClassifier (``.head``) recycles its head.

    Why: TensorFlow keeps memory of every model that has been fitted, also after
    ``clear_session()`` (tensorflow/tensorflow#61791): the rehearsal's frozen AlexNet, whose head
    is 42 M weights with Adam's two slots, grew ~0.8 GB a split. A new model that is not
    fitted is freed, so the loop builds one per split (its seed's initial state) and copies it
    into the one network it fits again."""
    import keras

    if old is None or type(old) is not type(new):
        return None
    if not isinstance(old, keras.Model):
        head_old, head_new = getattr(old, "head", None), getattr(new, "head", None)
        if getattr(old, "extractor", None) is not getattr(new, "extractor", None) or \
                recycle_network(head_old, head_new) is None:
            return None
        return old
    if type(getattr(old, "optimizer", None)) is not type(getattr(new, "optimizer", None)):
        return None
    mine, theirs = _state(old), _state(new)
    if len(mine) != len(theirs) or any(a.shape != b.shape or a.dtype != b.dtype
                                       for a, b in zip(mine, theirs)):
        return None
    for a, b in zip(mine, theirs):
        a.assign(b)
    return old


def release_memory() -> None:
    """Collect Python's garbage, then hand glibc's free heap pages back to the system
    (``malloc_trim``): after a split the freed tensors of the next split's initial state stay
    in the process otherwise (no library call does this; a no-op off glibc)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def fit_keras_split(build: Callable[[int], Any], samples: SampleSet, split, k: int,
                    n_classes: int, seed: int, fit_params: dict[str, Any],
                    how: list[str], label: str | None = None, reuse: Any = None) -> SplitPrediction:
    """A fresh ``build(n_classes)`` (seed ``seed + k``) trained on the split's training
    samples, stopped early on its validation samples, predicting its test samples. Keras is
    silent unless ``fit_params.verbose``; one log line every ``progress_every`` epochs
    (default 1) names ``label`` (default the split) with the losses and an ETA. ``reuse``, an
    earlier split's network no longer needed, is given the fresh model's state and fitted in
    its place (:func:`recycle_network`; the fresh one where they differ)."""
    import keras

    keras.backend.clear_session()
    set_seed(seed + k)
    batch_size = int(fit_params.get("batch_size", 32))
    model = build(n_classes)
    if reuse is not None:
        model = recycle_network(reuse, model) or model
    callbacks = []
    every = int(fit_params.get("progress_every", 1))
    if every > 0:
        callbacks.append(EpochProgress(label or split.name, every=every, log=logger))
    patience = fit_params.get("early_stopping_patience")
    if patience and len(split.val):
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=int(patience), restore_best_weights=True))
    fit_args = dict(epochs=int(fit_params.get("epochs", 10)), callbacks=callbacks,
                    verbose=int(fit_params.get("verbose", 0)))
    # a full corpus's tensors (memory-mapped by load_segment_samples) or a large in-memory
    # input: stream batches (a Keras model only: a frozen-base classifier caches its features)
    if isinstance(model, keras.Model) and any(_streamed(a) for a in samples.input_list):
        stats = [training_statistics(a, split.train, mode) for a, mode in zip(samples.input_list, how)]

        def batches(rows, shuffle=False):
            return streamed_batches(samples, rows, stats, batch_size, shuffle, seed + k)

        validation = batches(split.val) if len(split.val) else None
        # the dataset shuffles itself with its own seed; Keras' shuffle would draw the batch
        # order from Python's process-wide `random`, in tf.data's thread, as other threads draw
        history = model.fit(batches(split.train, shuffle=True), validation_data=validation,
                            shuffle=False, **fit_args)
        # predicted in ascending row order: put them back in split.test's order
        proba = np.asarray(model.predict(batches(split.test), verbose=0))[np.argsort(np.argsort(split.test))]
        return SplitPrediction(test_proba=proba, model=model, history=history.history)

    inputs = standardise(samples, split.train, how)

    def pick(idx):
        return [a[idx] for a in inputs] if len(inputs) > 1 else inputs[0][idx]

    codes = samples.codes
    validation = (pick(split.val), codes[split.val]) if len(split.val) else None
    history = model.fit(pick(split.train), codes[split.train], validation_data=validation,
                        batch_size=batch_size, **fit_args)
    proba = np.asarray(model.predict(pick(split.test), verbose=0, batch_size=batch_size))
    return SplitPrediction(test_proba=proba, model=model, history=history.history)


# The network each process fits again (recycle_network), one per model name: a split that
# runs as a task on another worker recycles that worker's, as the node recycles its own.
_SPARE_NETWORKS: dict[str, Any] = {}
_SPARE_LOCK = threading.Lock()


def _spare_network(model_name: str, network: Any = None) -> Any:
    """This process's spare network of ``model_name`` taken out (``network`` None), or
    ``network`` put in its place."""
    with _SPARE_LOCK:
        if network is None:
            return _SPARE_NETWORKS.pop(model_name, None)
        _SPARE_NETWORKS[model_name] = network
        return None


def _fit_split(build: Callable[[int], Any], samples: SampleSet, n_classes: int, seed: int,
               fit_params: dict[str, Any], how: list[str], model_name: str, protocol: str,
               number: dict[str, int], keep: str | None, split) -> SplitPrediction:
    """One split of a protocol, wherever it runs: the fitted network comes back for the split
    named ``keep`` only; every other one stays as this process's spare for the next split."""
    prediction = fit_keras_split(build, samples, split, number[split.name], n_classes, seed,
                                 fit_params, how, label=f"{model_name} {protocol} {split.name}",
                                 reuse=_spare_network(model_name))
    if split.name != keep:
        _spare_network(model_name, prediction.model)
        prediction.model = None
    release_memory()
    return prediction


def evaluate_keras(model_name: str, features: str, build: Callable[[int], Any], samples: SampleSet,
                   protocols: list[str], eval_params: dict[str, Any], fit_params: dict[str, Any],
                   split_table: pd.DataFrame | None = None,
                   how: list[str] | None = None, as_tasks: bool = True) -> KerasEvaluation:
    """Fit ``build(n_classes)`` on every split of every protocol and score it on the test part
    with the shared evaluation runner (segment- and song-level metrics). With ``as_tasks`` and
    ``splits_as_tasks: true`` in ``eval_params`` the splits run as tasks of the Dask cluster
    this node runs on (:mod:`gtzan_kedro.cluster`; each split is seeded by its number). Off by
    default: as tasks, in a `make run` beside the other nodes, 2 to 3 of the 108 sample-scale
    rows (single leaky splits) came out otherwise than in one process, the cause not found."""
    as_tasks = as_tasks and bool(eval_params.get("splits_as_tasks", False))
    how = how or ["scalar"] * len(samples.input_list)
    classes = np.asarray(samples.classes, dtype=object)
    seed = int(eval_params.get("seed", 42))
    rows, per_split, histories, per_class, confusion, figures, fitted = [], [], [], [], {}, {}, {}
    planned = {p: protocol_splits(samples, p, eval_params, split_table) for p in protocols}
    progress = ProgressTracker(sum(len(s) for s in planned.values()), progress_label(model_name, features),
                               log=logger)

    def split_done(split, prediction: SplitPrediction, protocol: str) -> None:
        history = prediction.history
        epochs = len(next(iter(history.values()), [])) if history else 0
        progress.step(f"{protocol} {split.name}, {epochs} epochs")

    # Protocol by protocol: with every protocol's splits at once (as the feature-table models
    # do), 5 of 108 sample-scale CNN rows came out differently on the Dask runner than
    # in-process (the cause is not found yet)
    for protocol, splits in planned.items():
        if not splits:
            continue
        # only the first protocol's last network is kept (fitted_models)
        keep = None if fitted else splits[-1].name
        fit = functools.partial(_fit_split, build, samples, len(classes), seed, fit_params, how,
                                model_name, protocol, {s.name: k for k, s in enumerate(splits)}, keep)
        result = run_protocol(fit, splits, samples.labels, classes, model=model_name,
                              features=features, protocol=protocol, groups=samples.track_ids,
                              as_tasks=as_tasks,
                              on_split_done=functools.partial(split_done, protocol=protocol),
                              progress=False)  # the tracker logs each split
        rows.append(result.row)
        per_split.append(result.per_split.assign(model=model_name, features=features, protocol=protocol))
        histories.append(_history_frame([p.history for p in result.predictions], protocol))
        per_class.append(result.per_class.rename_axis("class").reset_index().assign(protocol=protocol))
        confusion[f"{model_name}_{protocol}"] = confusion_matrix_figure(
            result.confusion, classes,
            title=f"{model_name} on {features}, {protocol} ({len(splits)} split(s))")
        last = result.predictions[-1]
        figures[f"curves_{protocol}.png"] = training_curves_figure(
            last.history or {}, f"{model_name} {protocol}, last split")
        if not fitted and last.model is not None:
            fitted[model_name] = last.model
        for prediction in result.predictions:
            prediction.model = None  # free the Keras graphs before the next protocol
    _spare_network(model_name)   # this node's spare goes with it
    return KerasEvaluation(comparison_frame(rows), _concat(per_split), _concat(histories),
                           _concat(per_class), confusion, figures, fitted)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
