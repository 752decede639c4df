"""embeddings: pretrained musicnn embeddings per track and per 3-s patch, as feature tables."""

from gtzan_kedro.pipelines.embeddings.pipeline import create_pipeline

__all__ = ["create_pipeline"]
