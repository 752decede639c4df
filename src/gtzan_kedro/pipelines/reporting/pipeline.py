"""reporting: the accuracy charts of the shared model comparison table."""

from kedro.pipeline import Pipeline, node

from gtzan_kedro.pipelines.reporting.nodes import accuracy_chart, leakage_chart, leakage_table


def create_pipeline(**kwargs) -> Pipeline:
    """Read model_comparison.csv; write the accuracy-by-model chart and the leakage chart."""
    return Pipeline([
        node(accuracy_chart, "model_comparison", "model_accuracy_chart",
             name="draw_accuracy_chart"),
        node(leakage_table, "model_comparison", "leakage_comparison", name="compare_leakage"),
        node(leakage_chart, "leakage_comparison", "leakage_chart", name="draw_leakage_chart"),
    ], namespace="reporting", inputs={"model_comparison"},
        outputs={"model_accuracy_chart", "leakage_comparison", "leakage_chart"})
