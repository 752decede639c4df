"""reporting: the accuracy charts of the shared model comparison table."""

from kedro.pipeline import Pipeline, node

from gtzan_kedro.pipelines.reporting.nodes import (
    accuracy_chart,
    final_comparison,
    leakage_chart,
    leakage_table,
)


def model_comparison_outputs() -> list[str]:
    """Every dataset through which a model pipeline writes rows into model_comparison.csv."""
    from gtzan_kedro.pipelines import audio_models, image_models, multimodal

    names: set[str] = set()
    for package in (audio_models, image_models, multimodal):
        names |= {name for name in package.create_pipeline().all_outputs()
                  if name.endswith("comparison_rows")}
    return sorted(names)


def create_pipeline(**kwargs) -> Pipeline:
    """Read model_comparison.csv after the model pipelines; write the accuracy-by-model chart
    and the leakage chart."""
    row_outputs = model_comparison_outputs()
    return Pipeline([
        node(final_comparison, ["model_comparison", *row_outputs], "final_comparison",
             name="collect_model_comparison"),
        node(accuracy_chart, "final_comparison", "model_accuracy_chart",
             name="draw_accuracy_chart"),
        node(leakage_table, "final_comparison", "leakage_comparison", name="compare_leakage"),
        node(leakage_chart, "leakage_comparison", "leakage_chart", name="draw_leakage_chart"),
    ], namespace="reporting", inputs={"model_comparison", *row_outputs},
        outputs={"model_accuracy_chart", "leakage_comparison", "leakage_chart"})
