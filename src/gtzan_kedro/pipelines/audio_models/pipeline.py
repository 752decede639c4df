"""audio_models: one namespaced evaluate-a-model template per model x feature table
(kedro-viz shows `audio_models_30s` / `audio_models_3s` groups, one box per model)."""

from __future__ import annotations

from functools import partial, update_wrapper

from kedro.pipeline import Pipeline, node, pipeline

from gtzan_kedro.pipelines.audio_models.nodes import evaluate_model, select_best_model

COMMON_MODELS = ("mlp_wide5_l1l2", "mlp_deep3_l2", "mlp_pyramid", "mlp_tanh50", "mlp_relu4",
                 "mlp_tuned", "mlp_no_mfcc", "random_forest", "extra_trees", "svm", "svm_unscaled",
                 "svm_quantile", "soft_vote")
MODELS = {
    "30s": ("mlp_nadam3", *COMMON_MODELS),
    "3s": ("mlp_nadam4", *COMMON_MODELS),
}
TABLES = {"30s": "features_30_sec", "3s": "features_3_sec"}


def _named(func, **kwargs):
    bound = partial(func, **kwargs)
    return update_wrapper(bound, func)


def _model_template(features: str, model: str) -> Pipeline:
    """Fit and score ``model`` on the ``features`` table under every protocol."""
    template = Pipeline([
        node(_named(evaluate_model, features=features, model_name=model),
             ["table", "split_table", "selected_features", "params:use_selected_features",
              "params:evaluation", "params:model"],
             ["comparison_rows", "per_split_metrics", "figures"], name="evaluate"),
    ])
    return pipeline(
        pipeline(template, namespace=model,
                 inputs={"table": TABLES[features],
                         "split_table": "audio_models_fault_filtered_split",
                         "selected_features": "selected_features"},
                 parameters={"params:use_selected_features": "params:audio_models.use_selected_features",
                             "params:evaluation": "params:audio_models.evaluation",
                             "params:model": f"params:audio_models.models.{model}"}),
        namespace=f"audio_models_{features}",
        inputs={TABLES[features], "audio_models_fault_filtered_split", "selected_features"},
        parameters={"params:audio_models.use_selected_features", "params:audio_models.evaluation",
                    f"params:audio_models.models.{model}"},
    )


def _best_model(features: tuple[str, ...]) -> Pipeline:
    per_split = [f"audio_models_{f}.{m}.per_split_metrics" for f in features for m in MODELS[f]]

    def best(models, evaluation, *frames):
        tables = dict(zip(features, frames[:len(features)]))
        return select_best_model(list(frames[len(features):]), tables, models, evaluation)

    best.__name__ = "select_best_model"
    best.__doc__ = select_best_model.__doc__
    return Pipeline([node(best, ["params:audio_models.models", "params:audio_models.evaluation",
                                 *(TABLES[f] for f in features), *per_split],
                          "best_audio_model", name="select_best_audio_model")])


def _build(features: tuple[str, ...]) -> Pipeline:
    """Each model's rows are upserted into model_comparison.csv as soon as it is scored, so
    partial runs (``--namespaces``) and parallel runs keep what they finished."""
    models = sum((_model_template(f, m) for f in features for m in MODELS[f]), Pipeline([]))
    return models + _best_model(features)


def create_pipeline(**kwargs) -> Pipeline:
    """Every model on the 30-s and the 3-s tables."""
    return _build(("30s", "3s"))


def create_pipeline_30s(**kwargs) -> Pipeline:
    """Every model on the 30-s table only (runs with features_30_sec.csv alone)."""
    return _build(("30s",))


def create_pipeline_3s(**kwargs) -> Pipeline:
    """Every model on the 3-s segment table, with song-level accuracy and the leaky protocol."""
    return _build(("3s",))
