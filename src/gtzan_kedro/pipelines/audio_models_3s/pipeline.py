"""audio_models_3s: every model of the feature-table template (gtzan_kedro.templates.feature_models)
on the 3-s feature set only (song-level accuracy and the leaky protocol)."""

from kedro.pipeline import Pipeline

from gtzan_kedro.templates.feature_models import build


def create_pipeline(**kwargs) -> Pipeline:
    """Every model on the 3-s segment table, with song-level accuracy and the leaky protocol."""
    return build(["3s"])
