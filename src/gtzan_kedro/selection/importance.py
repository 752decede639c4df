"""Random-forest importances: mean decrease in impurity and permutation importance."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.inspection import permutation_importance


def forest_importances(fit_x: pd.DataFrame, fit_y, eval_x: pd.DataFrame, eval_y,
                       n_estimators: int = 300, max_depth: int | None = None, n_repeats: int = 10,
                       random_state: int = 0, n_jobs: int = 1) -> pd.DataFrame:
    """``mdi`` of a forest fitted on the fit rows and its ``permutation`` importance (mean drop
    in accuracy) on the evaluation rows, which the forest has not seen."""
    forest = RandomForestClassifier(n_estimators=n_estimators, max_depth=max_depth,
                                    random_state=random_state, n_jobs=n_jobs)
    forest.fit(fit_x.to_numpy(dtype=np.float64), np.asarray(fit_y, dtype=object).astype(str))
    permuted = permutation_importance(forest, eval_x.to_numpy(dtype=np.float64),
                                      np.asarray(eval_y, dtype=object).astype(str),
                                      n_repeats=n_repeats, random_state=random_state, n_jobs=n_jobs)
    return pd.DataFrame({"mdi": forest.feature_importances_,
                         "permutation": permuted.importances_mean,
                         "permutation_std": permuted.importances_std},
                        index=pd.Index(fit_x.columns, name="feature"))
