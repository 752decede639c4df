"""feature_selection: relevance, redundancy, Boruta, forest importances, PCA and K-means."""

from gtzan_kedro.pipelines.feature_selection.pipeline import create_pipeline

__all__ = ["create_pipeline"]
