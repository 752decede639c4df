"""sample_data: write the procedural music corpus, its manifest and split, and a PRSA sample."""

from kedro.pipeline import Pipeline, node, pipeline

from gtzan_kedro.pipelines.sample_data.nodes import write_sample_corpus, write_sample_prsa


def create_pipeline(**kwargs) -> Pipeline:
    """Synthetic stand-ins for the raw data; each dataset refuses to overwrite real files."""
    return pipeline(
        [
            node(
                write_sample_corpus,
                "params:sample_data",
                ["genres_original", "sample_corpus_manifest", "fault_filtered_split"],
                name="write_sample_corpus",
            ),
            node(write_sample_prsa, "params:sample_data", "pm25_raw", name="write_sample_prsa"),
        ]
    )
