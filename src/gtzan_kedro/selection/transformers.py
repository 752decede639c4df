"""``FeatureSelector``: the feature_selection pipeline's choice as a scikit-learn transformer.

Contract with the model pipelines (audio_models reads data/05_model_input/selected_features.json
through the ``selected_features`` catalog entry, an ``OptionalJSONDataset`` that loads ``None``
when the file is absent)::

    {"features": [...names chosen on the training partition, best first...],
     "selector": {...FeatureSelector keyword arguments...},
     "fitted_on": "...", "method": "..."}

Use ``json["features"]`` to take the pipeline's list as it is, or, to keep every evaluation split
honest, refit inside each split on its training rows only::

    selector = FeatureSelector(**json["selector"])
    model = make_pipeline(selector, RobustScaler(), SVC())   # fit on the split's train rows
    model.fit(train_df[feature_columns], train_df["label"])

``fit`` takes a DataFrame (or an array plus ``feature_names``) and the genre labels; it ranks the
features by relevance (max |association| with a one-vs-rest genre indicator), optionally keeps only
Boruta's confirmed (or confirmed + tentative) ones, drops the less relevant of every pair whose
redundancy reaches ``redundancy_threshold`` and keeps at most ``max_features``. ``transform``
returns those columns (a DataFrame for a DataFrame, an array for an array). All measures are
invariant to per-feature monotone rescaling, so the selector needs no scaler before it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from gtzan_kedro.selection.boruta_selection import boruta_decisions
from gtzan_kedro.selection.redundancy import drop_redundant, redundancy_matrix
from gtzan_kedro.selection.relevance import MEASURES, association_to_genres

BORUTA_KEEP = {"confirmed": ("confirmed",), "tentative": ("confirmed", "tentative")}


def select_features(relevance: pd.Series, redundancy: pd.DataFrame, redundancy_threshold: float,
                    max_features: int | None = None, min_relevance: float = 0.0,
                    boruta_decision: pd.Series | None = None, boruta: str | None = None
                    ) -> tuple[list[str], pd.DataFrame]:
    """The selection rule shared by the pipeline and ``FeatureSelector``: relevance ranking,
    optional Boruta filter, redundancy filter, cap. Returns names (best first) and dropped pairs."""
    candidates = relevance[relevance >= min_relevance]
    if boruta:
        if boruta not in BORUTA_KEEP:
            raise ValueError(f"boruta must be one of {sorted(BORUTA_KEEP)} or null, got {boruta!r}")
        if boruta_decision is None:
            raise ValueError("boruta filtering asked for but no Boruta decisions were given")
        keep = boruta_decision.index[boruta_decision.isin(BORUTA_KEEP[boruta])]
        candidates = candidates[candidates.index.isin(keep)]
    kept, dropped = drop_redundant(candidates, redundancy.loc[candidates.index, candidates.index],
                                   redundancy_threshold)
    if not kept:  # an empty model input helps nobody: fall back to the single most relevant
        kept = [relevance.idxmax()]
    return kept[:max_features] if max_features else kept, dropped


class FeatureSelector(TransformerMixin, BaseEstimator):
    """Relevance ranking + redundancy filter (+ optional Boruta), refittable inside any split."""

    def __init__(self, relevance: str = "spearman", redundancy: str = "spearman",
                 redundancy_threshold: float = 0.9, max_features: int | None = None,
                 min_relevance: float = 0.0, boruta: str | None = None,
                 boruta_params: dict | None = None, mic_params: dict | None = None,
                 n_jobs: int = 1, random_state: int = 0):
        self.relevance = relevance
        self.redundancy = redundancy
        self.redundancy_threshold = redundancy_threshold
        self.max_features = max_features
        self.min_relevance = min_relevance
        self.boruta = boruta
        self.boruta_params = boruta_params
        self.mic_params = mic_params
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _frame(self, X, feature_names=None) -> pd.DataFrame:
        if isinstance(X, pd.DataFrame):
            return X.astype(np.float64)
        X = np.asarray(X, dtype=np.float64)
        names = feature_names if feature_names is not None else getattr(self, "feature_names_in_", None)
        if names is None:
            names = [f"x{i}" for i in range(X.shape[1])]
        return pd.DataFrame(X, columns=list(names))

    def fit(self, X, y, feature_names=None):
        """Choose the features on these (training) rows only."""
        for name in (self.relevance, self.redundancy):
            if name not in MEASURES:
                raise ValueError(f"unknown measure {name!r}; use one of {MEASURES}")
        frame = self._frame(X, feature_names)
        if len(frame) != len(y):
            raise ValueError(f"X has {len(frame)} rows but y has {len(y)} labels")
        mic_params = {"seed": self.random_state, **(self.mic_params or {})}
        scores = association_to_genres(frame, y, self.relevance, mic_params, self.n_jobs)
        redundancy = redundancy_matrix(frame, self.redundancy, mic_params, self.n_jobs)
        decision = None
        if self.boruta:
            params = {"random_state": self.random_state, "n_jobs": self.n_jobs, **(self.boruta_params or {})}
            decision = boruta_decisions(frame, y, **params)["boruta_decision"]
        selected, dropped = select_features(scores[self.relevance], redundancy,
                                            self.redundancy_threshold, self.max_features,
                                            self.min_relevance, decision, self.boruta)
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.relevance_ = scores[self.relevance]
        self.dropped_ = dropped
        self.selected_features_ = list(selected)
        self.support_ = np.isin(self.feature_names_in_, self.selected_features_)
        return self

    def transform(self, X):
        """The selected columns, in the order of relevance."""
        check_is_fitted(self, "selected_features_")
        if isinstance(X, pd.DataFrame):
            missing = [c for c in self.selected_features_ if c not in X.columns]
            if missing:
                raise ValueError(f"transform input lacks selected features {missing}")
            return X[self.selected_features_]
        X = np.asarray(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, the selector was fitted on {self.n_features_in_}")
        index = {name: i for i, name in enumerate(self.feature_names_in_)}
        return X[:, [index[name] for name in self.selected_features_]]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the selected features, best first."""
        check_is_fitted(self, "selected_features_")
        return np.asarray(self.selected_features_, dtype=object)
