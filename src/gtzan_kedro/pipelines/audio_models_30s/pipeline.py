"""audio_models_30s: every model of the feature-table template (gtzan_kedro.templates.feature_models)
on the 30-s feature set only (runs with features_30_sec.csv alone)."""

from kedro.pipeline import Pipeline

from gtzan_kedro.templates.feature_models import build


def create_pipeline(**kwargs) -> Pipeline:
    """Every model on the 30-s table only (runs with features_30_sec.csv alone)."""
    return build(["30s"])
