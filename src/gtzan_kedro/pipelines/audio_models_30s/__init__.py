"""audio_models_30s: the audio_models template on the 30-s feature table only.

A package of its own so Kedro's pipeline discovery (and its selective loading of
`--pipeline audio_models_30s`) finds it like every other pipeline.
"""

from gtzan_kedro.pipelines.audio_models.pipeline import create_pipeline_30s as create_pipeline

__all__ = ["create_pipeline"]
