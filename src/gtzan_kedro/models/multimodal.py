"""The report's multimodal network (MMNN): an MLP on a segment's 57 features and a CNN on
the same segment's MFCC tensor, concatenated and trained jointly; plus the explicit join
that pairs each feature row with its tensor."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from gtzan_kedro.audio.features import FEATURE_COLUMNS, segment_filename
from gtzan_kedro.models.cnn import compile_classifier, dense_head, segment_cnn_trunk


class SegmentJoinError(ValueError):
    """The feature table and the segment tensors do not describe the same segments."""


def join_segment_features(
    features_3_sec: pd.DataFrame,
    segment_keys: pd.DataFrame,
    on_mismatch: str = "warn",
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Pair every segment tensor with its features_3_sec row by Kaggle's file name.

    ``segment_keys`` has columns ``track_id``, ``segment`` (index in the track's tensor) and
    ``label``; segment 3 of ``blues.00000.wav`` is the row ``blues.00000.3.wav``. Returns the
    positions in ``segment_keys`` that were joined, their feature matrix (n, 57) and the
    mismatch messages. Label disagreements always raise; missing rows raise when
    ``on_mismatch == "error"`` and are dropped (and reported) when it is ``"warn"``.
    """
    if on_mismatch not in ("warn", "error"):
        raise ValueError(f"on_mismatch must be 'warn' or 'error', got {on_mismatch!r}")
    missing_cols = [c for c in ["filename", "label", *FEATURE_COLUMNS] if c not in features_3_sec.columns]
    if missing_cols:
        raise SegmentJoinError(f"features_3_sec lacks columns {missing_cols[:5]}")
    table = features_3_sec.assign(filename=features_3_sec["filename"].astype(str))
    duplicated = table["filename"][table["filename"].duplicated()]
    if len(duplicated):
        raise SegmentJoinError(f"features_3_sec has {len(duplicated)} duplicated file names, "
                               f"e.g. {list(duplicated.iloc[:3])}")
    names = [segment_filename(t, int(s)) for t, s in zip(segment_keys["track_id"], segment_keys["segment"])]
    keys = pd.DataFrame({"filename": names, "tensor_label": np.asarray(segment_keys["label"], dtype=object),
                         "position": np.arange(len(names))})
    merged = keys.merge(table[["filename", "label", *FEATURE_COLUMNS]], on="filename", how="left",
                        indicator=True)
    problems: list[str] = []
    unmatched = merged[merged["_merge"] == "left_only"]
    if len(unmatched):
        problems.append(f"{len(unmatched)} of {len(merged)} segment tensors have no features_3_sec "
                        f"row (e.g. {list(unmatched['filename'].iloc[:3])})")
    tensor_names = set(names)
    orphan_rows = table[~table["filename"].isin(tensor_names)]
    if len(orphan_rows):
        problems.append(f"{len(orphan_rows)} features_3_sec rows have no segment tensor "
                        f"(e.g. {list(orphan_rows['filename'].iloc[:3])})")
    matched = merged[merged["_merge"] == "both"]
    disagree = matched[np.asarray(matched["label"], dtype=object) != np.asarray(matched["tensor_label"], dtype=object)]
    if len(disagree):
        raise SegmentJoinError(
            f"{len(disagree)} segments carry a different genre in features_3_sec than in their "
            f"tensor, e.g. {disagree['filename'].iloc[0]}: {disagree['label'].iloc[0]} vs "
            f"{disagree['tensor_label'].iloc[0]}"
        )
    if problems and on_mismatch == "error":
        raise SegmentJoinError("; ".join(problems))
    if matched.empty:
        raise SegmentJoinError("no segment tensor matched a features_3_sec row by file name: "
                               + "; ".join(problems))
    positions = matched["position"].to_numpy()
    features = matched[FEATURE_COLUMNS].to_numpy(dtype=np.float32)
    return positions, features, problems


def build_multimodal(
    n_features: int,
    tensor_shape: Sequence[int],
    n_classes: int = 10,
    mlp_units: Sequence[int] = (256, 128),
    conv_filters: Sequence[int] = (16, 32, 64),
    kernel_size: int = 3,
    pool_size: int = 2,
    branch_units: int = 64,
    dense_units: Sequence[int] = (128, 64),
    dropout: float = 0.3,
    learning_rate: float = 1e-3,
):
    """Two inputs, ``features`` (n_features,) and ``mfcc`` (coefficients, frames): an MLP and a
    CNN whose outputs are concatenated into dense layers; one model, trained jointly."""
    import keras
    from keras import layers

    feat_in = keras.Input(shape=(int(n_features),), name="features")
    x = feat_in
    for units in mlp_units:
        x = layers.Dense(units, activation="relu")(x)
        x = layers.Dropout(dropout)(x)
    shape = tuple(int(s) for s in tensor_shape)
    tensor_in = keras.Input(shape=shape if len(shape) == 3 else (*shape, 1), name="mfcc")
    t = segment_cnn_trunk(tensor_in, conv_filters, kernel_size, pool_size, batch_norm=True)
    t = layers.Dense(branch_units, activation="relu")(t)
    x = layers.Dense(branch_units, activation="relu")(x)
    merged = layers.Concatenate()([x, t])
    outputs = dense_head(merged, dense_units, dropout, n_classes)
    return compile_classifier(keras.Model([feat_in, tensor_in], outputs, name="multimodal"), learning_rate)
