"""image_models: one namespaced train-and-score template per model of
``image_models.models`` in parameters_image_models.yml (kedro-viz: one `image_models` group
opening into `image_models.<model>` boxes). A model's ``kind`` picks its node and inputs."""

from kedro.pipeline import Pipeline, node, pipeline

from gtzan_kedro.pipeline_tools import bound
from gtzan_kedro.pipelines.image_models.nodes import (
    build_binned_fft_images,
    train_image_cnn,
    train_segment_cnn,
    train_transfer_model,
)
from gtzan_kedro.project_parameters import section

GROUP = "image_models"
# kind -> (node function, its data inputs): every input is a dataset shared by all models
KINDS = {
    "segment_cnn": (train_segment_cnn, ["segment_tensors", "fault_filtered_split"]),
    "image_cnn": (train_image_cnn, ["image_models_input_images", "valid_tracks", "fault_filtered_split"]),
    "transfer": (train_transfer_model, ["binned_fft_images", "image_models_input_images",
                                        "valid_tracks", "fault_filtered_split"]),
}
OUTPUTS = ["comparison_rows", "per_split_metrics", "training_history", "per_class_metrics",
           "confusion_matrices", "figures", "fitted_models"]


def _template(name: str, kind: str) -> Pipeline:
    """One model's train-and-score node under ``image_models.<name>``."""
    if kind not in KINDS:
        raise ValueError(f"image_models.models.{name}.kind must be one of {sorted(KINDS)}, got {kind!r} "
                         "(conf/base/parameters_image_models.yml)")
    func, inputs = KINDS[kind]
    return pipeline(
        [node(bound(func, model_name=name), [*inputs, "params:evaluation", "params:model"], OUTPUTS,
              name="train_and_score")],
        namespace=f"{GROUP}.{name}",
        inputs=set(inputs),
        parameters={"params:evaluation": f"params:{GROUP}.evaluation",
                    "params:model": f"params:{GROUP}.models.{name}"},
    )


def create_pipeline(**kwargs) -> Pipeline:
    """The binned-FFT images, then every model of the parameters' list. The images' node has a
    namespace of its own (`image_models.binned_fft`), so `--namespaces image_models.binned_fft,
    image_models.vgg16` runs one transfer model with its inputs (`image_models` alone is all)."""
    binned = Pipeline([
        node(build_binned_fft_images, ["valid_tracks", "params:image_models.binned_fft"],
             "binned_fft_images", name="build_binned_fft_images"),
    ], namespace=f"{GROUP}.binned_fft", prefix_datasets_with_namespace=False)
    models = section(GROUP).get("models") or {}
    return binned + sum((_template(name, spec["kind"]) for name, spec in models.items()), Pipeline([]))
