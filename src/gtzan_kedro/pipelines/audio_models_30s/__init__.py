"""audio_models_30s: every model on the 30-s table only (runs with features_30_sec.csv alone)."""

from gtzan_kedro.pipelines.audio_models_30s.pipeline import create_pipeline

__all__ = ["create_pipeline"]
