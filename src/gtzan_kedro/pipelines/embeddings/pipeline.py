"""embeddings: valid tracks -> musicnn (MSD, MTT) embeddings, one feature table per pooling."""

from kedro.pipeline import Pipeline, node, pipeline

from gtzan_kedro.pipelines.embeddings.nodes import FEATURE_SETS, embed_tracks

OUTPUTS = [*FEATURE_SETS, *(f"{name}_3s" for name in FEATURE_SETS), "embeddings_cache_updates",
           "embeddings_stats"]


def create_pipeline(**kwargs) -> Pipeline:
    """Embed new or changed tracks (``embeddings_cache`` / ``embeddings_cache_updates`` are the
    read and write sides of one per-track cache) and write the track- and patch-level tables."""
    return pipeline([
        node(embed_tracks, ["valid_tracks", "embeddings_cache", "params:embeddings"],
             {name: name for name in OUTPUTS}, name="embed_tracks"),
    ])
