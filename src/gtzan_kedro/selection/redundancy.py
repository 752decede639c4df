"""Feature-to-feature redundancy and the filter that drops the less relevant of a redundant pair."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gtzan_kedro.selection.mic import mic_matrix, subsample_rows
from gtzan_kedro.selection.relevance import correlation


def redundancy_matrix(features: pd.DataFrame, method: str, mic_params: dict | None = None,
                      n_jobs: int = 1) -> pd.DataFrame:
    """Absolute pairwise association (``pearson``, ``spearman`` or ``mic``) between features."""
    x = features.to_numpy(dtype=np.float64)
    if method == "mic":
        mic_params = dict(mic_params or {})
        rows = subsample_rows(len(x), mic_params.pop("max_rows", None), mic_params.pop("seed", 0))
        values = mic_matrix(x[rows], n_jobs=n_jobs, desc="MIC feature-feature", **mic_params)
    else:
        values = np.abs(correlation(x, method=method))
    np.fill_diagonal(values, 1.0)
    return pd.DataFrame(values, index=features.columns, columns=features.columns)


def drop_redundant(relevance: pd.Series, redundancy: pd.DataFrame,
                   threshold: float) -> tuple[list[str], pd.DataFrame]:
    """Walk features from most to least relevant, keeping one unless its redundancy with an
    already kept feature reaches ``threshold``. Returns the kept names (best first) and a table
    of the dropped ones (``feature, redundant_with, redundancy``)."""
    order = relevance.sort_values(ascending=False, kind="stable").index
    kept: list[str] = []
    dropped = []
    for feature in order:
        if kept:
            links = redundancy.loc[feature, kept]
            partner = links.idxmax()
            if links[partner] >= threshold:
                dropped.append((feature, partner, float(links[partner])))
                continue
        kept.append(feature)
    return kept, pd.DataFrame(dropped, columns=["feature", "redundant_with", "redundancy"])
