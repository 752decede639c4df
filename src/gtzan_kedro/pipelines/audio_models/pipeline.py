"""audio_models: every model of the feature-table template (gtzan_kedro.templates.feature_models)
on every feature set of parameters_audio_models.yml (the 30-s and the 3-s tables)."""

from kedro.pipeline import Pipeline

from gtzan_kedro.templates.feature_models import build


def create_pipeline(**kwargs) -> Pipeline:
    """Every model on every feature set (the 30-s and the 3-s tables)."""
    return build(None)
