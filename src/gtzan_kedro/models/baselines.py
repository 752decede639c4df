"""scikit-learn model factory: trees, SVMs (scaled and not), linear and ensemble classifiers,
each as one Pipeline so scaling and selection are fitted on the training rows only."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.decomposition import PCA
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier, VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import QuantileTransformer, StandardScaler
from sklearn.svm import SVC


def _svc(**params) -> SVC:
    # probability=True is deprecated in 1.9 but still the simplest calibrated SVC for AUROC/AUPRC
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return SVC(probability=True, **params)


def quantile_normal(n_quantiles: int = 200) -> QuantileTransformer:
    """Rank-based Gaussianisation: tames the heavy-tailed variance features."""
    return QuantileTransformer(n_quantiles=n_quantiles, output_distribution="normal",
                               random_state=0)


class CappedPCA(PCA):
    """PCA whose integer ``n_components`` is capped at what the training rows allow
    (min(n_samples, n_features)), so one setting (the literature's 128) fits tiny tables too."""

    def _capped(self, X) -> int | float | str | None:
        requested = self.n_components
        if isinstance(requested, int | np.integer) and not isinstance(requested, bool):
            return min(int(requested), *np.shape(X))
        return requested

    def fit(self, X, y=None):
        requested, self.n_components = self.n_components, self._capped(X)
        try:
            return super().fit(X, y)
        finally:  # keep get_params() as configured (clone and grid search rely on it)
            self.n_components = requested

    def fit_transform(self, X, y=None):
        requested, self.n_components = self.n_components, self._capped(X)
        try:
            return super().fit_transform(X, y)
        finally:
            self.n_components = requested


def _base(name: str, random_state: int, n_jobs: int) -> Pipeline:
    if name == "random_forest":
        return Pipeline([("model", RandomForestClassifier(n_estimators=300, n_jobs=n_jobs,
                                                          random_state=random_state))])
    if name == "extra_trees":
        return Pipeline([("model", ExtraTreesClassifier(n_estimators=300, n_jobs=n_jobs,
                                                        random_state=random_state))])
    if name == "svm":
        return Pipeline([("scale", StandardScaler()), ("model", _svc(random_state=random_state))])
    if name == "svm_unscaled":
        return Pipeline([("model", _svc(random_state=random_state))])
    if name == "svm_quantile":
        return Pipeline([("gauss", quantile_normal()), ("scale", StandardScaler()),
                         ("model", _svc(random_state=random_state))])
    if name == "pca_svm":
        # the transfer-learning recipe of the musicnn / VGGish literature (Pons & Serra 2019):
        # standardise, project on 128 principal components, RBF SVM
        return Pipeline([("scale", StandardScaler()),
                         ("pca", CappedPCA(n_components=128, random_state=random_state)),
                         ("model", _svc(random_state=random_state))])
    if name == "logistic_regression":
        return Pipeline([("gauss", quantile_normal()), ("scale", StandardScaler()),
                         ("model", LogisticRegression(C=0.5, max_iter=3000))])
    raise ValueError(f"unknown scikit-learn model {name!r}; use one of {SKLEARN_MODELS}")


SKLEARN_MODELS = ("random_forest", "extra_trees", "svm", "svm_unscaled", "svm_quantile",
                  "pca_svm", "logistic_regression")


def make_estimator(name: str, params: dict[str, Any] | None = None, random_state: int = 0,
                   n_jobs: int = 1) -> Pipeline:
    """The Pipeline ``name`` with step parameters ``params`` (e.g. ``{"model__C": 10}``)."""
    pipeline = _base(name, random_state, n_jobs)
    return pipeline.set_params(**(params or {}))


def with_grid_search(estimator: BaseEstimator, grid: dict[str, list] | None, cv: int = 5,
                     grouped: bool = False, random_state: int = 0, n_jobs: int = 1,
                     scoring: str = "accuracy") -> BaseEstimator:
    """Wrap ``estimator`` in a GridSearchCV (stratified, and grouped by track when ``grouped``:
    pass ``groups=`` to ``fit``); an empty grid returns the estimator itself."""
    if not grid:
        return estimator
    folds = (StratifiedGroupKFold(cv, shuffle=True, random_state=random_state) if grouped
             else StratifiedKFold(cv, shuffle=True, random_state=random_state))
    return GridSearchCV(estimator, grid, cv=folds, scoring=scoring, n_jobs=n_jobs, refit=True)


def soft_vote(members: dict[str, BaseEstimator], weights: list[float] | None = None) -> VotingClassifier:
    """Average the class probabilities of already-configured members."""
    return VotingClassifier(list(members.items()), voting="soft", weights=weights)


def feature_importances(estimator: BaseEstimator, feature_names: list[str]) -> np.ndarray | None:
    """Mean decrease in impurity of a (grid-searched) tree Pipeline, else None."""
    model = getattr(estimator, "best_estimator_", estimator)
    model = model[-1] if isinstance(model, Pipeline) else model
    values = getattr(model, "feature_importances_", None)
    if values is None or len(values) != len(feature_names):
        return None
    return np.asarray(values, dtype=float)



NETWORK_KINDS = ("mlp", "mlp_tuned")
TREE_KINDS = ("random_forest", "extra_trees")


def build_estimator(model: dict[str, Any], n_jobs: int = 1, random_state: int = 0) -> BaseEstimator:
    """The unfitted estimator a model's parameters describe (a Pipeline or a grid search):
    ``kind`` is mlp / mlp_tuned (Keras), soft_vote, or one of :data:`SKLEARN_MODELS`."""
    kind = model["kind"]
    if kind in NETWORK_KINDS:
        from gtzan_kedro.models.mlp import KerasMLPClassifier

        mlp = KerasMLPClassifier(preset=model.get("preset"), build_params=model.get("build_params"),
                                 epochs=model.get("epochs", 100), batch_size=model.get("batch_size", 32),
                                 patience=model.get("patience", 10), seed=random_state)
        return Pipeline([("scale", StandardScaler()), ("model", mlp)])
    if kind == "soft_vote":
        members = {name: make_estimator(name, params, random_state, n_jobs)
                   for name, params in model["members"].items()}
        return Pipeline([("model", soft_vote(members, model.get("weights")))])
    estimator = make_estimator(kind, model.get("params"), random_state, n_jobs)
    return with_grid_search(estimator, model.get("grid"), cv=model.get("cv", 5),
                            grouped=bool(model.get("grouped")), random_state=random_state,
                            n_jobs=n_jobs)


def with_selector(estimator: BaseEstimator, selector: BaseEstimator | None) -> BaseEstimator:
    """``estimator`` with a fresh copy of ``selector`` as its first step (inside each CV fold
    of a grid search too); the estimator itself when there is no selector."""
    from sklearn.base import clone

    if selector is None:
        return estimator
    if isinstance(estimator, Pipeline):
        return Pipeline([("select", clone(selector)), *estimator.steps])
    estimator.estimator = Pipeline([("select", clone(selector)), *estimator.estimator.steps])
    return estimator
