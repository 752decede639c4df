"""audio_models: the model list read from parameters, the evaluate node on real rows, and
`kedro run --pipeline audio_models_30s` end to end on a tiny 30-s table without the split file
(the protocol is then skipped)."""


import numpy as np
import pandas as pd
import pytest

from gtzan_kedro.audio.features import FEATURE_COLUMNS
from gtzan_kedro.evaluation.tabular import fit_split
from gtzan_kedro.models.baselines import build_estimator, with_selector
from gtzan_kedro.templates.feature_models import build
from gtzan_kedro.templates.feature_models_nodes import _selector, evaluate_model

EVALUATION = {"n_splits": 2, "permutation_repeats": 1, "log_models": False}
SET_30S = {"table": "features_30_sec", "columns": "kaggle", "protocols": ["holdout", "fault_filtered"]}
SET_3S = {"table": "features_3_sec", "columns": "kaggle",
          "protocols": ["holdout", "fault_filtered", "leaky_segments"]}

TINY_PARAMS = """
audio_models:
  evaluation: {n_splits: 2, permutation_repeats: 1, log_models: false}
  models:
    mlp_nadam3: {epochs: 1}
    mlp_wide5_l1l2: {epochs: 1}
    mlp_deep3_l2: {epochs: 1}
    mlp_pyramid: {epochs: 1}
    mlp_tanh50: {epochs: 1}
    mlp_relu4: {epochs: 1}
    mlp_no_mfcc: {epochs: 1}
    mlp_tuned: {epochs: 1, tuner: {max_trials: 1, epochs: 1}}
    random_forest: {params: {model__n_estimators: 5}, grid: {model__max_features: [sqrt]}, cv: 2}
    extra_trees: {params: {model__n_estimators: 5}, grid: {model__max_features: [sqrt]}, cv: 2}
    svm: {grid: {model__C: [1]}, cv: 2}
    svm_unscaled: {grid: {model__C: [1]}, cv: 2}
    svm_quantile: {grid: {model__C: [1]}, cv: 2}
    soft_vote:
      members: {svm_quantile: {model__C: 1}, logistic_regression: {model__C: 0.5},
                extra_trees: {model__n_estimators: 5}}
"""


def test_pipelines_are_namespaced_per_model_and_table():
    both, only_30s = build(), build(["30s"])
    namespaces = {n.namespace for n in only_30s.nodes if n.namespace}
    assert "audio_models_30s.svm" in namespaces and "audio_models_30s.mlp_tuned" in namespaces
    assert not any(ns.startswith("audio_models_3s") for ns in namespaces)
    assert "features_3_sec" not in only_30s.inputs() and "features_30_sec" in only_30s.inputs()
    assert {"features_3_sec", "features_30_sec"} <= both.inputs()
    assert "best_audio_model" in only_30s.outputs()


def test_evaluate_model_scores_both_protocols_on_segments(kaggle_30s, shared_data):
    """A 3-s-like table (the 30-s rows split into fake segments) under all three protocols."""
    base = kaggle_30s.groupby("label").head(8).reset_index(drop=True)
    rng = np.random.default_rng(0)
    segments = []
    for k in range(3):
        part = base.copy()
        part["filename"] = part.filename.str.replace(".wav", f".{k}.wav", regex=False)
        part[FEATURE_COLUMNS] = part[FEATURE_COLUMNS] * rng.normal(1, 0.02, size=part[FEATURE_COLUMNS].shape)
        segments.append(part)
    table = pd.concat(segments, ignore_index=True)
    split_table = pd.read_csv(shared_data("gtzan/fault_filtered_split.csv"))
    rows, per_split, figures, fitted = evaluate_model(
        table, split_table, None, False, EVALUATION, SET_3S,
        {"kind": "random_forest", "params": {"model__n_estimators": 20}, "grid": {}}, "3s",
        "random_forest")
    assert fitted.predict_proba(table[FEATURE_COLUMNS]).shape == (len(table), 10)
    assert list(rows.protocol) == ["holdout", "fault_filtered", "leaky_segments"]
    assert rows.loc[rows.protocol == "holdout", "accuracy_mean"].item() > 0.3  # chance: 0.1
    assert rows["song_accuracy_vote_mean"].notna().all()
    assert len(per_split) == 2 + 1 + 2
    assert {"confusion_holdout.png", "importance_impurity.png", "importance_permutation.png"} <= set(figures)


def test_use_selected_features_without_the_file_is_a_clear_error(kaggle_30s):
    with pytest.raises(ValueError, match="selected_features.json"):
        evaluate_model(kaggle_30s.head(40), None, None, True, EVALUATION, SET_30S,
                       {"kind": "svm"}, "30s", "svm")


@pytest.mark.e2e
def test_audio_models_30s_runs_with_only_the_30s_table(kedro_project, kaggle_30s):
    tiny = kaggle_30s.groupby("label").head(6)
    tiny.to_csv(kedro_project.path / "data/03_primary/features_30_sec.csv", index=False)
    # as if ingest had read the sample corpus: the bundle must say so
    manifest = kedro_project.path / "data/01_raw/gtzan/sample_corpus_manifest.csv"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    tiny[["filename"]].assign(synthetic=True).to_csv(manifest, index=False)
    kedro_project.write_conf("local/parameters_audio_models.yml", TINY_PARAMS)
    proc = kedro_project.run("--pipeline", "audio_models_30s")
    assert "fault_filtered skipped" in proc.stdout + proc.stderr
    reporting = kedro_project.path / "data/08_reporting"
    table = pd.read_csv(reporting / "model_comparison.csv")
    assert list(table.columns[:8]) == ["model", "features", "protocol", "n_splits", "accuracy_mean",
                                       "accuracy_std", "auroc_mean", "auprc_mean"]
    expected = {"mlp_nadam3", "mlp_wide5_l1l2", "mlp_deep3_l2", "mlp_pyramid", "mlp_tanh50",
                "mlp_relu4", "mlp_tuned", "mlp_no_mfcc", "random_forest", "extra_trees", "svm",
                "svm_unscaled", "svm_quantile", "soft_vote"}
    assert set(table.model) == expected and set(table.protocol) == {"holdout"}
    assert (table.n_splits == 2).all() and table.accuracy_mean.between(0, 1).all()
    assert (reporting / "model_comparison.md").exists()
    assert (reporting / "audio_models_30s/svm/confusion_holdout.png").stat().st_size > 1000
    assert (reporting / "audio_models_30s/random_forest/importance_permutation.png").exists()
    with open(kedro_project.path / "data/06_models/best_audio_model.pkl", "rb") as handle:
        import joblib

        bundle = joblib.load(handle)
    proba = bundle["model"].predict_proba(tiny[bundle["feature_columns"]])
    assert proba.shape == (len(tiny), 10) and bundle["classes"] == sorted(tiny.label.unique())
    assert bundle["training_note"].startswith("trained on the synthetic sample corpus (60 generated")
    # the reporting pipeline draws the chart from the accumulated table
    kedro_project.run("--pipeline", "reporting")
    assert (reporting / "model_accuracy.png").stat().st_size > 1000


def test_selected_features_are_refitted_inside_each_split(kaggle_30s):
    table = kaggle_30s.groupby("label").head(6).reset_index(drop=True)
    selected = {"features": ["mfcc1_mean"], "selector": {"max_features": 5}}
    rows, per_split, _, _ = evaluate_model(table, None, selected, True, EVALUATION,
                                           {**SET_30S, "protocols": ["holdout"]},
                                           {"kind": "svm"}, "30s", "svm")
    assert rows["selected_features"].all() and rows.loc[0, "n_splits"] == 2
    # the selector inside a split saw that split's training rows only
    from gtzan_kedro.evaluation.splits import holdout_splits, track_ids
    from gtzan_kedro.selection.transformers import FeatureSelector

    X = table[FEATURE_COLUMNS].astype(float)
    y = np.asarray(table.label, dtype=object)
    split = holdout_splits(y, track_ids(table.filename), n_splits=1)[0]
    estimator = with_selector(build_estimator({"kind": "svm"}), _selector(selected, True))
    out = fit_split(estimator, X, y, track_ids(table.filename), split)
    expected = FeatureSelector(max_features=5).fit(X.iloc[split.fit], y[split.fit])
    assert out.model["select"].selected_features_ == expected.selected_features_
    assert len(expected.selected_features_) <= 5


NEW_MODEL = """
audio_models:
  evaluation: {n_splits: 2, permutation_repeats: 0, log_models: true}
  models:
    logreg_added_in_yaml: {kind: logistic_regression, params: {model__C: 0.3}}
"""


def test_a_model_is_one_yaml_block(kedro_project, kaggle_30s, monkeypatch):
    """A model added through parameters alone (conf/local) is scored, its rows reach the
    comparison table and it gets its own nested MLflow run with the shared metric names."""
    import mlflow
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    from gtzan_kedro.project_parameters import forget_run

    kaggle_30s.groupby("label").head(6).to_csv(
        kedro_project.path / "data/03_primary/features_30_sec.csv", index=False)
    kedro_project.write_conf("local/parameters_audio_models.yml", NEW_MODEL)
    monkeypatch.chdir(kedro_project.path)
    bootstrap_project(kedro_project.path)
    try:
        with KedroSession.create(project_path=kedro_project.path) as session:
            session.run(pipeline_name="audio_models_30s",
                        namespaces=["audio_models_30s.logreg_added_in_yaml"])
    finally:
        forget_run()
    table = pd.read_csv(kedro_project.path / "data/08_reporting/model_comparison.csv")
    row = table[table.model == "logreg_added_in_yaml"]
    assert list(row.protocol) == ["holdout"] and row.n_splits.item() == 2
    assert (kedro_project.path / "data/06_models/audio_models_30s/logreg_added_in_yaml.pkl").exists()

    mlflow.set_tracking_uri(f"sqlite:///{kedro_project.path / 'mlflow.db'}")
    runs = mlflow.search_runs(experiment_names=["gtzan_kedro"], output_format="list")
    nested = [r for r in runs if r.info.run_name == "audio_models_30s.logreg_added_in_yaml"]
    assert len(nested) == 1 and "mlflow.parentRunId" in nested[0].data.tags
    run = nested[0]
    assert run.data.metrics["holdout.accuracy_mean"] == pytest.approx(row.accuracy_mean.item())
    assert run.data.params["model.kind"] == "logistic_regression"
    assert run.data.tags["model"] == "logreg_added_in_yaml"
    client = mlflow.MlflowClient()
    assert len(client.get_metric_history(run.info.run_id, "holdout.split_accuracy")) == 2
    assert "figures" in {a.path for a in client.list_artifacts(run.info.run_id)}
    # log_models: true: MLflow 3 keeps the fitted model as a logged model of this run
    models = mlflow.search_logged_models(experiment_ids=[run.info.experiment_id], output_format="list")
    assert [m.source_run_id for m in models] == [run.info.run_id]


def test_two_models_run_in_process_on_a_tiny_catalog(kaggle_30s):
    """The template as Kedro runs it (SequentialRunner on a DataCatalog), two models only."""
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.runner import SequentialRunner

    pipe = build(["30s"]).filter(node_namespaces=["audio_models_30s.svm", "audio_models_30s.extra_trees"])
    params = {
        "audio_models.use_selected_features": False,
        "audio_models.evaluation": EVALUATION,
        "audio_models.feature_sets.30s": SET_30S,
        "audio_models.models.svm": {"kind": "svm", "grid": {"model__C": [1]}, "cv": 2},
        "audio_models.models.extra_trees": {"kind": "extra_trees", "params": {"model__n_estimators": 5}},
    }
    catalog = DataCatalog({"features_30_sec": MemoryDataset(kaggle_30s.groupby("label").head(6)),
                           "audio_models_fault_filtered_split": MemoryDataset(None),
                           "selected_features": MemoryDataset(None),
                           **{f"params:{k}": MemoryDataset(v) for k, v in params.items()},
                           **{name: MemoryDataset() for name in pipe.outputs()}})
    SequentialRunner().run(pipe, catalog)
    svm = catalog.load("audio_models_30s.svm.comparison_rows")
    trees = catalog.load("audio_models_30s.extra_trees.comparison_rows")
    assert list(svm.protocol) == list(trees.protocol) == ["holdout"]  # no split file: skipped
    assert (svm.n_splits == 2).all() and trees.accuracy_mean.between(0, 1).all()
    assert len(catalog.load("audio_models_30s.svm.per_split_metrics")) == 2
    assert "importance_impurity.png" in catalog.load("audio_models_30s.extra_trees.figures")
    assert hasattr(catalog.load("audio_models_30s.svm.fitted_model"), "predict_proba")


def test_tuner_trains_at_the_models_budget_unless_its_block_says_otherwise():
    from gtzan_kedro.templates.feature_models_nodes import tuner_settings

    assert tuner_settings({"epochs": 40, "patience": 8, "tuner": {"max_trials": 4}}) == {
        "epochs": 40, "patience": 8, "batch_size": 32, "max_trials": 4}
    assert tuner_settings({"epochs": 40, "batch_size": 64, "tuner": {"epochs": 5}})["epochs"] == 5
    assert tuner_settings({}) == {"epochs": 100, "patience": 10, "batch_size": 32}
