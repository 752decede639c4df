"""Maximal information coefficient (Reshef et al. 2011) through ``fast_mine``.

fast_mine is a numba port of minepy's MINE (minepy does not build against numpy 2). Its MIC is
validated in tests/selection/test_mic.py: y = x gives 1.0, y = sin(x) is high and independent
noise gives about 0.13 at n = 1000, as the MINE paper reports.
"""

from __future__ import annotations

import numpy as np
from fast_mine import MineParameter, MineProblem, mine_compute_score, mine_mic
from joblib import Parallel, delayed
from tqdm.auto import tqdm


def mic(x: np.ndarray, y: np.ndarray, alpha: float = 0.6, c: float = 15.0) -> float:
    """MIC of two equally long 1-D samples (0 = independent, 1 = noiseless functional)."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"mic needs two 1-D arrays of equal length, got {x.shape} and {y.shape}")
    if x.size < 4 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0  # MIC of a constant is undefined; nothing can be learnt from it
    score = mine_compute_score(MineProblem(x, y, x.size), MineParameter(alpha=alpha, c=c))
    return float(mine_mic(score)) if score is not None else 0.0


def _mic_batch(pairs: list[tuple[int, int]], a: np.ndarray, b: np.ndarray, alpha: float,
               c: float) -> list[float]:
    return [mic(a[:, i], b[:, j], alpha, c) for i, j in pairs]


def subsample_rows(n_rows: int, max_rows: int | None, seed: int,
                   strata: np.ndarray | None = None) -> np.ndarray:
    """Indices of at most ``max_rows`` rows (stratified by ``strata`` when given), sorted."""
    if not max_rows or n_rows <= max_rows:
        return np.arange(n_rows)
    rng = np.random.default_rng(seed)
    if strata is None:
        return np.sort(rng.choice(n_rows, size=max_rows, replace=False))
    strata = np.asarray(strata)
    picked = []
    for value in np.unique(strata):
        members = np.flatnonzero(strata == value)
        take = max(1, round(max_rows * members.size / n_rows))
        picked.append(rng.choice(members, size=min(take, members.size), replace=False))
    return np.sort(np.concatenate(picked))


def mic_matrix(a: np.ndarray, b: np.ndarray | None = None, alpha: float = 0.6, c: float = 15.0,
               n_jobs: int = 1, desc: str = "MIC") -> np.ndarray:
    """MIC between every column of ``a`` and every column of ``b`` (``b=None``: ``a`` with itself,
    symmetric, computing each pair once). Pairs are spread over ``n_jobs`` processes."""
    a = np.asarray(a, dtype=np.float64)
    symmetric = b is None
    b = a if symmetric else np.asarray(b, dtype=np.float64)
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"mic_matrix needs the same rows in both matrices: {a.shape[0]} != {b.shape[0]}")
    if symmetric:
        pairs = [(i, j) for i in range(a.shape[1]) for j in range(i + 1, a.shape[1])]
    else:
        pairs = [(i, j) for i in range(a.shape[1]) for j in range(b.shape[1])]
    n_batches = max(1, min(len(pairs), 8 * max(1, n_jobs)))
    batches = [pairs[k::n_batches] for k in range(n_batches)]
    results = Parallel(n_jobs=n_jobs)(
        delayed(_mic_batch)(batch, a, b, alpha, c)
        for batch in tqdm(batches, desc=desc, unit="batch", leave=False)
    )
    out = np.eye(a.shape[1]) if symmetric else np.zeros((a.shape[1], b.shape[1]))
    for batch, values in zip(batches, results):
        for (i, j), value in zip(batch, values):
            out[i, j] = value
            if symmetric:
                out[j, i] = value
    return out
