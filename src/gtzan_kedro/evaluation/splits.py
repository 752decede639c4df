"""Evaluation protocols: which rows train, validate and test a model (by track, never by row).

Three protocols, all returning a list of :class:`Split` (positional row indices):

* ``holdout``: ``n_splits`` stratified Monte-Carlo holdouts (test 20 %, validation 20 % of the
  rest), stratified on the track's genre and grouped by track, so the ten 3-s segments of a
  song always fall on one side.
* ``fault_filtered``: the predefined fault-filtered, artist-conscious split of Kereliuk, Sturm
  and Larsen (2015): train + valid to fit (valid usable for early stopping), test to score.
* ``leaky_segments``: the reports' random split of 3-s segment rows, ignoring tracks; it lets
  segments of one song sit on both sides and is kept only to show how much that inflates scores.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedShuffleSplit

logger = logging.getLogger(__name__)

PROTOCOLS = ("holdout", "fault_filtered", "leaky_segments")
_AUDIO_SUFFIX = re.compile(r"\.(wav|au|mp3|flac|ogg|m4a|aiff?)$", re.IGNORECASE)
_SEGMENT_SUFFIX = re.compile(r"^(.+\.\d+)\.\d+$")


@dataclass(frozen=True)
class Split:
    """Positional row indices of one train/validation/test partition of a table."""

    name: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    @property
    def fit(self) -> np.ndarray:
        """Train and validation rows together (for models that need no validation set)."""
        return np.concatenate([self.train, self.val])


def track_id(filename: str) -> str:
    """The track a feature row belongs to: ``blues.00000.3.wav`` -> ``blues.00000``."""
    stem = _AUDIO_SUFFIX.sub("", str(filename).strip().split("/")[-1])
    match = _SEGMENT_SUFFIX.match(stem)
    return match.group(1) if match and stem.count(".") >= 2 else stem


def track_ids(filenames: Sequence[str]) -> np.ndarray:
    """:func:`track_id` of every filename, as an object array."""
    return np.asarray([track_id(f) for f in filenames], dtype=object)


def _track_labels(labels: np.ndarray, groups: np.ndarray) -> pd.Series:
    frame = pd.DataFrame({"label": np.asarray(labels, dtype=object), "group": groups})
    per_track = frame.groupby("group", sort=True)["label"].agg(lambda s: s.mode().iloc[0])
    mixed = frame.groupby("group")["label"].nunique()
    if (mixed > 1).any():
        logger.warning("%d tracks have rows with different labels; using each track's most "
                       "common label for stratification", int((mixed > 1).sum()))
    return per_track


def _stratified(labels: np.ndarray, size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified shuffle split of positions; falls back to unstratified when a class is tiny."""
    splitter = StratifiedShuffleSplit(n_splits=1, test_size=size, random_state=seed)
    try:
        return next(splitter.split(np.zeros(len(labels)), labels))
    except ValueError as exc:  # a genre with a single track cannot be stratified
        logger.warning("stratification impossible (%s); splitting at random", exc)
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(labels))
        n_test = max(1, int(round(size * len(labels))))
        return np.sort(order[n_test:]), np.sort(order[:n_test])


def _expand(groups: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.isin(groups, chosen))


def holdout_splits(labels: Sequence, groups: Sequence, n_splits: int = 10, test_size: float = 0.2,
                   val_size: float = 0.2, random_state: int = 0) -> list[Split]:
    """``n_splits`` stratified holdouts drawn at the track level, then expanded to rows.

    ``groups`` is the track of each row (see :func:`track_ids`); ``val_size`` is the share of
    the non-test tracks kept for validation (0 gives an empty validation set).
    """
    labels = np.asarray(labels, dtype=object)
    groups = np.asarray(groups, dtype=object)
    if len(labels) != len(groups):
        raise ValueError(f"{len(labels)} labels but {len(groups)} groups")
    per_track = _track_labels(labels, groups)
    tracks = per_track.index.to_numpy(dtype=object)
    track_labels = per_track.to_numpy(dtype=object)
    return [
        Split(f"holdout_{i}", _expand(groups, tracks[train]), _expand(groups, tracks[val]),
              _expand(groups, tracks[test]))
        for i, (train, val, test) in enumerate(
            _train_val_test(track_labels, n_splits, test_size, val_size, random_state))
    ]


def leaky_segment_splits(labels: Sequence, n_splits: int = 10, test_size: float = 0.2,
                         val_size: float = 0.2, random_state: int = 0) -> list[Split]:
    """The reports' random row split: segments of one song may land on both sides (leaky)."""
    labels = np.asarray(labels, dtype=object)
    return [
        Split(f"leaky_{i}", np.sort(train), np.sort(val), np.sort(test))
        for i, (train, val, test) in enumerate(
            _train_val_test(labels, n_splits, test_size, val_size, random_state))
    ]


def _train_val_test(labels: np.ndarray, n_splits: int, test_size: float, val_size: float,
                    random_state: int):
    """Yield ``n_splits`` stratified (train, val, test) position arrays over ``labels``
    (tracks for the grouped holdouts, rows for the leaky split); split ``i`` uses seed
    ``random_state + i``."""
    for i in range(n_splits):
        seed = random_state + i
        rest, test = _stratified(labels, test_size, seed)
        if val_size > 0:
            train_pos, val_pos = _stratified(labels[rest], val_size, seed + 10_000)
            yield rest[train_pos], rest[val_pos], test
        else:
            yield rest, np.array([], dtype=int), test


def fault_filtered_splits(groups: Sequence, split_table: pd.DataFrame,
                          source: str = "fault_filtered_split") -> list[Split]:
    """One split from the predefined file (columns ``filename, split`` in train/valid/test).

    Rows whose track is not in the file (e.g. the faulty tracks it filters out) are left out
    of every side, and counted in a log line.
    """
    missing = {"filename", "split"} - set(split_table.columns)
    if missing:
        raise ValueError(f"{source}: missing columns {sorted(missing)}; expected filename,split")
    sides = pd.Series(np.asarray(split_table["split"], dtype=object),
                      index=track_ids(split_table["filename"]))
    unknown = set(sides.unique()) - {"train", "valid", "test"}
    if unknown:
        raise ValueError(f"{source}: unknown split values {sorted(unknown)}; use train/valid/test")
    groups = np.asarray(groups, dtype=object)
    side = pd.Series(groups).map(sides.to_dict()).to_numpy(dtype=object)
    n_out = int(pd.isna(side).sum())
    if n_out:
        logger.info("%s: %d of %d rows belong to tracks outside the split file and are left out",
                    source, n_out, len(groups))
    split = Split("fault_filtered", np.flatnonzero(side == "train"),
                  np.flatnonzero(side == "valid"), np.flatnonzero(side == "test"))
    if len(split.test) == 0 or len(split.train) == 0:
        raise ValueError(f"{source}: no rows of this table fall in its train or test side; "
                         "does the split file belong to this corpus?")
    return [split]


def make_splits(protocol: str, filenames: Sequence[str], labels: Sequence,
                split_table: pd.DataFrame | None = None, n_splits: int = 10,
                test_size: float = 0.2, val_size: float = 0.2,
                random_state: int = 0) -> list[Split]:
    """The splits of ``protocol`` for a feature table's ``filename`` and ``label`` columns."""
    if protocol == "holdout":
        return holdout_splits(labels, track_ids(filenames), n_splits, test_size, val_size,
                              random_state)
    if protocol == "fault_filtered":
        if split_table is None:
            raise ValueError("fault_filtered needs the split table (fault_filtered_split.csv)")
        return fault_filtered_splits(track_ids(filenames), split_table)
    if protocol == "leaky_segments":
        return leaky_segment_splits(labels, n_splits, test_size, val_size, random_state)
    raise ValueError(f"unknown protocol {protocol!r}; use one of {PROTOCOLS}")
