"""The protocol loops log one progress line per model x split with the time left, Keras fits
log epochs (not batches), and leaky_segments takes its own split count."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from gtzan_kedro.evaluation.tabular import evaluate_table, protocol_n_splits


def _segment_table(n_tracks: int = 20, segments: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    genres = ["blues", "rock"]
    rows = []
    for t in range(n_tracks):
        genre = genres[t % 2]
        for s in range(segments):
            rows.append({"filename": f"{genre}.{t:05d}.{s}.wav", "label": genre,
                         "x": (t % 2) * 2.0 + rng.normal(), "z": rng.normal()})
    table = pd.DataFrame(rows)
    return table, table[["x", "z"]]


def test_leaky_segments_gets_n_leaky_splits_and_every_split_logs_progress(caplog):
    table, X = _segment_table()
    evaluation = {"n_splits": 4, "n_leaky": 2, "test_size": 0.25, "val_size": 0.25}
    with caplog.at_level(logging.INFO):
        result = evaluate_table(table, X, None, lambda: Pipeline([("m", LogisticRegression())]),
                                model="logreg", features="3s",
                                protocols=["holdout", "leaky_segments"], evaluation=evaluation)
    n_splits = dict(zip(result.rows["protocol"], result.rows["n_splits"]))
    assert n_splits == {"holdout": 4, "leaky_segments": 2}
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("logreg (3s): ")]
    assert [line.split(" done")[0] for line in lines] == [f"logreg (3s): {k}/6" for k in range(1, 7)]
    assert all("ETA" in line for line in lines) and "leaky_segments leaky_1" in lines[-1]


def test_without_n_leaky_every_protocol_keeps_n_splits():
    assert protocol_n_splits({"n_splits": 7}, "leaky_segments") == 7
    assert protocol_n_splits({"n_splits": 7, "n_leaky": 3}, "holdout") == 7
    assert protocol_n_splits({}, "holdout") == 10


def _toy_samples():
    """40 segments of 20 two-genre tracks, 4 features, learnable in an epoch."""
    from gtzan_kedro.evaluation.samples import SampleSet

    rng = np.random.default_rng(0)
    labels = [("blues", "rock")[t % 2] for t in range(20) for _ in range(2)]
    tracks = [f"{labels[2 * t]}.{t:05d}.wav" for t in range(20) for _ in range(2)]
    x = rng.normal(size=(40, 4)).astype("float32") + np.array([[0.0], [2.0]] * 20, "float32")
    return SampleSet(x, labels, tracks)


def test_keras_loop_logs_epochs_and_splits(caplog):
    import keras

    from gtzan_kedro.evaluation.keras import evaluate_keras
    from gtzan_kedro.models.cnn import compile_classifier
    from gtzan_kedro.models.runtime import softmax_output

    samples = _toy_samples()

    def build(n):
        inputs = keras.Input(shape=(4,))
        return compile_classifier(keras.Model(inputs, softmax_output(n)(inputs)), 0.05)

    with caplog.at_level(logging.INFO):
        result = evaluate_keras("tiny", "toy", build, samples, ["holdout"],
                                {"n_holdouts": 2, "seed": 0}, {"epochs": 3, "batch_size": 8},
                                how=["column"])
    messages = [r.getMessage() for r in caplog.records]
    assert result.rows["n_splits"].tolist() == [2]
    epoch_lines = [m for m in messages if m.startswith("tiny holdout holdout_0 epoch")]
    assert [m.split(":")[0] for m in epoch_lines] == [f"tiny holdout holdout_0 epoch {e}/3"
                                                       for e in (1, 2, 3)]
    split_lines = [m for m in messages if m.startswith("tiny (toy): ")]
    assert len(split_lines) == 2 and split_lines[-1].startswith("tiny (toy): 2/2 done (holdout")
