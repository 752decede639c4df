"""ingest: index and validate audio, quarantine bad files, feature tables, tensors, images."""

from gtzan_kedro.pipelines.ingest.pipeline import create_pipeline

__all__ = ["create_pipeline"]
