"""multimodal: an MLP on segment features and a CNN on the segment's MFCCs, trained jointly."""

from gtzan_kedro.pipelines.multimodal.pipeline import create_pipeline

__all__ = ["create_pipeline"]
