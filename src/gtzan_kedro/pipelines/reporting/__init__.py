"""reporting: the comparison heatmap shared by every model pipeline, the leakage chart and
report.html, the page a user reads after a run."""

from gtzan_kedro.pipelines.reporting.pipeline import create_pipeline

__all__ = ["create_pipeline"]
