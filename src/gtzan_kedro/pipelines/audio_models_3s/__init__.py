"""audio_models_3s: the audio_models template on the 3-s feature table only.

A package of its own so Kedro's pipeline discovery (and its selective loading of
`--pipeline audio_models_3s`) finds it like every other pipeline.
"""

from gtzan_kedro.pipelines.audio_models.pipeline import create_pipeline_3s as create_pipeline

__all__ = ["create_pipeline"]
