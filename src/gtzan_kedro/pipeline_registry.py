"""Project pipelines: one package per registered pipeline under ``pipelines/``."""

from __future__ import annotations

import logging

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

logger = logging.getLogger(__name__)

# Not part of `kedro run` without --pipeline: sample_data writes raw data, inference
# classifies the inbox, and the audio_models_* variants are subsets of audio_models.
EXCLUDED_FROM_DEFAULT = ("sample_data", "inference", "audio_models_30s", "audio_models_3s")


def register_pipelines() -> dict[str, Pipeline]:
    """Register every pipeline package plus the 30-s/3-s variants of audio_models."""
    pipelines = find_pipelines(raise_errors=False)
    try:
        from gtzan_kedro.pipelines.audio_models import pipeline as audio_models

        pipelines["audio_models_30s"] = audio_models.create_pipeline_30s()
        pipelines["audio_models_3s"] = audio_models.create_pipeline_3s()
    except ImportError as exc:  # the package is optional while it is being built
        logger.warning("audio_models variants not registered: %s", exc)
    pipelines["__default__"] = sum(
        (p for name, p in pipelines.items() if name not in EXCLUDED_FROM_DEFAULT),
        Pipeline([]),
    )
    return pipelines
