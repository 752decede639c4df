"""multimodal: one namespaced train-and-score node per model of ``multimodal.models`` in
parameters_multimodal.yml (kedro-viz: one `multimodal` group opening into its models)."""

from kedro.pipeline import Pipeline, node, pipeline

from gtzan_kedro.pipeline_tools import bound
from gtzan_kedro.pipelines.multimodal.nodes import train_multimodal
from gtzan_kedro.project_parameters import model_names

GROUP = "multimodal"
INPUTS = ["segment_tensors", "features_3_sec", "fault_filtered_split"]


def _template(name: str) -> Pipeline:
    """One MLP + CNN model trained jointly under ``multimodal.<name>``."""
    return pipeline(
        [node(bound(train_multimodal, model_name=name), [*INPUTS, "params:evaluation", "params:model"],
              ["comparison_rows", "per_split_metrics", "training_history", "per_class_metrics",
               "confusion_matrices", "figures", "fitted_models"], name="train_and_score")],
        namespace=f"{GROUP}.{name}",
        inputs=set(INPUTS),
        parameters={"params:evaluation": f"params:{GROUP}.evaluation",
                    "params:model": f"params:{GROUP}.models.{name}"},
    )


def create_pipeline(**kwargs) -> Pipeline:
    """Features MLP + MFCC CNN trained jointly on 3-s segments, scored like every other model."""
    return sum((_template(name) for name in model_names(GROUP)), Pipeline([]))
