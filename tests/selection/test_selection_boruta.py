"""Boruta confirms an informative feature and rejects pure noise."""

import numpy as np
import pandas as pd

from gtzan_kedro.selection.boruta_selection import boruta_decisions


def test_boruta_confirms_signal_and_rejects_noise():
    rng = np.random.default_rng(2)
    n = 300
    y = rng.integers(0, 3, n)
    features = pd.DataFrame({"informative": y + 0.5 * rng.standard_normal(n),
                             **{f"noise{i}": rng.standard_normal(n) for i in range(4)}})
    labels = np.array(["blues", "jazz", "metal"], dtype=object)[y]
    out = boruta_decisions(features, labels, n_estimators=50, max_depth=5, max_iter=30, random_state=2)
    assert out.loc["informative", "boruta_decision"] == "confirmed"
    assert out.loc["informative", "boruta_rank"] == 1
    assert (out.drop(index="informative")["boruta_decision"] == "rejected").all()
    assert (out.drop(index="informative")["boruta_rank"] > 1).all()
