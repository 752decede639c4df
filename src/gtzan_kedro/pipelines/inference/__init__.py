"""inference: the genre of every audio file in data/01_raw/inbox, and the servable model."""

from gtzan_kedro.pipelines.inference.pipeline import create_pipeline

__all__ = ["create_pipeline"]
