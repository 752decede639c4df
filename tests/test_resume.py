"""Resume: an interrupted `kedro run --only-missing-outputs` skips what finished with the same
parameters and data, runs the rest, and re-runs a model whose parameters changed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from kedro.framework.hooks import hook_impl
from kedro.framework.hooks.manager import _create_hook_manager
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline, node, pipeline
from kedro.runner import SequentialRunner
from kedro_datasets.pandas import CSVDataset
from kedro_datasets.partitions import PartitionedDataset
from kedro_datasets.pickle import PickleDataset

from gtzan_kedro.datasets import ComparisonTableDataset
from gtzan_kedro.resume import ResumeHook

MODELS = ("alpha", "beta", "gamma")


class Interrupted(RuntimeError):
    """Stands for a run stopped mid-way (killed, laptop closed)."""


class CallLog:
    """Which model nodes ran, and which one should stop the run."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.stop_at: str | None = None

    @hook_impl
    def after_node_run(self, node) -> None:  # a hook: where the tracking hook logs to MLflow
        self.ran.append(node.name)


def _pipeline(calls: CallLog) -> Pipeline:
    def score(table: pd.DataFrame, params: dict, name: str):
        if calls.stop_at == name:
            raise Interrupted(name)
        accuracy = float((table["x"] * params["weight"]).mean())
        rows = pd.DataFrame([{"model": name, "features": "30s", "protocol": "holdout",
                              "n_splits": 1, "accuracy_mean": accuracy, "accuracy_std": 0.0,
                              "auroc_mean": 0.5, "auprc_mean": 0.5}])
        return rows, {"weight": params["weight"]}

    def template(name: str) -> Pipeline:
        def fit(table, params):
            return score(table, params, name)

        return pipeline([node(fit, ["table", "params:model"], ["comparison_rows", "fitted_model"],
                              name="evaluate")],
                        namespace=name, inputs={"table"},
                        parameters={"params:model": f"params:models.{name}"})

    def summarise(*tables: pd.DataFrame) -> pd.DataFrame:
        return tables[0][["model", "accuracy_mean"]]

    models = sum((template(m) for m in MODELS), Pipeline([]))
    return models + Pipeline([node(summarise, [f"{m}.comparison_rows" for m in MODELS],
                                   "summary", name="summarise")])


def _catalog(root: Path, weights: dict[str, float]) -> DataCatalog:
    datasets = {"table": CSVDataset(filepath=str(root / "table.csv")),
                "summary": CSVDataset(filepath=str(root / "summary.csv")),
                "node_fingerprints": PartitionedDataset(path=str(root / "fingerprints"),
                                                        dataset="json.JSONDataset")}
    for model in MODELS:
        datasets[f"{model}.comparison_rows"] = ComparisonTableDataset(
            filepath=str(root / "model_comparison.csv"))
        datasets[f"{model}.fitted_model"] = PickleDataset(filepath=str(root / f"{model}.pkl"))
        datasets[f"params:models.{model}"] = MemoryDataset({"weight": weights[model]})
    return DataCatalog(datasets)


def _run(root: Path, calls: CallLog, weights: dict[str, float], resume: bool = True) -> None:
    """What `kedro run [--only-missing-outputs]` does with the project's hooks."""
    hooks = _create_hook_manager()
    resume_hook = ResumeHook()
    hooks.register(resume_hook)
    hooks.register(calls)
    catalog, graph = _catalog(root, weights), _pipeline(calls)
    resume_hook.before_pipeline_run({"only_missing_outputs": resume}, graph, catalog)
    SequentialRunner().run(graph, catalog, hooks, only_missing_outputs=resume)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    pd.DataFrame({"x": [0.2, 0.4, 0.6]}).to_csv(tmp_path / "table.csv", index=False)
    return tmp_path


def test_interrupted_run_resumes_and_changed_parameter_reruns(project: Path) -> None:
    weights = {"alpha": 1.0, "beta": 1.0, "gamma": 1.0}
    first = CallLog()
    first.stop_at = "beta"
    with pytest.raises(Exception, match="beta"):
        _run(project, first, weights)
    assert first.ran == ["alpha.evaluate"]

    second = CallLog()
    _run(project, second, weights)
    assert sorted(second.ran) == ["beta.evaluate", "gamma.evaluate", "summarise"]
    table = pd.read_csv(project / "model_comparison.csv")
    assert sorted(table["model"]) == sorted(MODELS)       # the skipped model's row is kept
    assert len(pd.read_csv(project / "summary.csv")) == len(MODELS)

    third = CallLog()
    _run(project, third, {**weights, "gamma": 2.0})
    assert sorted(third.ran) == ["gamma.evaluate", "summarise"]
    table = pd.read_csv(project / "model_comparison.csv").set_index("model")
    assert table.loc["gamma", "accuracy_mean"] == pytest.approx(0.8)
    assert table.loc["alpha", "accuracy_mean"] == pytest.approx(0.4)

    fourth = CallLog()
    _run(project, fourth, {**weights, "gamma": 2.0})
    assert fourth.ran == []                                # nothing changed: nothing runs


def test_changed_input_data_reruns_every_model(project: Path) -> None:
    weights = dict.fromkeys(MODELS, 1.0)
    _run(project, CallLog(), weights)
    pd.DataFrame({"x": [1.0, 1.0]}).to_csv(project / "table.csv", index=False)
    again = CallLog()
    _run(project, again, weights)
    assert sorted(again.ran) == [f"{m}.evaluate" for m in MODELS] + ["summarise"]


def test_deleted_output_reruns_its_node(project: Path) -> None:
    weights = dict.fromkeys(MODELS, 1.0)
    _run(project, CallLog(), weights)
    (project / "beta.pkl").unlink()
    again = CallLog()
    _run(project, again, weights)
    assert sorted(again.ran) == ["beta.evaluate", "summarise"]


def test_without_the_flag_everything_runs(project: Path) -> None:
    weights = dict.fromkeys(MODELS, 1.0)
    _run(project, CallLog(), weights)
    again = CallLog()
    _run(project, again, weights, resume=False)
    assert len(again.ran) == len(MODELS) + 1
