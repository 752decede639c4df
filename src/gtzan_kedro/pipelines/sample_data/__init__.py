"""sample_data: the synthetic GTZAN-shaped corpus and PRSA-format sample in data/01_raw."""

from gtzan_kedro.pipelines.sample_data.pipeline import create_pipeline

__all__ = ["create_pipeline"]
