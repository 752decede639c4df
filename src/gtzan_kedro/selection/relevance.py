"""Feature-to-genre relevance: the strongest association with any one-vs-rest genre indicator."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from gtzan_kedro.selection.mic import mic_matrix, subsample_rows

CORRELATIONS = ("pearson", "spearman")
MEASURES = (*CORRELATIONS, "mic")


def genre_indicators(labels) -> tuple[np.ndarray, list[str]]:
    """One-vs-rest 0/1 indicator matrix (rows x genres) and the genre of each column."""
    labels = np.asarray(labels, dtype=object).astype(str)
    genres = sorted(set(labels))
    if len(genres) < 2:
        raise ValueError(f"relevance needs at least two genres, got {genres}")
    return (labels[:, None] == np.asarray(genres)[None, :]).astype(np.float64), genres


def _standardise(a: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=0)
    norm = np.sqrt((a ** 2).sum(axis=0))
    norm[norm == 0] = np.inf  # a constant column correlates with nothing
    return a / norm


def correlation(a: np.ndarray, b: np.ndarray | None = None, method: str = "pearson") -> np.ndarray:
    """Pearson or Spearman correlation between the columns of ``a`` and of ``b`` (default ``a``)."""
    if method not in CORRELATIONS:
        raise ValueError(f"unknown correlation {method!r}; use one of {CORRELATIONS}")
    a = np.asarray(a, dtype=np.float64)
    b = a if b is None else np.asarray(b, dtype=np.float64)
    if method == "spearman":
        a = rankdata(a, axis=0)
        b = rankdata(b, axis=0)
    return _standardise(a).T @ _standardise(b)


def association_to_genres(features: pd.DataFrame, labels, method: str, mic_params: dict | None = None,
                          n_jobs: int = 1) -> pd.DataFrame:
    """Per feature: the maximum absolute ``method`` association with a genre indicator and that
    genre (columns ``<method>`` and ``<method>_genre``)."""
    indicators, genres = genre_indicators(labels)
    x = features.to_numpy(dtype=np.float64)
    if method == "mic":
        mic_params = dict(mic_params or {})
        rows = subsample_rows(len(x), mic_params.pop("max_rows", None), mic_params.pop("seed", 0),
                              strata=np.asarray(labels, dtype=object).astype(str))
        scores = mic_matrix(x[rows], indicators[rows], n_jobs=n_jobs, desc="MIC feature-genre",
                            **mic_params)
    else:
        scores = np.abs(correlation(x, indicators, method))
    best = scores.argmax(axis=1)
    return pd.DataFrame({method: scores[np.arange(len(best)), best],
                         f"{method}_genre": np.asarray(genres, dtype=object)[best]},
                        index=pd.Index(features.columns, name="feature"))
