"""Metrics on known inputs, song-level aggregation, mean/std, and the run_protocol helper."""

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from gtzan_kedro.evaluation.aggregation import majority_vote, mean_std, song_level_accuracy
from gtzan_kedro.evaluation.metrics import classification_metrics
from gtzan_kedro.evaluation.runner import COMPARISON_COLUMNS, SplitPrediction, run_protocol
from gtzan_kedro.evaluation.splits import holdout_splits

CLASSES = np.array(["a", "b", "c"], dtype=object)


def test_perfect_predictions():
    y = np.array(["a", "b", "c", "a", "b", "c"], dtype=object)
    proba = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    m = classification_metrics(y, proba, CLASSES)
    assert m["accuracy"] == 1.0 and m["auroc"] == 1.0 and m["auprc"] == 1.0
    assert (np.diag(m["confusion"]) == 2).all() and m["confusion"].sum() == 6
    assert (m["per_class"]["f1"] == 1.0).all()


def test_uninformative_predictions_are_at_chance():
    rng = np.random.default_rng(0)
    y = rng.choice(CLASSES, size=3000)
    proba = np.full((3000, 3), 1 / 3)
    m = classification_metrics(y, proba, CLASSES)
    assert m["auroc"] == pytest.approx(0.5)
    assert m["auprc"] == pytest.approx(1 / 3, abs=0.03)
    m = classification_metrics(y, rng.dirichlet(np.ones(3), size=3000), CLASSES)
    assert m["accuracy"] == pytest.approx(1 / 3, abs=0.04)
    assert m["auroc"] == pytest.approx(0.5, abs=0.04)


def test_always_wrong_and_shape_errors():
    y = np.array(["a", "b"], dtype=object)
    m = classification_metrics(y, np.array([[0, 1, 0], [1, 0, 0.]]), CLASSES, prefix="train_")
    assert m["train_accuracy"] == 0.0 and m["confusion"][0, 1] == 1
    with pytest.raises(ValueError, match="shape"):
        classification_metrics(y, np.ones((2, 2)), CLASSES)
    with pytest.raises(ValueError, match="not among the classes"):
        classification_metrics(np.array(["z", "a"]), np.ones((2, 3)) / 3, CLASSES)


def test_song_level_aggregation():
    groups = np.array(["t1"] * 3 + ["t2"] * 3, dtype=object)
    y = np.array(["a"] * 3 + ["b"] * 3, dtype=object)
    # t1: two weakly-'b' segments, one confidently 'a' -> mean says a, vote says b
    proba = np.array([[0.4, 0.6, 0], [0.4, 0.6, 0], [1.0, 0, 0],
                      [0, 1, 0], [0, 1, 0], [1, 0, 0]], dtype=float)
    out = song_level_accuracy(proba, y, groups, CLASSES)
    assert out == {"song_accuracy_mean_proba": 1.0, "song_accuracy_vote": 0.5, "n_songs": 2}
    assert majority_vote(["b", "b", "a"], ["t", "t", "t"]).loc["t"] == "b"


def test_mean_std():
    out = mean_std([{"accuracy": 0.7}, {"accuracy": 0.9}])
    assert out["accuracy_mean"] == pytest.approx(0.8) and out["accuracy_std"] == pytest.approx(0.1)


def test_run_protocol_summarises_splits_and_separates_good_from_chance():
    rng = np.random.default_rng(0)
    y = np.repeat(CLASSES, 40)
    X = rng.normal(size=(120, 4)) + np.repeat(np.arange(3), 40)[:, None] * 3
    groups = np.array([f"t{i // 2}" for i in range(120)], dtype=object)  # 2 segments per track
    splits = holdout_splits(y, groups, n_splits=3)

    def model(factory):
        def fit_predict(split):
            m = factory().fit(X[split.train], y[split.train])
            return SplitPrediction(m.predict_proba(X[split.test]), m.predict_proba(X[split.train]), m,
                                   classes=m.classes_)
        return fit_predict

    good = run_protocol(model(lambda: make_pipeline(StandardScaler(), LogisticRegression())),
                        splits, y, CLASSES, model="lr", features="toy", protocol="holdout",
                        groups=groups, progress=False)
    chance = run_protocol(model(lambda: DummyClassifier(strategy="prior")), splits, y, CLASSES,
                          model="dummy", features="toy", protocol="holdout", progress=False)
    assert list(good.row)[:8] == COMPARISON_COLUMNS
    assert good.row["n_splits"] == 3 and good.row["accuracy_mean"] > 0.9
    assert good.row["song_accuracy_mean_proba_mean"] > 0.9
    assert chance.row["auroc_mean"] == pytest.approx(0.5)
    assert len(good.per_split) == 3 and good.confusion.sum() == sum(len(s.test) for s in splits)
