"""Project pipelines: one package per registered pipeline under ``pipelines/``."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

# Not part of `kedro run` without --pipeline: sample_data writes raw data, inference
# classifies the inbox, and the audio_models_* variants are subsets of audio_models.
EXCLUDED_FROM_DEFAULT = ("sample_data", "inference", "audio_models_30s", "audio_models_3s")


def register_pipelines() -> dict[str, Pipeline]:
    """Every pipeline package, and ``__default__``: all but those excluded above."""
    pipelines = find_pipelines(raise_errors=True)
    pipelines["__default__"] = sum(
        (p for name, p in pipelines.items() if name not in EXCLUDED_FROM_DEFAULT),
        Pipeline([]),
    )
    return pipelines
