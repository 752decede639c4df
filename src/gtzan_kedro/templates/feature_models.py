"""The feature-table model template: one namespaced evaluate-a-model pipeline per model x
feature set, both lists read from parameters_audio_models.yml (kedro-viz shows an
`audio_models_<set>` group per feature set, one box per model). Adding a model or a feature set
is a YAML block, nothing here.

Shared by the audio_models, audio_models_30s and audio_models_3s pipelines (and any pipeline
that adds a feature set, e.g. embeddings), which is why it lives outside ``pipelines/``."""

from __future__ import annotations

from kedro.pipeline import Pipeline, node, pipeline

from gtzan_kedro.pipeline_tools import bound
from gtzan_kedro.templates.feature_models_nodes import (
    evaluate_model,
    evaluate_unselected,
    select_best_model,
)
from gtzan_kedro.project_parameters import section

SPLIT_TABLE = "audio_models_fault_filtered_split"


def models_for(feature_set: str, params: dict) -> list[str]:
    """The models scored on ``feature_set``: every model, except those whose ``feature_sets``
    list names other sets only."""
    return [name for name, model in params["models"].items()
            if feature_set in (model or {}).get("feature_sets", [feature_set])]


def _model_template(feature_set: str, table: str, model: str, section_name: str = "audio_models",
                    group: str | None = None, with_selection: bool = True) -> Pipeline:
    """Fit and score ``model`` on the ``feature_set`` table under every protocol of the set, in
    namespace ``<group>.<model>`` (group: ``audio_models_<set>`` unless given)."""
    outputs = ["comparison_rows", "per_split_metrics", "figures", "fitted_model"]
    shared = {"params:evaluation": f"params:{section_name}.evaluation",
              "params:feature_set": f"params:{section_name}.feature_sets.{feature_set}",
              "params:model": f"params:{section_name}.models.{model}"}
    inputs = {"table": table, "split_table": SPLIT_TABLE}
    if with_selection:
        evaluate = node(bound(evaluate_model, features=feature_set, model_name=model,
                              section=section_name),
                        ["table", "split_table", "selected_features", "params:use_selected_features",
                         "params:evaluation", "params:feature_set", "params:model"],
                        outputs, name="evaluate")
        shared["params:use_selected_features"] = f"params:{section_name}.use_selected_features"
        inputs["selected_features"] = "selected_features"
    else:  # feature sets the Kaggle-column selector does not apply to (e.g. embeddings)
        evaluate = node(bound(evaluate_unselected, features=feature_set, model_name=model,
                              section=section_name),
                        ["table", "split_table", "params:evaluation", "params:feature_set",
                         "params:model"], outputs, name="evaluate")
    return pipeline(
        pipeline(Pipeline([evaluate]), namespace=model, inputs=inputs, parameters=shared),
        namespace=group or f"audio_models_{feature_set}",
        inputs=set(inputs.values()),
        parameters=set(shared.values()),
    )


def _best_model(feature_sets: dict[str, dict], models: dict[str, list[str]]) -> Pipeline:
    """Refit the best scikit-learn model on Kaggle's columns, for `gtzan predict`."""
    kaggle = [f for f, spec in feature_sets.items() if spec.get("columns", "kaggle") == "kaggle"]
    tables = [feature_sets[f]["table"] for f in kaggle]
    per_split = [f"audio_models_{f}.{m}.per_split_metrics" for f in feature_sets for m in models[f]]

    def best(models, evaluation, manifest, *frames):
        return select_best_model(list(frames[len(kaggle):]), dict(zip(kaggle, frames[:len(kaggle)])),
                                 models, evaluation, manifest)

    best.__name__ = "select_best_model"
    best.__doc__ = select_best_model.__doc__
    return Pipeline([node(best, ["params:audio_models.models", "params:audio_models.evaluation",
                                 "sample_corpus_manifest", *tables, *per_split],
                          "best_audio_model", name="select_best_audio_model")],
                    namespace="audio_models", prefix_datasets_with_namespace=False)


def build(feature_sets: list[str] | None = None, section_name: str = "audio_models",
          group_prefix: str | None = None) -> Pipeline:
    """Every model on the named feature sets (all of parameters' ``feature_sets`` when None).

    ``section_name`` is the parameters block holding ``feature_sets``, ``models`` and
    ``evaluation`` (audio_models, or another pipeline's own list, e.g. embedding_probes);
    another section's models live in namespaces ``<group_prefix>.<set>.<model>`` (one
    kedro-viz group per pipeline) and get no best-model node here (the pipeline chooses its own).
    Each model's rows are upserted into model_comparison.csv as soon as it is scored, so
    partial runs (``--namespaces``) and parallel runs keep what they finished."""
    params = section(section_name)
    available = params["feature_sets"]
    chosen = {f: available[f] for f in (feature_sets or list(available)) if f in available}
    models = {f: models_for(f, params) for f in chosen}
    if section_name != "audio_models":
        prefix = group_prefix or section_name
        return sum((_model_template(f, spec["table"], m, section_name, f"{prefix}.{f}",
                                    with_selection=False)
                    for f, spec in chosen.items() for m in models[f]), Pipeline([]))
    templates = sum((_model_template(f, spec["table"], m) for f, spec in chosen.items()
                     for m in models[f]), Pipeline([]))
    return templates + _best_model(chosen, models)
