"""ingest: audio folder -> track index, quarantine report, feature tables, tensors, images."""

from kedro.pipeline import Pipeline, node, pipeline

from gtzan_kedro.pipelines.ingest.nodes import build_ingest_report, extract_tracks, index_tracks


def create_pipeline(**kwargs) -> Pipeline:
    """Index and validate the audio, then extract everything from one decode per track
    (only for new or changed files: ``ingest_cache`` and ``ingest_cache_updates`` are the
    read and write sides of one per-track cache; ``ingest_writers`` lets each worker write
    its track's tensors and image as it finishes)."""
    return pipeline(
        [
            node(index_tracks, ["genres_original", "params:ingest"], "track_index",
                 name="index_tracks"),
            node(
                extract_tracks,
                ["track_index", "ingest_cache", "ingest_writers", "params:ingest"],
                ["features_30_sec", "features_3_sec", "valid_tracks", "extraction_failures",
                 "segment_tensors", "mel_images", "ingest_cache_updates", "ingest_stats"],
                name="extract_tracks",
            ),
            node(build_ingest_report, ["track_index", "extraction_failures"], "ingest_report",
                 name="build_ingest_report"),
        ],
        # one kedro-viz group `ingest`; its datasets keep their catalog names
        namespace="ingest",
        prefix_datasets_with_namespace=False,
    )
