"""reporting: the accuracy charts of the shared model comparison table.

Its inputs are the model namespaces' ``comparison_rows`` outputs, named from the same
parameter lists the model pipelines are built from, so Kedro runs it after every model of
the run (each of those datasets loads the whole shared table)."""

from kedro.pipeline import Pipeline, node

from gtzan_kedro.pipelines.reporting.nodes import (
    accuracy_chart,
    comparison_table,
    leakage_chart,
    leakage_table,
)
from gtzan_kedro.project_parameters import section
from gtzan_kedro.templates.feature_models import models_for


def comparison_row_outputs() -> list[str]:
    """Every ``<group>.<model>.comparison_rows`` dataset the parameters define."""
    audio = section("audio_models")
    names = [f"audio_models_{fs}.{m}.comparison_rows"
             for fs in audio["feature_sets"] for m in models_for(fs, audio)]
    for group in ("image_models", "multimodal"):
        names += [f"{group}.{m}.comparison_rows" for m in section(group).get("models") or {}]
    probes = section("embedding_probes")  # the embeddings pipeline's probes
    names += [f"embeddings.{fs}.{m}.comparison_rows"
              for fs in probes.get("feature_sets") or {} for m in models_for(fs, probes)]
    return names


def create_pipeline(**kwargs) -> Pipeline:
    """The comparison table after every model's rows, the accuracy-by-model chart and the
    leakage table and chart."""
    return Pipeline([
        node(comparison_table, comparison_row_outputs(), "comparison_table",
             name="collect_model_comparison"),
        node(accuracy_chart, "comparison_table", "model_accuracy_chart", name="draw_accuracy_chart"),
        node(leakage_table, "comparison_table", "leakage_comparison", name="compare_leakage"),
        node(leakage_chart, "leakage_comparison", "leakage_chart", name="draw_leakage_chart"),
    ], namespace="reporting", prefix_datasets_with_namespace=False)
