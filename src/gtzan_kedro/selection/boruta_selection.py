"""Boruta all-relevant selection (boruta.BorutaPy around a random forest).

boruta 0.4.3 was checked for the numpy aliases removed in numpy 1.24 (np.int, np.float,
np.bool): it uses none, and runs unchanged on numpy 2.4, so no shim is needed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from boruta import BorutaPy
from sklearn.ensemble import RandomForestClassifier


def boruta_decisions(features: pd.DataFrame, labels, n_estimators: int | str = 100,
                     max_depth: int | None = 7, max_iter: int = 50, perc: int = 100,
                     alpha: float = 0.05, random_state: int = 0, n_jobs: int = 1) -> pd.DataFrame:
    """Boruta's verdict per feature: ``boruta_decision`` (confirmed / tentative / rejected) and
    ``boruta_rank`` (1 = confirmed; larger = rejected earlier)."""
    codes = pd.factorize(np.asarray(labels, dtype=object))[0]
    forest = RandomForestClassifier(max_depth=max_depth, class_weight="balanced", n_jobs=n_jobs,
                                    random_state=random_state)
    selector = BorutaPy(forest, n_estimators=n_estimators, perc=perc, alpha=alpha,
                        max_iter=max_iter, random_state=random_state, verbose=0)
    selector.fit(features.to_numpy(dtype=np.float64), codes)
    decision = np.where(selector.support_, "confirmed",
                        np.where(selector.support_weak_, "tentative", "rejected"))
    return pd.DataFrame({"boruta_decision": decision.astype(object),
                         "boruta_rank": selector.ranking_.astype(int)},
                        index=pd.Index(features.columns, name="feature"))
