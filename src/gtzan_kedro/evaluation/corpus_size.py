"""Whether a corpus has enough clips per genre for a model's protocols, checked on the planned
splits before anything is fitted: a grid search's stratified k-fold CV on a split's training
side fails (scikit-learn's bare ``n_splits=5 cannot be greater than the number of members in
each class``) when that side is too small, which a small sample corpus runs into."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from gtzan_kedro.evaluation.splits import Split, make_splits

logger = logging.getLogger(__name__)

# Beyond this many clips per genre the balanced-corpus search stops (GTZAN has 100).
_MAX_CLIPS_SEARCHED = 1000


class TooFewClipsError(ValueError):
    """A protocol's training sides are too small for the model's cross-validation."""


def inner_cv_folds(estimator: Any) -> int | None:
    """The number of CV folds a grid search fits on each training side, or None (no search)."""
    if not hasattr(estimator, "param_grid"):
        return None
    cv = estimator.cv
    if isinstance(cv, int):
        return cv
    return int(cv.get_n_splits()) if hasattr(cv, "get_n_splits") else None


def fewest_per_genre(labels: np.ndarray, rows: np.ndarray, genres: Sequence) -> tuple[int, str]:
    """The smallest number of ``rows`` any genre has (genres absent there count 0), and that genre."""
    counts = pd.Series(labels[rows]).value_counts().reindex(list(genres), fill_value=0)
    return int(counts.min()), str(counts.idxmin())


def clips_needed(protocol: str, n_genres: int, segments_per_clip: int, folds: int,
                 n_splits: int, test_size: float, val_size: float, random_state: int) -> int | None:
    """The fewest clips per genre of a balanced corpus (``segments_per_clip`` rows each) for
    which every split of ``protocol`` (holdout or leaky_segments) keeps at least ``folds`` rows of
    each genre on its training side; None beyond :data:`_MAX_CLIPS_SEARCHED`."""
    split_logger = logging.getLogger("gtzan_kedro.evaluation.splits")
    level = split_logger.level
    split_logger.setLevel(logging.ERROR)  # tiny trial corpora warn about stratification
    try:
        for n in range(1, _MAX_CLIPS_SEARCHED + 1):
            labels = np.repeat([f"g{g}" for g in range(n_genres)], n * segments_per_clip)
            filenames = [f"g{g}.{c:05d}.{s}.wav" if segments_per_clip > 1 else f"g{g}.{c:05d}.wav"
                         for g in range(n_genres) for c in range(n) for s in range(segments_per_clip)]
            splits = make_splits(protocol, filenames, labels, None, n_splits=n_splits,
                                 test_size=test_size, val_size=val_size, random_state=random_state)
            genres = np.unique(labels)
            if all(fewest_per_genre(labels, s.fit, genres)[0] >= folds for s in splits):
                return n
    finally:
        split_logger.setLevel(level)
    return None


def _all_genres_short(fit_labels: np.ndarray, folds: int) -> bool:
    """scikit-learn's failing case: every genre on the training side has fewer rows than folds."""
    counts = pd.Series(fit_labels).value_counts()
    return bool(counts.empty or (counts < folds).all())


def _describe_clips(clips_per_genre: pd.Series) -> str:
    low, high = int(clips_per_genre.min()), int(clips_per_genre.max())
    if low == high:
        return f"{low} per genre"
    return f"{low}-{high} per genre (fewest: {clips_per_genre.idxmin()})"


def check_clips_per_genre(planned: Mapping[str, list[Split]], labels: Sequence, groups: Sequence,
                          folds: int, evaluation: Mapping[str, Any], n_splits: Mapping[str, int],
                          *, source: str, model: str, cv_parameter: str | None = None) -> None:
    """Raise :class:`TooFewClipsError` when a split of ``planned`` (protocol -> splits) leaves
    fewer than ``folds`` training rows in every genre, the case where a stratified k-fold grid
    search cannot run; the message gives each protocol's need in clips per genre, what the table
    has, and which parameter to change. Only some genres short: a warning (scikit-learn runs
    the folds without them)."""
    labels = np.asarray(labels, dtype=object)
    groups = np.asarray(groups, dtype=object)
    genres = np.unique(labels)
    clips = pd.Series(groups).groupby(labels).nunique()
    segments = max(1, int(round(len(labels) / max(1, len(np.unique(groups))))))
    lines, failing = [], False
    for protocol, splits in planned.items():
        fewest, genre, split_name = min((*fewest_per_genre(labels, s.fit, genres), s.name)
                                        for s in splits)
        short = [s.name for s in splits if _all_genres_short(labels[s.fit], folds)]
        failing = failing or bool(short)
        if fewest < folds and not short:
            logger.warning("%s/%s %s: %s has %d training rows in %s, fewer than the %d CV folds; "
                           "its folds run without it", model, source, protocol, genre, fewest,
                           split_name, folds)
        lines.append(f"  {protocol}: " + _need(protocol, splits, labels, groups, genres, folds,
                                               segments, evaluation, n_splits.get(protocol, 1))
                     + f"; this table's training side holds {fewest} (fewest: {genre}, {split_name})")
    if not failing:
        return
    change = [f"regenerate the sample corpus with more clips (sample_data.n_per_genre, into an "
              f"empty data/01_raw/gtzan/genres_original, then `kedro run --pipeline ingest`) or "
              f"add real tracks",
              f"lower the model's folds ({cv_parameter or 'its cv'}, at least 2)"]
    if "holdout" in planned or "leaky_segments" in planned:
        change.append("lower evaluation.test_size for holdout / leaky_segments")
    raise TooFewClipsError(
        f"{model} on {source}: too few clips per genre for its {folds}-fold grid search "
        f"(cv={folds}), which needs {folds} rows of a genre on each split's training side. "
        f"{source} has {_describe_clips(clips)} ({len(labels)} rows).\n" + "\n".join(lines)
        + "\nTo fix: " + "; or ".join(change) + ".")


def _need(protocol: str, splits: list[Split], labels: np.ndarray, groups: np.ndarray,
          genres: np.ndarray, folds: int, segments: int, evaluation: Mapping[str, Any],
          n_splits: int) -> str:
    """What ``protocol`` needs, in clips per genre, for ``folds`` training rows of each genre."""
    if protocol == "fault_filtered":
        # the split file fixes which tracks train: the need follows from its share per genre
        fit_tracks = pd.Series(groups[splits[0].fit]).groupby(labels[splits[0].fit]).nunique()
        all_tracks = pd.Series(groups).groupby(labels).nunique()
        share = (fit_tracks.reindex(genres, fill_value=0) / all_tracks.reindex(genres)).min()
        if share <= 0:
            return ("needs train/valid tracks of every genre in the split file "
                    "(fault_filtered_split.csv has none for some genre)")
        needed = math.ceil(folds / (segments * share))
        return (f"needs about {needed} clips per genre (the split file's train+valid sides hold "
                f"{share:.0%} of a genre's tracks at least)")
    needed = clips_needed(protocol, len(genres), segments, folds, n_splits, evaluation.get("test_size", 0.2),
                          evaluation.get("val_size", 0.2), evaluation.get("random_state", 0))
    settings = f"test_size {evaluation.get('test_size', 0.2)}, {n_splits} splits"
    if needed is None:
        return f"needs more than {_MAX_CLIPS_SEARCHED} clips per genre ({settings})"
    return f"needs at least {needed} clips per genre ({settings})"
