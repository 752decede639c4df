"""The tracking hook's mapping of node outputs to MLflow (names identical across models), and
the run-environment hook feeding the model lists."""

from __future__ import annotations

import logging

import mlflow
import pandas as pd
import pytest
from kedro.pipeline import node

from gtzan_kedro.hooks import (
    ModelTrackingHook,
    forecast_runs,
    node_params,
    row_metrics,
    stepped_metrics,
    wants_models,
)
from gtzan_kedro.pipeline_tools import bound


def _evaluate(table, evaluation, model, features, model_name):
    return None


ROWS = pd.DataFrame([
    {"model": "svm", "features": "30s", "protocol": "holdout", "n_splits": 3, "accuracy_mean": 0.7,
     "auroc_mean": float("nan")},
    {"model": "svm", "features": "30s", "protocol": "fault_filtered", "n_splits": 1, "accuracy_mean": 0.5,
     "auroc_mean": 0.8},
])


def test_rows_become_protocol_prefixed_metrics_without_nans():
    assert row_metrics(ROWS) == {"holdout.n_splits": 3.0, "holdout.accuracy_mean": 0.7,
                                 "fault_filtered.n_splits": 1.0, "fault_filtered.accuracy_mean": 0.5,
                                 "fault_filtered.auroc_mean": 0.8}


def test_params_are_named_after_the_function_arguments_so_every_model_shares_them():
    n = node(bound(_evaluate, features="30s", model_name="svm"),
             ["t", "params:audio_models.evaluation", "params:audio_models.models.svm"], "out")
    params = node_params(n, {"t": None, "params:audio_models.evaluation": {"n_splits": 3},
                             "params:audio_models.models.svm": {"kind": "svm", "grid": {"C": [1, 10]}}})
    assert params == {"evaluation.n_splits": "3", "model.kind": "svm", "model.grid.C": "[1, 10]"}


def test_log_models_switch_is_found_at_top_level_or_one_down():
    assert wants_models({"params:e": {"log_models": False}}) is False
    assert wants_models({"params:m": {"fit": {"log_model": False}}}) is False
    assert wants_models({"params:m": {"fit": {"log_model": True}}}) is True
    assert wants_models({"data": pd.DataFrame()}) is True


def test_per_split_steps_count_within_each_protocol():
    per_split = pd.DataFrame({"protocol": ["holdout", "holdout", "leaky"], "split": ["a", "b", "c"],
                              "accuracy": [0.5, 0.6, 0.9]})
    steps = stepped_metrics(per_split, None, lambda row, k: f"{row['protocol']}.split_{k}")
    assert steps == [({"holdout.split_accuracy": 0.5}, 0), ({"holdout.split_accuracy": 0.6}, 1),
                     ({"leaky.split_accuracy": 0.9}, 0)]


def test_forecast_metrics_group_by_model_and_features():
    metrics = pd.DataFrame({"model": ["a", "a", "b"], "features": ["f", "f", "g"], "horizon_h": [1, 6, 1],
                            "rmse": [1.0, 2.0, 3.0], "skill": [0.1, float("nan"), 0.3]})
    assert forecast_runs(metrics) == {("a", "f"): {"rmse_h1": 1.0, "skill_h1": 0.1, "rmse_h6": 2.0},
                                      ("b", "g"): {"rmse_h1": 3.0, "skill_h1": 0.3}}


def test_one_nested_run_per_namespace_under_the_active_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.set_experiment("hooks")
    n = node(bound(_evaluate, features="30s", model_name="svm"),
             ["t", "params:audio_models.evaluation", "params:audio_models.models.svm"],
             ["audio_models_30s.svm.comparison_rows", "audio_models_30s.svm.other"],
             namespace="audio_models_30s.svm")
    inputs = {"t": None, "params:audio_models.evaluation": {"log_models": False},
              "params:audio_models.models.svm": {"kind": "svm"}}
    outputs = {"audio_models_30s.svm.comparison_rows": ROWS, "audio_models_30s.svm.other": 1}
    ModelTrackingHook().after_node_run(n, inputs, outputs)  # no active run: nothing is logged
    assert mlflow.search_runs(output_format="list") == []
    with mlflow.start_run() as parent:
        ModelTrackingHook().after_node_run(n, inputs, outputs)
    runs = {r.info.run_name: r for r in mlflow.search_runs(output_format="list")}
    child = runs["audio_models_30s.svm"]
    assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert child.data.metrics["holdout.accuracy_mean"] == pytest.approx(0.7)
    assert child.data.params == {"evaluation.log_models": "False", "model.kind": "svm"}
    assert child.data.tags["model"] == "svm" and child.data.tags["features"] == "30s"


def test_a_tracking_failure_is_a_warning_not_a_lost_node(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.set_experiment("hooks")

    def broken(*args, **kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(mlflow, "log_metrics", broken)
    n = node(_evaluate, ["t", "params:e", "params:m", "params:f", "params:n"],
             ["a.svm.comparison_rows"], namespace="a.svm")
    with mlflow.start_run():
        ModelTrackingHook().after_node_run(n, {"t": None}, {"a.svm.comparison_rows": ROWS})
    assert "database is locked" in caplog.text


def test_node_timing_hook_logs_each_nodes_wall_time(caplog):
    from kedro.pipeline import node

    from gtzan_kedro.hooks import NodeTimingHook

    ticks = iter([10.0, 75.25])
    hook = NodeTimingHook(clock=lambda: next(ticks))
    step = node(lambda x: x, "a", "b", name="train_and_score", namespace="image_models.cnn_mel")
    with caplog.at_level(logging.INFO, logger="gtzan_kedro.hooks"):
        hook.before_node_run(step)
        hook.after_node_run(step)
    assert "node image_models.cnn_mel.train_and_score took 65.2 s" in caplog.text
    assert hook.started == {}
