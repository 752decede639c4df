"""Time MIC and Boruta at the 3-s table's scale (9990 x 57) on 2 cores.

The real 3-s table is not always at hand, so the matrix is the 30-s table's rows replicated
ten times with 5 % multiplicative jitter (same shape, same marginals, same genres)::

    python -m gtzan_kedro.selection.benchmark ../shared/data/gtzan/features_30_sec.csv

CPU seconds are measured as well as wall seconds, because on a shared machine the wall clock
says more about the neighbours than about the code: CPU seconds / 2 is the wall time on two
idle cores. MIC matrices are timed on a sample of pairs and extrapolated to all of them.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import pandas as pd

from gtzan_kedro.audio.features import FEATURE_COLUMNS
from gtzan_kedro.selection.boruta_selection import boruta_decisions
from gtzan_kedro.selection.mic import mic, subsample_rows
from gtzan_kedro.selection.relevance import association_to_genres, genre_indicators

N_GENRE_PAIRS = len(FEATURE_COLUMNS) * 10
N_FEATURE_PAIRS = len(FEATURE_COLUMNS) * (len(FEATURE_COLUMNS) - 1) // 2


def jittered_segments(table: pd.DataFrame, copies: int = 10, jitter: float = 0.05,
                      seed: int = 0) -> pd.DataFrame:
    """``copies`` jittered rows per track, named like 3-s segments (blues.00000.3.wav)."""
    rng = np.random.default_rng(seed)
    parts = []
    for k in range(copies):
        part = table.copy()
        part[FEATURE_COLUMNS] = part[FEATURE_COLUMNS] * (
            1 + jitter * rng.standard_normal((len(part), len(FEATURE_COLUMNS))))
        part["filename"] = [f.removesuffix(".wav") + f".{k}.wav" for f in table["filename"]]
        parts.append(part)
    return pd.concat(parts, ignore_index=True).iloc[: 999 * copies]


def _cpu_per_pair(a: np.ndarray, b: np.ndarray, pairs: list[tuple[int, int]]) -> float:
    start = time.process_time()
    for i, j in pairs:
        mic(a[:, i], b[:, j])
    return (time.process_time() - start) / len(pairs)


def _report(record: dict, step: str) -> None:
    record["loadavg_1min"] = round(os.getloadavg()[0], 1)
    print(step, json.dumps(record), flush=True)


def main(argv: list[str] | None = None) -> None:
    """Print JSON records of the timings as they come."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("features_30_sec")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--mic-rows", type=int, default=2000)
    parser.add_argument("--sample-pairs", type=int, default=20)
    parser.add_argument("--boruta-trees", type=int, default=200)
    parser.add_argument("--boruta-iter", type=int, default=100)
    args = parser.parse_args(argv)
    big = jittered_segments(pd.read_csv(args.features_30_sec))
    features, labels = big[FEATURE_COLUMNS], np.asarray(big["label"], dtype=object)
    x = features.to_numpy()
    indicators, _ = genre_indicators(labels)
    record: dict[str, object] = {"rows": len(big), "features": len(FEATURE_COLUMNS), "n_jobs": args.n_jobs}
    rng = np.random.default_rng(0)
    feature_pairs = [tuple(rng.choice(x.shape[1], 2, replace=False)) for _ in range(args.sample_pairs)]
    genre_pairs = [(int(rng.integers(x.shape[1])), int(rng.integers(10))) for _ in range(args.sample_pairs)]
    mic(x[:50, 0], x[:50, 1])  # numba compiles on the first call; keep it out of the timings

    sub = subsample_rows(len(x), args.mic_rows, 0, labels)
    for name, rows in ((f"{args.mic_rows}_rows", sub), ("all_rows", np.arange(len(x)))):
        genre_cpu = _cpu_per_pair(x[rows], indicators[rows], genre_pairs)
        feature_cpu = _cpu_per_pair(x[rows], x[rows], feature_pairs)
        record[f"mic_feature_genre_{name}_cpu_s"] = round(genre_cpu * N_GENRE_PAIRS, 1)
        record[f"mic_feature_feature_{name}_cpu_s"] = round(feature_cpu * N_FEATURE_PAIRS, 1)
        _report(record, "step")

    start = time.perf_counter()
    association_to_genres(features, labels, "mic", {"max_rows": args.mic_rows, "seed": 0}, args.n_jobs)
    record[f"mic_feature_genre_{args.mic_rows}_rows_wall_s"] = round(time.perf_counter() - start, 1)
    _report(record, "step")

    start, cpu = time.perf_counter(), time.process_time()
    decisions = boruta_decisions(features, labels, n_estimators=args.boruta_trees, max_depth=7,
                                 max_iter=args.boruta_iter, random_state=0, n_jobs=args.n_jobs)
    record["boruta_wall_s"] = round(time.perf_counter() - start, 1)
    record["boruta_cpu_s"] = round(time.process_time() - cpu, 1)  # forest threads included
    record["boruta"] = decisions["boruta_decision"].value_counts().to_dict()
    _report(record, "done")


if __name__ == "__main__":
    main()
