"""audio_models: MLPs, tuned MLP, trees and SVMs on the feature tables, scored without leakage."""

from gtzan_kedro.pipelines.audio_models.pipeline import (
    create_pipeline,
    create_pipeline_3s,
    create_pipeline_30s,
)

__all__ = ["create_pipeline", "create_pipeline_30s", "create_pipeline_3s"]
