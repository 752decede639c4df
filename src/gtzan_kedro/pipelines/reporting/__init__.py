"""reporting: charts of the model comparison table shared by every model pipeline."""

from gtzan_kedro.pipelines.reporting.pipeline import create_pipeline

__all__ = ["create_pipeline"]
