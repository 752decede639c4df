"""image_models: one namespaced training template per model, so kedro-viz groups each."""

from kedro.pipeline import Pipeline, node, pipeline

from gtzan_kedro.pipelines.image_models.nodes import (
    build_binned_fft_images,
    train_image_cnn,
    train_segment_cnn,
    train_transfer_model,
)

SEGMENT_CNNS = ("cnn_stft", "cnn_mel", "cnn_mfcc")
TRANSFER_MODELS = ("vgg16", "alexnet")
SHARED_INPUTS = {"segment_tensors", "fault_filtered_split", "binned_fft_images",
                 "image_models_input_images", "valid_tracks"}


def _template(func, inputs: list[str], model: str) -> Pipeline:
    """One model's train-and-score node under its own namespace; its rows go to the shared
    comparison table and its confusion matrices to data/08_reporting/confusion_matrices."""
    return pipeline(
        [node(func, [*inputs, "params:evaluation", "params:model"],
              ["comparison_rows", "confusion_matrices"], name="train_and_score")],
        namespace=model,
        inputs={name for name in inputs if name in SHARED_INPUTS},
        parameters={"params:evaluation": "params:image_models.evaluation",
                    "params:model": f"params:image_models.{model}"},
    )


def create_pipeline(**kwargs) -> Pipeline:
    """Segment CNNs (STFT, mel, MFCC), the mel-image CNN, and VGG16/AlexNet on binned-FFT images."""
    binned = pipeline([
        node(build_binned_fft_images, ["valid_tracks", "params:image_models.binned_fft"],
             "binned_fft_images", name="build_binned_fft_images"),
    ])
    segment = [_template(train_segment_cnn, ["segment_tensors", "fault_filtered_split"], m)
               for m in SEGMENT_CNNS]
    image = [_template(train_image_cnn, ["image_models_input_images", "valid_tracks",
                                        "fault_filtered_split"],
                       "cnn_image")]
    transfer = [_template(train_transfer_model, ["binned_fft_images", "image_models_input_images",
                                                 "valid_tracks", "fault_filtered_split"], m)
                for m in TRANSFER_MODELS]
    return binned + sum([*segment, *image, *transfer], Pipeline([]))
