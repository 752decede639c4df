"""Nodes of the inference pipeline: wrap the trained model, package it, classify the inbox."""

from __future__ import annotations

import logging

import pandas as pd

from gtzan_kedro.inference.predictor import GenrePredictor, as_predictor
from gtzan_kedro.inference.pyfunc import GenrePyfuncModel
from gtzan_kedro.inference.serving import ServingLimits
from gtzan_kedro.inference.report import predictions_table

logger = logging.getLogger(__name__)


def build_genre_predictor(best_audio_model, params: dict) -> GenrePredictor:
    """The trained best model as a predictor of raw audio (segment length, extractor)."""
    predictor = as_predictor(best_audio_model, description="best_audio_model")
    if params.get("segment_seconds"):
        predictor.segment_seconds = float(params["segment_seconds"])
    predictor.extractor = params.get("extractor", predictor.extractor)
    logger.info("genre model: %d genres, %g-s segments, %s extractor",
                len(predictor.classes), predictor.segment_seconds, predictor.extractor)
    return predictor


def package_servable_model(predictor: GenrePredictor, params: dict) -> GenrePyfuncModel:
    """The predictor as one pyfunc (audio in, genre out) with its request limits; the catalog
    entry ``genre_pyfunc_model`` logs and registers it for MLflow's model server."""
    return GenrePyfuncModel(predictor, ServingLimits.from_params(params.get("serving") or {}))


def classify_inbox(predictor: GenrePredictor, inbox: pd.DataFrame) -> pd.DataFrame:
    """One row per inbox file: song genre, top-3, majority vote, or why the file failed."""
    paths = list(inbox["path"])
    if not paths:
        logger.warning("the inbox holds no audio files (wav, mp3, flac, ogg, au): nothing to classify")
    results = predictor.predict_paths(paths, progress=True)
    for result in results:
        if "error" in result:
            logger.warning("not classified: %s", result["error"])
    table = predictions_table(results)
    logger.info("classified %d of %d inbox files", int(table["error"].isna().sum()), len(table))
    return table
