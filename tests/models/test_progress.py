"""Progress lines: one per N epochs of a quiet Keras fit, and per finished model/split, with
elapsed time and an ETA (a fake clock makes the figures exact; no timing asserts)."""

import logging

import numpy as np
import pytest

from gtzan_kedro.models.mlp import build_mlp
from gtzan_kedro.models.progress import (
    EpochProgress,
    ProgressTracker,
    eta_seconds,
    format_duration,
    log_progress,
)


class FakeClock:
    """Advances ``step`` seconds each time it is read."""

    def __init__(self, step: float):
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        value = self.now
        self.now += self.step
        return value


@pytest.mark.parametrize("seconds, text", [(4.25, "4.2 s"), (42, "42 s"), (185, "3 min 05 s"),
                                           (7620, "2 h 07 min"), (float("nan"), "?")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_eta_is_the_mean_time_per_unit_times_the_units_left():
    assert eta_seconds(2, 10, 30.0) == 120.0
    assert eta_seconds(10, 10, 30.0) == 0.0
    assert np.isnan(eta_seconds(0, 10, 5.0))


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(24, 4)).astype("float32"), rng.integers(0, 2, 24)


def test_epoch_progress_logs_every_n_epochs_with_metrics_and_eta(caplog):
    X, y = _data()
    model = build_mlp(4, 2, units=[4], seed=0)
    callback = EpochProgress("mlp_pyramid holdout_0", every=2, clock=FakeClock(1.0))
    with caplog.at_level(logging.INFO, logger="gtzan_kedro.models.progress"):
        model.fit(X, y, validation_data=(X, y), epochs=5, batch_size=8, verbose=0,
                  callbacks=[callback])
    lines = [r.getMessage() for r in caplog.records]
    assert [line.split(":")[0] for line in lines] == [
        "mlp_pyramid holdout_0 epoch 2/5", "mlp_pyramid holdout_0 epoch 4/5",
        "mlp_pyramid holdout_0 epoch 5/5"]
    assert all("loss " in line and "val_accuracy " in line for line in lines)
    # the clock advances 1 s per read: begin 0; epoch 2 read at 1 s -> 0.5 s/epoch, 3 left
    assert lines[0].endswith("| 1.0 s elapsed, ETA 1.5 s")
    assert lines[-1].endswith("ETA 0.0 s")


def test_epoch_progress_reports_an_early_stop(caplog):
    import keras

    X, y = _data()
    model = build_mlp(4, 2, units=[4], seed=0)
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)
    with caplog.at_level(logging.INFO, logger="gtzan_kedro.models.progress"):
        model.fit(X, y, epochs=50, batch_size=8, verbose=0,
                  callbacks=[stop, EpochProgress("cnn_mel", every=10)])
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("cnn_mel epoch 2/50: loss ")  # the last epoch run is logged
    assert lines[1].startswith("cnn_mel stopped after epoch 2/50 (early stopping)")
    with pytest.raises(ValueError, match="every"):
        EpochProgress(every=0)


def test_progress_tracker_logs_each_split_with_time_left(caplog):
    tracker = ProgressTracker(4, "audio_models_30s", clock=FakeClock(10.0))
    with caplog.at_level(logging.INFO, logger="gtzan_kedro.models.progress"):
        first = tracker.step("mlp_tuned holdout_0")
        tracker.step("mlp_tuned holdout_1")
    assert first == ("audio_models_30s: 1/4 done (mlp_tuned holdout_0, 10 s) | "
                     "10 s elapsed, ETA 30 s")
    assert caplog.records[-1].getMessage() == ("audio_models_30s: 2/4 done (mlp_tuned holdout_1, "
                                               "10 s) | 20 s elapsed, ETA 20 s")
    assert tracker.done == 2
    line = log_progress("image_models", 3, 12, 90.0)
    assert line == "image_models: 3/12 done | 1 min 30 s elapsed, ETA 4 min 30 s"


def test_a_progress_label_survives_kedros_rich_log_handler():
    """Kedro's RichHandler renders messages as rich markup: ``[stft_3s]`` would vanish."""
    import io

    from kedro.logging import RichHandler
    from rich.console import Console

    from gtzan_kedro.models.progress import progress_label

    out = io.StringIO()
    handler = RichHandler(console=Console(file=out, width=200), show_path=False)
    log = logging.getLogger("test_progress_label")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        log.info("%s: 1/7 done", progress_label("cnn_stft", "stft_3s"))
    finally:
        log.removeHandler(handler)
    assert "cnn_stft (stft_3s): 1/7 done" in out.getvalue()
