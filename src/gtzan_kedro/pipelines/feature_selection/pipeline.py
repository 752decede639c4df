"""feature_selection: one namespaced copy of the analysis per feature table (30-s, 3-s)."""

from kedro.pipeline import Pipeline, node, pipeline

from gtzan_kedro.pipeline_tools import bound
from gtzan_kedro.pipelines.feature_selection import nodes

#: namespace suffix -> (table input, feature_scores output, selected_features output)
TABLES = {
    "30s": ("features_30_sec", "feature_scores", "selected_features"),
    "3s": ("features_3_sec", "feature_scores_3s", "selected_features_3s"),
}


def _table_pipeline(suffix: str) -> Pipeline:
    table, scores_out, selected_out = TABLES[suffix]
    # the 3-s table's catalog entry is optional: a missing table loads None and is skipped
    prepare = node(bound(nodes.prepare_training_rows, table_name=table),
                   ["table", "fault_filtered_split_if_present", "params:feature_selection"],
                   ["partition", "training_rows"], name="prepare_training_rows")
    template = Pipeline([
        prepare,
        node(nodes.robust_scale, ["training_rows", "params:feature_selection"], "scaled_training_rows",
             name="robust_scale"),
        node(nodes.score_relevance, ["training_rows", "params:feature_selection"], "relevance",
             name="score_relevance"),
        node(nodes.score_redundancy, ["training_rows", "params:feature_selection"], "feature_redundancy",
             name="score_redundancy"),
        node(nodes.run_boruta, ["training_rows", "params:feature_selection"], "boruta", name="run_boruta"),
        node(nodes.score_forest_importances, ["training_rows", "params:feature_selection"],
             "forest_importances", name="score_forest_importances"),
        node(nodes.assemble_feature_scores, ["relevance", "boruta", "forest_importances"],
             "feature_scores", name="assemble_feature_scores"),
        node(bound(nodes.choose_features, table_name=table),
             ["training_rows", "feature_scores", "feature_redundancy", "params:feature_selection"],
             "selected_features", name="choose_features"),
        node(nodes.explore_feature_space, ["scaled_training_rows", "params:feature_selection"],
             ["kmeans_scores", "pca_full_png", "pca_mfcc_png", "pca_explained_variance_png",
              "kmeans_scores_png"], name="explore_feature_space"),
        node(bound(nodes.plot_correlation_heatmap, table_name=table), "training_rows",
             "correlation_heatmap_png", name="plot_correlation_heatmap"),
        node(nodes.plot_top_importances, ["feature_scores", "params:feature_selection"],
             "top_importances_png", name="plot_top_importances"),
    ])
    return pipeline(
        template,
        namespace=f"feature_selection_{suffix}",
        inputs={"table": table, "fault_filtered_split_if_present": "fault_filtered_split_if_present"},
        outputs={"feature_scores": scores_out, "selected_features": selected_out},
        parameters={"params:feature_selection"},
    )


def create_pipeline(**kwargs) -> Pipeline:
    """The analysis of every table listed in ``feature_selection.tables`` that is present."""
    # one kedro-viz group `feature_selection` opening into a box per table (dataset names stay)
    return Pipeline([_table_pipeline(suffix) for suffix in TABLES], namespace="feature_selection",
                    prefix_datasets_with_namespace=False)
