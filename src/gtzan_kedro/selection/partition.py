"""Which rows feature selection may look at: the training partition, never the test tracks."""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from gtzan_kedro.evaluation.splits import track_ids as evaluation_track_ids

logger = logging.getLogger(__name__)

_GTZAN_TRACK = re.compile(r"^[^.]+\.\d+$")

#: Row roles: selection fits on TRAIN and VALID rows; TEST and UNUSED rows are never seen.
TRAIN, VALID, TEST, UNUSED = "train", "valid", "test", "unused"


def track_ids(filenames) -> np.ndarray:
    """Track of each row: ``blues.00000.3.wav`` (3-s segment) and ``blues.00000.wav`` -> ``blues.00000``."""
    tracks = evaluation_track_ids(filenames)
    # the evaluation parser accepts any file name; selection needs genre.number to group rows
    for name, track in zip(np.asarray(filenames, dtype=object), tracks):
        if not _GTZAN_TRACK.match(track):
            raise ValueError(f"cannot read a GTZAN track id from filename {name!r} "
                             "(expected e.g. blues.00000.wav or blues.00000.3.wav)")
    return tracks


def _grouped_holdout(labels: np.ndarray, groups: np.ndarray, holdout_fraction: float,
                     seed: int) -> np.ndarray:
    """Boolean mask of a stratified, track-grouped holdout of about ``holdout_fraction``."""
    n_splits = max(2, round(1.0 / holdout_fraction))
    n_groups = len(np.unique(groups))
    if n_groups < n_splits:
        raise ValueError(f"only {n_groups} tracks: too few for a {holdout_fraction:.0%} track-grouped holdout")
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    _, held = next(splitter.split(np.zeros(len(labels)), labels, groups))
    mask = np.zeros(len(labels), dtype=bool)
    mask[held] = True
    return mask


def partition_rows(table: pd.DataFrame, split: pd.DataFrame | None, train_fraction: float = 0.8,
                   valid_fraction: float = 0.2, seed: int = 0, source: str = "table") -> pd.DataFrame:
    """Role of every row of a Kaggle-column feature table (``filename, track, label, role``).

    With the fault-filtered ``split`` (``filename, split``), its train/valid/test tracks keep
    their roles and tracks it does not list are ``unused``. Without it, a seeded stratified
    track-grouped holdout of ``1 - train_fraction`` of the tracks is ``test``, and
    ``valid_fraction`` of the remaining tracks is ``valid`` (for permutation importances).
    """
    if "filename" not in table or "label" not in table:
        raise ValueError(f"{source} needs 'filename' and 'label' columns, has {list(table.columns)[:5]}...")
    tracks = track_ids(table["filename"])
    labels = np.asarray(table["label"], dtype=object)
    if split is not None:
        missing = {"filename", "split"} - set(split.columns)
        if missing:
            raise ValueError(f"fault_filtered_split lacks columns {sorted(missing)}")
        roles_by_track = dict(zip(track_ids(split["filename"]), split["split"].astype(str)))
        unknown = set(roles_by_track.values()) - {TRAIN, VALID, TEST}
        if unknown:
            raise ValueError(f"fault_filtered_split has unknown split values {sorted(unknown)}")
        roles = np.array([roles_by_track.get(t, UNUSED) for t in tracks], dtype=object)
        if not np.isin(roles, [TRAIN, VALID]).any():
            raise ValueError(f"fault_filtered_split lists none of the tracks of {source} as "
                             "train/valid: it belongs to another corpus; remove it or fix the table")
        method = "fault_filtered split (train+valid)"
    else:
        test = _grouped_holdout(labels, tracks, 1.0 - train_fraction, seed)
        roles = np.where(test, TEST, TRAIN).astype(object)
        inner = ~test
        valid = _grouped_holdout(labels[inner], tracks[inner], valid_fraction, seed + 1)
        roles[np.flatnonzero(inner)[valid]] = VALID
        method = f"seeded stratified track-grouped {train_fraction:.0%} partition (seed {seed})"
    out = pd.DataFrame({"filename": np.asarray(table["filename"], dtype=object), "track": tracks,
                        "label": labels, "role": roles})
    out.attrs["method"] = method
    counts = out["role"].value_counts().to_dict()
    logger.info("%s: %s; rows per role %s", source, method, counts)
    return out
