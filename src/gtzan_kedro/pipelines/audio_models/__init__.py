"""audio_models: MLPs, tuned MLP, trees and SVMs on every feature set, scored without leakage."""

from gtzan_kedro.pipelines.audio_models.pipeline import create_pipeline

__all__ = ["create_pipeline"]
