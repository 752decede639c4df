"""Song-level aggregation of segment predictions, and mean/std over splits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd


def song_probabilities(proba: np.ndarray, groups: Sequence, y_true: Sequence | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Mean class probability over each track's segments.

    Returns ``(tracks, song_proba, song_y)``; ``song_y`` is each track's first label
    (None when ``y_true`` is None).
    """
    proba = np.asarray(proba, dtype=float)
    groups = np.asarray(groups, dtype=object)
    frame = pd.DataFrame(proba)
    frame["_group"] = groups
    means = frame.groupby("_group", sort=True).mean()
    tracks = means.index.to_numpy(dtype=object)
    song_y = None
    if y_true is not None:
        first = pd.Series(np.asarray(y_true, dtype=object), index=groups)
        song_y = first.groupby(level=0, sort=True).first().loc[tracks].to_numpy(dtype=object)
    return tracks, means.to_numpy(), song_y


def majority_vote(pred: Sequence, groups: Sequence) -> pd.Series:
    """Each track's most frequent segment prediction (ties: the first label in sorted order)."""
    frame = pd.DataFrame({"pred": np.asarray(pred, dtype=object),
                          "group": np.asarray(groups, dtype=object)})
    return frame.groupby("group", sort=True)["pred"].agg(lambda s: s.value_counts().sort_index()
                                                          .idxmax())


def song_level_accuracy(proba: np.ndarray, y_true: Sequence, groups: Sequence,
                        classes: Sequence) -> dict[str, float]:
    """Song accuracy by mean probability and by majority vote over a track's segments."""
    classes = np.asarray(classes, dtype=object)
    tracks, song_proba, song_y = song_probabilities(proba, groups, y_true)
    mean_pred = classes[np.argmax(song_proba, axis=1)]
    votes = majority_vote(classes[np.argmax(np.asarray(proba), axis=1)], groups).loc[tracks]
    return {
        "song_accuracy_mean_proba": float(np.mean(mean_pred == song_y)),
        "song_accuracy_vote": float(np.mean(votes.to_numpy(dtype=object) == song_y)),
        "n_songs": int(len(tracks)),
    }


def mean_std(per_split: Iterable[dict]) -> dict[str, float]:
    """``<metric>_mean`` and ``<metric>_std`` (population std, ddof=0) of every numeric metric."""
    frame = pd.DataFrame(list(per_split))
    numeric = frame.select_dtypes(include="number")
    out: dict[str, float] = {}
    for column in numeric.columns:
        values = numeric[column].to_numpy(dtype=float)
        out[f"{column}_mean"] = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
        out[f"{column}_std"] = float(np.nanstd(values)) if np.isfinite(values).any() else float("nan")
    return out
