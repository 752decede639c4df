"""multimodal: the MMNN as one namespaced node (kedro-viz shows it as a group)."""

from kedro.pipeline import Pipeline, node, pipeline

from gtzan_kedro.pipelines.multimodal.nodes import train_multimodal


def create_pipeline(**kwargs) -> Pipeline:
    """Features MLP + MFCC CNN trained jointly on 3-s segments, scored like every other model."""
    return pipeline(
        [node(train_multimodal,
              ["segment_tensors", "features_3_sec", "fault_filtered_split", "params:evaluation",
               "params:model"],
              ["comparison_rows", "confusion_matrices"], name="train_and_score")],
        namespace="multimodal",
        inputs={"segment_tensors", "features_3_sec", "fault_filtered_split"},
        parameters={"params:evaluation": "params:multimodal.evaluation",
                    "params:model": "params:multimodal.model"},
    )
