"""audio_models_3s: every model on the 3-s segment table, with song-level accuracy and the leaky protocol."""

from gtzan_kedro.pipelines.audio_models_3s.pipeline import create_pipeline

__all__ = ["create_pipeline"]
