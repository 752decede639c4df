"""Readable progress for long fits and loops: a Keras callback that logs one line every N epochs
(losses, metrics, elapsed time and an ETA) for ``verbose=0`` fits, and a tracker that logs how
many models/splits are done and the time left."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

import keras

from gtzan_kedro.durations import format_duration  # noqa: F401  (re-exported)

logger = logging.getLogger(__name__)


def progress_label(model: str, features: str) -> str:
    """``cnn_mel (mel_3s)``: a model's name in its progress lines. Not ``cnn_mel [mel_3s]``:
    Kedro's RichHandler renders log messages as rich markup, which drops a bracketed word."""
    return f"{model} ({features})"


def eta_seconds(done: float, total: float, elapsed: float) -> float:
    """Time left if the remaining ``total - done`` units take as long as the done ones did
    (``nan`` before the first unit is done)."""
    if done <= 0 or total <= 0:
        return float("nan")
    return max(0.0, elapsed / done * (total - done))


def _metrics_text(logs: Mapping[str, float] | None, digits: int = 4) -> str:
    """``loss 0.6931 accuracy 0.5000 val_loss ...`` (scalars only, training metrics first)."""
    items = [(k, v) for k, v in (logs or {}).items() if isinstance(v, int | float) or hasattr(v, "__float__")]
    items.sort(key=lambda kv: (kv[0].startswith("val_"), kv[0] != "loss" and kv[0] != "val_loss"))
    return " ".join(f"{k} {float(v):.{digits}g}" for k, v in items)


class EpochProgress(keras.callbacks.Callback):
    """Logs ``<label> epoch e/E: <metrics> | <elapsed> elapsed, ETA <time>`` every ``every``
    epochs, on the last epoch and when training stops early. The ETA assumes all E epochs run
    (early stopping ends sooner, so it is an upper bound)."""

    def __init__(self, label: str = "fit", every: int = 1, log: logging.Logger | None = None,
                 clock: Callable[[], float] = time.monotonic):
        super().__init__()
        if every < 1:
            raise ValueError(f"EpochProgress: every must be >= 1, got {every}")
        self.label, self.every, self.log, self.clock = label, int(every), log or logger, clock
        self._start = 0.0
        self._last_logged = -1
        self._epochs_run = 0
        self._last_logs: dict = {}

    def on_train_begin(self, logs=None):
        self._start = self.clock()
        self._last_logged, self._epochs_run, self._last_logs = -1, 0, {}

    def _total(self) -> int | None:
        epochs = (self.params or {}).get("epochs")
        return int(epochs) if epochs else None

    def on_epoch_end(self, epoch, logs=None):
        self._epochs_run = epoch + 1
        self._last_logs = dict(logs or {})
        total = self._total()
        if (epoch + 1) % self.every == 0 or (total is not None and epoch + 1 >= total):
            self._emit(epoch + 1, total)

    def on_train_end(self, logs=None):
        total = self._total()
        if self._epochs_run and self._last_logged != self._epochs_run:
            self._emit(self._epochs_run, total)
        if total is not None and 0 < self._epochs_run < total:
            self.log.info("%s stopped after epoch %d/%d (early stopping) in %s", self.label,
                          self._epochs_run, total, format_duration(self.clock() - self._start))

    def _emit(self, done: int, total: int | None) -> None:
        elapsed = self.clock() - self._start
        eta = eta_seconds(done, total, elapsed) if total else float("nan")
        self.log.info("%s epoch %d/%s: %s | %s elapsed, ETA %s", self.label, done,
                      total if total else "?", _metrics_text(self._last_logs),
                      format_duration(elapsed), format_duration(eta))
        self._last_logged = done


class ProgressTracker:
    """Counts finished units of a long loop (models x splits) and logs each with the time left:
    ``audio_models_30s: 3/20 done (mlp_tuned holdout_2, 41 s) | 2 min 03 s elapsed, ETA 11 min``."""

    def __init__(self, total: int, label: str = "progress", log: logging.Logger | None = None,
                 clock: Callable[[], float] = time.monotonic):
        if total < 0:
            raise ValueError(f"ProgressTracker: total must be >= 0, got {total}")
        self.total, self.label, self.log, self.clock = int(total), label, log or logger, clock
        self.done = 0
        self._start = self._last = clock()

    @property
    def elapsed(self) -> float:
        return self.clock() - self._start

    @property
    def eta(self) -> float:
        return eta_seconds(self.done, self.total, self.elapsed)

    def step(self, what: str = "", n: int = 1) -> str:
        """Mark ``n`` units done (``what`` names them) and log the line; returns it."""
        now = self.clock()
        took, self._last = now - self._last, now
        self.done += int(n)
        detail = f" ({what}, {format_duration(took)})" if what else f" ({format_duration(took)})"
        elapsed = now - self._start
        line = (f"{self.label}: {self.done}/{self.total} done{detail} | {format_duration(elapsed)} "
                f"elapsed, ETA {format_duration(eta_seconds(self.done, self.total, elapsed))}")
        self.log.info(line)
        return line


def log_progress(label: str, done: int, total: int, elapsed: float,
                 log: logging.Logger | None = None) -> str:
    """One progress line from counts alone (for loops that keep their own clock); returns it."""
    line = (f"{label}: {done}/{total} done | {format_duration(elapsed)} elapsed, "
            f"ETA {format_duration(eta_seconds(done, total, elapsed))}")
    (log or logger).info(line)
    return line
