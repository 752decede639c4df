"""Time MIC and Boruta at the 3-s table's scale (9990 x 57) on 2 cores.

The real 3-s table is not always at hand, so the matrix is the 30-s table's rows replicated
ten times with 5 % multiplicative jitter (same shape, same marginals, same genres)::

    python -m gtzan_kedro.selection.benchmark ../shared/data/gtzan/features_30_sec.csv
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

from gtzan_kedro.audio.features import FEATURE_COLUMNS
from gtzan_kedro.selection.boruta_selection import boruta_decisions
from gtzan_kedro.selection.mic import mic
from gtzan_kedro.selection.redundancy import redundancy_matrix
from gtzan_kedro.selection.relevance import association_to_genres


def jittered_segments(table: pd.DataFrame, copies: int = 10, jitter: float = 0.05,
                      seed: int = 0) -> pd.DataFrame:
    """``copies`` jittered rows per track, named like 3-s segments (blues.00000.3.wav)."""
    rng = np.random.default_rng(seed)
    parts = []
    for k in range(copies):
        part = table.copy()
        part[FEATURE_COLUMNS] = part[FEATURE_COLUMNS] * (1 + jitter * rng.standard_normal((len(part), len(FEATURE_COLUMNS))))
        part["filename"] = [f.removesuffix(".wav") + f".{k}.wav" for f in table["filename"]]
        parts.append(part)
    return pd.concat(parts, ignore_index=True).iloc[: 999 * copies]


def main(argv: list[str] | None = None) -> None:
    """Print a JSON record of the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("features_30_sec")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--mic-rows", type=int, default=2000)
    parser.add_argument("--boruta-trees", type=int, default=200)
    parser.add_argument("--boruta-iter", type=int, default=100)
    args = parser.parse_args(argv)
    big = jittered_segments(pd.read_csv(args.features_30_sec))
    features, labels = big[FEATURE_COLUMNS], np.asarray(big["label"], dtype=object)
    record: dict[str, object] = {"rows": len(big), "features": len(FEATURE_COLUMNS), "n_jobs": args.n_jobs}

    x = features.to_numpy()
    mic(x[:50, 0], x[:50, 1])  # numba compiles on the first call; keep it out of the timings
    start = time.perf_counter()
    for i in range(10):
        mic(x[:, i], x[:, i + 10])
    record["mic_pair_full_rows_s"] = (time.perf_counter() - start) / 10
    record["mic_57x57_full_rows_extrapolated_min"] = record["mic_pair_full_rows_s"] * 1596 / args.n_jobs / 60

    mic_params = {"max_rows": args.mic_rows, "seed": 0}
    start = time.perf_counter()
    association_to_genres(features, labels, "mic", dict(mic_params), args.n_jobs)
    record["mic_feature_genre_570_pairs_s"] = time.perf_counter() - start
    start = time.perf_counter()
    association_to_genres(features, labels, "mic", {"max_rows": None}, args.n_jobs)
    record["mic_feature_genre_570_pairs_full_rows_s"] = time.perf_counter() - start
    start = time.perf_counter()
    redundancy_matrix(features, "mic", dict(mic_params), args.n_jobs)
    record[f"mic_57x57_{args.mic_rows}_rows_s"] = time.perf_counter() - start

    start = time.perf_counter()
    decisions = boruta_decisions(features, labels, n_estimators=args.boruta_trees, max_depth=7,
                                 max_iter=args.boruta_iter, random_state=0, n_jobs=args.n_jobs)
    record["boruta_s"] = time.perf_counter() - start
    record["boruta"] = decisions["boruta_decision"].value_counts().to_dict()
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
