"""image_models: CNNs on spectrogram tensors and images, and transfer learning."""

from gtzan_kedro.pipelines.image_models.pipeline import create_pipeline

__all__ = ["create_pipeline"]
