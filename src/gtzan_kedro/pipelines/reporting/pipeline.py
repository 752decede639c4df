"""reporting: the comparison heatmap, the leakage table and chart, and report.html.

Its inputs are the model namespaces' ``comparison_rows`` outputs, named from the same
parameter lists the model pipelines are built from, so Kedro runs it after every model of
the run (each of those datasets loads the whole shared table). report.html also reads the
feature-selection scores and, through optional catalog entries, the PM2.5 metrics and every
PNG under data/08_reporting; whatever is absent is reported as not run yet."""

from kedro.pipeline import Pipeline, node

from gtzan_kedro.pipeline_tools import bound
from gtzan_kedro.pipelines.reporting.nodes import (
    accuracy_chart,
    build_report,
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


def row_groups() -> dict[str, dict[str, str]]:
    """Which pipeline scores a comparison row: audio_models_<set> and embeddings by their
    feature sets, image_models and multimodal by model name (their features are inputs)."""
    features = {str(fs): f"audio_models_{fs}" for fs in section("audio_models")["feature_sets"]}
    features |= {str(fs): "embeddings" for fs in section("embedding_probes").get("feature_sets") or {}}
    models = {}
    for group in ("image_models", "multimodal"):
        models |= {str(m): group for m in section(group).get("models") or {}}
    return {"features": features, "models": models}


def create_pipeline(**kwargs) -> Pipeline:
    """The comparison table after every model's rows, its heatmap, the leakage table and
    chart, and report.html."""
    groups = row_groups()
    return Pipeline([
        node(comparison_table, comparison_row_outputs(), "comparison_table",
             name="collect_model_comparison"),
        node(bound(accuracy_chart, groups=groups), "comparison_table", "model_accuracy_chart",
             name="draw_accuracy_chart"),
        node(leakage_table, "comparison_table", "leakage_comparison", name="compare_leakage"),
        node(leakage_chart, "leakage_comparison", "leakage_chart", name="draw_leakage_chart"),
        node(bound(build_report, groups=groups),
             {"comparison": "comparison_table", "leakage": "leakage_comparison",
              "figures": "reporting_figures", "pm25_metrics": "pm25_metrics_if_present",
              "pm25_plots_written": "pm25_plots_written",
              "feature_scores": "feature_scores", "feature_scores_3s": "feature_scores_3s",
              "selected_features": "selected_features", "selected_features_3s": "selected_features_3s",
              "params": "params:reporting", "sample_manifest": "sample_corpus_manifest"},
             "report_html", name="write_report_html"),
    ], namespace="reporting", prefix_datasets_with_namespace=False)
