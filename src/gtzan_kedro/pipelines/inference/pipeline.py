"""inference: best trained model -> servable MLflow model + genres of the inbox files."""

from kedro.pipeline import Pipeline, node, pipeline

from gtzan_kedro.pipelines.inference.nodes import (
    build_genre_predictor,
    classify_inbox,
    package_servable_model,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Wrap ``best_audio_model`` as a predictor of raw audio, log it as the servable
    ``gtzan_genre`` MLflow model, and classify every file in ``inference_inbox``."""
    return pipeline(
        [
            node(build_genre_predictor, ["best_audio_model", "params:inference"], "genre_predictor",
                 name="build_genre_predictor"),
            node(package_servable_model, ["genre_predictor", "params:inference"], "genre_pyfunc_model",
                 name="package_servable_model"),
            node(classify_inbox, ["genre_predictor", "inference_inbox"], "inbox_predictions",
                 name="classify_inbox"),
        ],
        namespace="inference",
        inputs={"best_audio_model", "inference_inbox"},
        outputs={"genre_pyfunc_model", "inbox_predictions"},
        parameters={"params:inference"},
    )
