"""The scikit-learn factory: scaled vs unscaled SVM, grouped grid search, importances."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold

from gtzan_kedro.evaluation.splits import holdout_splits, track_ids
from gtzan_kedro.evaluation.tabular import fit_split
from gtzan_kedro.models.baselines import (
    build_estimator,
    feature_importances,
    make_estimator,
    with_grid_search,
)


def test_factory_steps():
    assert [n for n, _ in make_estimator("svm").steps] == ["scale", "model"]
    assert [n for n, _ in make_estimator("svm_unscaled").steps] == ["model"]
    assert make_estimator("random_forest", {"model__n_estimators": 7})["model"].n_estimators == 7
    with pytest.raises(ValueError, match="unknown scikit-learn model"):
        make_estimator("xgboost")


def test_grouped_grid_search_and_importances():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = np.where(X[:, 0] > 0, "a", "b")
    search = with_grid_search(make_estimator("random_forest", {"model__n_estimators": 10}),
                              {"model__max_depth": [2, None]}, cv=3, grouped=True)
    assert isinstance(search, GridSearchCV) and isinstance(search.cv, StratifiedGroupKFold)
    search.fit(X, y, groups=np.arange(80) // 4)
    importances = feature_importances(search, ["x0", "x1", "x2"])
    assert importances.argmax() == 0 and importances.sum() == pytest.approx(1)
    assert feature_importances(make_estimator("svm").fit(X, y), ["x0", "x1", "x2"]) is None


def test_scaling_is_fitted_on_the_split_training_rows(kaggle_30s):
    from gtzan_kedro.audio.features import FEATURE_COLUMNS

    table = kaggle_30s.groupby("label").head(20).reset_index(drop=True)
    X = table[FEATURE_COLUMNS].astype(float)
    y = np.asarray(table.label, dtype=object)
    groups = track_ids(table.filename)
    split = holdout_splits(y, groups, n_splits=1)[0]
    out = fit_split(build_estimator({"kind": "svm", "grid": {"model__C": [1, 10]}, "cv": 3}),
                    X, y, groups, split)
    scaler = out.model.best_estimator_["scale"]
    np.testing.assert_allclose(scaler.mean_, X.iloc[split.fit].mean().to_numpy())
    assert not np.allclose(scaler.mean_, X.mean().to_numpy())
    assert out.test_proba.shape == (len(split.test), 10)


def test_scaling_matters_for_the_svm(kaggle_30s):
    """A report got 41 % from an unscaled SVM: raw features span ~10 orders of magnitude."""
    from gtzan_kedro.audio.features import FEATURE_COLUMNS

    table = kaggle_30s
    X = table[FEATURE_COLUMNS].astype(float)
    y = np.asarray(table.label, dtype=object)
    split = holdout_splits(y, track_ids(table.filename), n_splits=1)[0]
    scores = {}
    for name in ("svm", "svm_unscaled"):
        model = make_estimator(name).fit(X.iloc[split.fit], y[split.fit])
        scores[name] = float(np.mean(model.predict(X.iloc[split.test]) == y[split.test]))
    assert scores["svm"] > 0.65 and scores["svm_unscaled"] < 0.5
