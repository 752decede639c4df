"""Candidate 'best models' for the 30-s table, chosen honestly: each candidate's inner 5-fold CV
accuracy on every holdout's training rows is the selection score; its test accuracy on the
10 holdouts and on the fault-filtered test tracks is reported beside it (never used to choose).

    nice -n 10 .venv/bin/python benchmarks/audio_candidates.py \
        --table ../shared/data/gtzan/features_30_sec.csv \
        --split ../shared/data/gtzan/fault_filtered_split.csv [--only soft_vote svm_derived ...]

Writes one JSON line per candidate to stdout and a Markdown table at the end. The members are
the project's own building blocks (gtzan_kedro.models.baselines) plus scikit-learn.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.ensemble import ExtraTreesClassifier, StackingClassifier, VotingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier, NeighborhoodComponentsAnalysis
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVC
from tqdm.auto import tqdm

from gtzan_kedro.audio.features import FEATURE_COLUMNS
from gtzan_kedro.datasets.comparison import to_markdown
from gtzan_kedro.evaluation.splits import make_splits
from gtzan_kedro.models.baselines import quantile_normal

_COL = {c: i for i, c in enumerate(FEATURE_COLUMNS)}
_SHAPE = ["chroma_stft", "rms", "spectral_centroid", "spectral_bandwidth", "rolloff", "zero_crossing_rate"]
_EPS = 1e-12


def _log_variance(X: np.ndarray) -> np.ndarray:
    X = X.copy()
    idx = [i for c, i in _COL.items() if c.endswith("_var")]
    X[:, idx] = np.log(np.maximum(X[:, idx], _EPS))
    return X


def _derived(X: np.ndarray) -> np.ndarray:
    """28 ratio features an RBF kernel on rank-Gaussianised columns cannot form by itself:
    coefficients of variation, spectral shape ratios, harmonic/percussive balance, MFCC SNRs."""
    c = _COL
    extra = [np.log(np.sqrt(np.maximum(X[:, c[f"{p}_var"]], _EPS)) / np.maximum(X[:, c[f"{p}_mean"]], _EPS))
             for p in _SHAPE]
    extra += [np.log(X[:, c["spectral_centroid_mean"]] / X[:, c["rolloff_mean"]]),
              np.log(X[:, c["spectral_bandwidth_mean"]] / X[:, c["spectral_centroid_mean"]]),
              np.log(np.maximum(X[:, c["harmony_var"]], _EPS) / np.maximum(X[:, c["perceptr_var"]], _EPS))]
    extra += [X[:, c[f"mfcc{k}_mean"]] / np.sqrt(np.maximum(X[:, c[f"mfcc{k}_var"]], _EPS)) for k in range(2, 21)]
    return np.hstack([X, np.column_stack(extra)])


def _first(derived: bool) -> list:
    return [FunctionTransformer(_derived)] if derived else []


def _svm(C: float = 10, derived: bool = False) -> BaseEstimator:
    return make_pipeline(*_first(derived), quantile_normal(), StandardScaler(),
                         SVC(C=C, probability=True, random_state=0))


def _logistic(C: float = 0.1, derived: bool = False) -> BaseEstimator:
    return make_pipeline(*_first(derived), quantile_normal(), StandardScaler(),
                         LogisticRegression(C=C, max_iter=5000))


def _trees(derived: bool = False) -> BaseEstimator:
    return make_pipeline(*_first(derived), ExtraTreesClassifier(n_estimators=500, max_features=0.3, random_state=0))


def _knn() -> BaseEstimator:
    return make_pipeline(quantile_normal(), StandardScaler(), KNeighborsClassifier(15, weights="distance"))


def _lda() -> BaseEstimator:
    return make_pipeline(quantile_normal(), StandardScaler(),
                         LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"))


def _mlp_bag(n: int = 5) -> BaseEstimator:
    return VotingClassifier([(f"mlp{s}", make_pipeline(quantile_normal(), StandardScaler(), MLPClassifier(
        (256,), alpha=1.0, max_iter=600, random_state=s))) for s in range(n)], voting="soft")


def _vote(members: dict[str, BaseEstimator]) -> BaseEstimator:
    return VotingClassifier(list(members.items()), voting="soft")


CANDIDATES: dict[str, Callable[[], BaseEstimator]] = {
    "logistic_C0.01": lambda: _logistic(0.01),
    "logistic_C0.03": lambda: _logistic(0.03),
    "logistic_C0.1": lambda: _logistic(0.1),
    "lda_shrinkage": _lda,
    "svm_quantile_C3": lambda: _svm(3),
    "svm_quantile_C10": lambda: _svm(10),
    "svm_quantile_C30": lambda: _svm(30),
    "svm_derived": lambda: _svm(10, derived=True),
    "logistic_derived": lambda: _logistic(0.1, derived=True),
    "nca_knn": lambda: make_pipeline(*_first(True), quantile_normal(), StandardScaler(),
                                     NeighborhoodComponentsAnalysis(n_components=40, max_iter=100, random_state=0),
                                     KNeighborsClassifier(10, weights="distance")),
    "mlp_bag5": _mlp_bag,
    "soft_vote (pipeline's)": lambda: _vote({"svm": _svm(), "logistic": _logistic(), "trees": _trees()}),
    "soft_vote + knn": lambda: _vote({"svm": _svm(), "logistic": _logistic(), "trees": _trees(), "knn": _knn()}),
    "soft_vote + lda": lambda: _vote({"svm": _svm(), "logistic": _logistic(), "trees": _trees(), "lda": _lda()}),
    "soft_vote + svm_log_variance": lambda: _vote({
        "svm": _svm(), "svm_log": make_pipeline(FunctionTransformer(_log_variance), StandardScaler(),
                                                SVC(C=10, probability=True, random_state=0)),
        "logistic": _logistic(), "trees": _trees()}),
    "soft_vote + mlp_bag5": lambda: _vote({"svm": _svm(), "logistic": _logistic(), "trees": _trees(),
                                           "mlp": _mlp_bag()}),
    "soft_vote, derived features": lambda: _vote({"svm": _svm(derived=True), "logistic": _logistic(derived=True),
                                                  "trees": _trees(derived=True)}),
    "stacking (svm, logistic, trees, knn)": lambda: StackingClassifier(
        [("svm", _svm()), ("logistic", _logistic()), ("trees", _trees()), ("knn", _knn())],
        final_estimator=LogisticRegression(max_iter=5000), cv=5, stack_method="predict_proba"),
}


def accuracy(model: BaseEstimator, X: np.ndarray, y: np.ndarray, fit: np.ndarray, test: np.ndarray) -> float:
    return float(np.mean(model.fit(X[fit], y[fit]).predict(X[test]) == y[test]))


def score(name: str, X: np.ndarray, y: np.ndarray, holdouts, fault_filtered) -> dict:
    """Inner CV (selection), holdout and fault-filtered test accuracy of one candidate."""
    start, make = time.perf_counter(), CANDIDATES[name]
    inner, test = [], []
    for split in holdouts:
        inner.append(cross_val_score(make(), X[split.fit], y[split.fit],
                                     cv=StratifiedKFold(5, shuffle=True, random_state=1)).mean())
        test.append(accuracy(make(), X, y, split.fit, split.test))
    row = {"candidate": name, "inner_cv": float(np.mean(inner)), "holdout": float(np.mean(test)),
           "holdout_std": float(np.std(test))}
    if fault_filtered is not None:
        row["fault_filtered"] = accuracy(make(), X, y, fault_filtered.fit, fault_filtered.test)
    row["seconds"] = round(time.perf_counter() - start)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", required=True, help="Kaggle's features_30_sec.csv")
    parser.add_argument("--split", help="fault_filtered_split.csv (filename,split)")
    parser.add_argument("--only", nargs="+", choices=list(CANDIDATES), help="candidates to run (default: all)")
    parser.add_argument("--n-splits", type=int, default=10)
    args = parser.parse_args()

    table = pd.read_csv(args.table)
    X = table[FEATURE_COLUMNS].to_numpy(float)
    y = np.asarray(table["label"], dtype=object)
    holdouts = make_splits("holdout", table["filename"], y, n_splits=args.n_splits)
    fault_filtered = (make_splits("fault_filtered", table["filename"], y, split_table=pd.read_csv(args.split))[0]
                      if args.split else None)
    rows = []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)  # SVC(probability=True), see baselines
        warnings.filterwarnings("ignore", category=ConvergenceWarning)  # mlp_bag5 stops at max_iter by design
        for name in tqdm(args.only or list(CANDIDATES), desc="candidates", unit="model"):
            rows.append(score(name, X, y, holdouts, fault_filtered))
            print(json.dumps(rows[-1]), flush=True)
    frame = pd.DataFrame(rows).sort_values("inner_cv", ascending=False)
    print(to_markdown(frame))


if __name__ == "__main__":
    main()
