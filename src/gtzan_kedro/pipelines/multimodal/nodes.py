"""Nodes of the multimodal pipeline: the report's MMNN on 3-s segments."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from gtzan_kedro.evaluation.keras import evaluate_keras, model_evaluation
from gtzan_kedro.evaluation.samples import SampleSet, load_segment_samples

logger = logging.getLogger(__name__)


def pair_features_with_tensors(
    segment_tensors: dict[str, Callable[[], dict]],
    features_3_sec: pd.DataFrame,
    params: dict[str, Any],
    max_tracks: int | None = None,
) -> SampleSet:
    """Two-input samples: each MFCC segment tensor with its features_3_sec row, joined on
    Kaggle's file name (segment 3 of blues.00000.wav is blues.00000.3.wav)."""
    from gtzan_kedro.models.multimodal import join_segment_features

    if features_3_sec is None:
        raise ValueError("multimodal needs the 3-s feature table (data/03_primary/features_3_sec.csv, "
                         "or Kaggle's data/01_raw/gtzan/features_3_sec.csv with --env gtzan): "
                         "run `kedro run --pipeline ingest` or place Kaggle's file there")
    mfcc = load_segment_samples(segment_tensors, "mfcc", params.get("cmvn_window"), max_tracks)
    segment_index = pd.Series(mfcc.track_ids).groupby(mfcc.track_ids).cumcount().to_numpy()
    keys = pd.DataFrame({"track_id": mfcc.track_ids, "segment": segment_index, "label": mfcc.labels})
    positions, features, problems = join_segment_features(features_3_sec, keys,
                                                          params.get("on_mismatch", "warn"))
    for problem in problems:
        logger.warning("multimodal join: %s; those segments are left out", problem)
    logger.info("multimodal: %d segments joined with their feature rows", len(positions))
    return SampleSet([features, mfcc.inputs[positions]], mfcc.labels[positions],
                     mfcc.track_ids[positions])


def train_multimodal(
    segment_tensors: dict[str, Callable[[], dict]],
    features_3_sec: pd.DataFrame,
    fault_filtered_split: pd.DataFrame,
    evaluation: dict[str, Any],
    params: dict[str, Any],
    model_name: str,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, dict, dict, dict]:
    """Train the MLP+CNN model jointly under each protocol; comparison rows, per-split
    metrics, training history, per-class metrics, confusion matrices, curves and the fitted model. Features are
    standardised per column and MFCCs by one scalar, on training data."""
    from gtzan_kedro.models.multimodal import build_multimodal

    evaluation = model_evaluation(evaluation, params)
    samples = pair_features_with_tensors(segment_tensors, features_3_sec, params,
                                         evaluation.get("max_tracks"))
    n_features = samples.input_list[0].shape[1]
    tensor_shape = samples.input_list[1].shape[1:]
    result = evaluate_keras(
        model_name, params["features"],
        lambda n: build_multimodal(n_features, tensor_shape, n, **params.get("model", {})),
        samples, evaluation["protocols"], evaluation, params.get("fit", {}),
        split_table=fault_filtered_split, how=["column", "scalar"],
    )
    return (result.rows, result.per_split, result.history, result.per_class, result.confusion,
            result.figures, result.fitted_models)
