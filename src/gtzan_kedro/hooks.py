"""Project hooks: the run's environment for pipeline registration, and MLflow tracking of every
model namespace from its node's outputs (no node calls mlflow).

Tracking convention: a node in namespace ``<pipeline>.<model>`` (e.g. ``audio_models_30s.svm``,
``image_models.cnn_mel``, ``pm25_forecast.strong_lstm``) whose outputs end in one of
:data:`TRACKED_OUTPUTS` gets one nested MLflow run, named after the namespace, under
kedro-mlflow's run:

- ``comparison_rows``: metrics ``<protocol>.<column>`` (e.g. ``holdout.accuracy_mean``), the same
  names for every model so the MLflow compare view lines them up; tags model, features;
- ``per_split_metrics``: stepped metrics ``<protocol>.split_<column>`` (step = split);
- ``training_history``: stepped metrics ``<protocol>.split<k>.<metric>`` (step = epoch);
- ``forecast_metrics``: ``<metric>_h<horizon>`` per (model, features): one run for each;
- ``per_class_metrics``: a CSV artifact;
- ``figures`` / ``confusion_matrices``: PNG artifacts;
- ``tracked_params``: a dict of params (e.g. the configuration a search chose);
- ``fitted_model`` / ``fitted_models``: the model(s), unless a ``log_models`` / ``log_model``
  parameter of the node says false;
- the node's ``params:`` inputs: params named after the node function's arguments.
"""

from __future__ import annotations

import inspect
import logging
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from kedro.framework.hooks import hook_impl
from kedro.pipeline import Node

from gtzan_kedro.project_parameters import remember_run

logger = logging.getLogger(__name__)

TRACKED_OUTPUTS = ("comparison_rows", "per_split_metrics", "training_history", "forecast_metrics",
                   "per_class_metrics", "figures", "confusion_matrices", "tracked_params",
                   "fitted_model", "fitted_models")
METRIC_NAMES = ("rmse", "mae", "mse_scaled", "persistence_rmse", "skill")


class RunEnvironmentHook:
    """Records the run's env, project and ``--params`` before pipelines are first built, so
    :mod:`gtzan_kedro.project_parameters` reads the model lists of ``kedro run --env X``."""

    @hook_impl(tryfirst=True)
    def after_context_created(self, context) -> None:
        runtime = getattr(context.config_loader, "runtime_params", None)
        if remember_run(context.project_path, context.env, runtime):
            from kedro.framework.project import PACKAGE_NAME, pipelines

            # Pipelines built for another env earlier in this process (tests, notebooks) are stale.
            if getattr(pipelines, "_is_data_loaded", False):
                requested = getattr(pipelines, "_requested_pipelines", None)
                pipelines.configure(f"{PACKAGE_NAME}.pipeline_registry")
                pipelines.set_requested(requested)


# Pipelines whose nodes train Keras models: the accelerator is set up before their first node.
TENSORFLOW_GROUPS = ("audio_models", "image_models", "multimodal", "pm25_forecast", "embeddings")


class AcceleratorHook:
    """Applies the ``runtime`` parameters (models.runtime.configure_accelerator: mixed
    precision, GPU memory growth, use_gpu) once per process, before the first node of a
    TensorFlow pipeline; runs needing no TensorFlow never import it."""

    def __init__(self) -> None:
        self.info = None

    @hook_impl
    def before_node_run(self, node: Node, catalog) -> None:
        if self.info is not None or not _trains_keras(node):
            return
        from gtzan_kedro.models.runtime import configure_accelerator

        # read from the catalog (not a stored context): ParallelRunner's workers get the
        # catalog but start with fresh hook instances
        params = catalog.load("params:runtime") if "params:runtime" in catalog else {}
        self.info = configure_accelerator(params or {})


class NodeTimingHook:
    """Logs each node's wall time when it ends (``node audio_models_3s.svm.train_and_score took
    65.2 s``): Kedro logs only that a node completed, and the time a model costs is what a
    user trims budgets by."""

    def __init__(self, clock=time.monotonic) -> None:
        self.clock = clock
        self.started: dict[str, float] = {}

    @hook_impl
    def before_node_run(self, node: Node) -> None:
        self.started[node.name] = self.clock()

    @hook_impl
    def after_node_run(self, node: Node) -> None:
        start = self.started.pop(node.name, None)
        if start is not None:
            logger.info("node %s took %.1f s", node.name, self.clock() - start)


def _trains_keras(node: Node) -> bool:
    """True for a node of one of :data:`TENSORFLOW_GROUPS` (``audio_models_30s.mlp_tuned`` ...)."""
    group = (node.namespace or "").split(".", 1)[0]
    return any(group == g or group.startswith(f"{g}_") for g in TENSORFLOW_GROUPS)


def _flatten(prefix: str, value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for key, item in value.items():
            out.update(_flatten(f"{prefix}.{key}", item))
        return out
    return {prefix: str(value)[:250]}


def _finite(value: Any) -> bool:
    return (isinstance(value, int | float | np.number) and not isinstance(value, bool)
            and bool(np.isfinite(value)))


def node_params(node: Node, inputs: dict[str, Any]) -> dict[str, str]:
    """The node's ``params:`` inputs flattened, named after the function's arguments (so
    every model of a template logs the same names: ``model.kind``, ``evaluation.n_splits``)."""
    try:
        names = list(inspect.signature(node.func).parameters)
    except (TypeError, ValueError):
        names = []
    out: dict[str, str] = {}
    for position, dataset in enumerate(node.inputs):
        if not dataset.startswith("params:"):
            continue
        name = names[position] if position < len(names) else dataset.rsplit(".", 1)[-1]
        out.update(_flatten(name, inputs.get(dataset)))
    return out


def wants_models(inputs: dict[str, Any]) -> bool:
    """False when a ``log_models`` / ``log_model`` parameter among the inputs (or one level
    down) is false; models are logged otherwise."""
    for value in inputs.values():
        if not isinstance(value, dict):
            continue
        for scope in (value, *[v for v in value.values() if isinstance(v, dict)]):
            for key in ("log_models", "log_model"):
                if key in scope:
                    return bool(scope[key])
    return True


def row_metrics(rows: pd.DataFrame) -> dict[str, float]:
    """``<protocol>.<column>`` for every numeric cell of the comparison rows."""
    metrics = {}
    for row in pd.DataFrame(rows).to_dict("records"):
        for key, value in row.items():
            if key not in ("model", "features", "protocol") and _finite(value):
                metrics[f"{row.get('protocol', 'all')}.{key}"] = float(value)
    return metrics


def stepped_metrics(frame: pd.DataFrame, step_column: str | None, name_of) -> list[tuple[dict, int]]:
    """(metrics, step) pairs: one per row, step from ``step_column`` or the row's position
    within its protocol; ``name_of(row, column)`` names each metric."""
    out = []
    frame = pd.DataFrame(frame)
    positions = (frame.groupby("protocol").cumcount() if "protocol" in frame else
                 pd.Series(range(len(frame)), index=frame.index))
    for (index, row), position in zip(frame.iterrows(), positions):
        step = int(row[step_column]) if step_column else int(position)
        metrics = {name_of(row, k): float(v) for k, v in row.items()
                   if k not in ("protocol", "split", "epoch", step_column) and _finite(v)}
        out.append((metrics, step))
    return out


def forecast_runs(metrics: pd.DataFrame) -> dict[tuple[str, str], dict[str, float]]:
    """``<metric>_h<horizon>`` for each (model, features) of a forecast-metrics table."""
    runs: dict[tuple[str, str], dict[str, float]] = {}
    for row in pd.DataFrame(metrics).itertuples():
        values = runs.setdefault((row.model, row.features), {})
        for name in METRIC_NAMES:
            if _finite(getattr(row, name, None)):
                values[f"{name}_h{row.horizon_h}"] = float(getattr(row, name))
    return runs


def _log_model(name: str, model: Any) -> None:
    """Log one fitted model with the flavour it needs; a failure is a warning, not a lost run."""
    import mlflow

    try:
        import keras

        inner = getattr(model, "steps", None) and model.steps[-1][1]
        if isinstance(model, keras.Model):
            mlflow.keras.log_model(model, name=name)
        elif inner is not None and isinstance(getattr(inner, "model_", None), keras.Model):
            mlflow.keras.log_model(inner.model_, name=name)
        elif isinstance(model, dict):  # a search's members: .keras files under models/
            with tempfile.TemporaryDirectory() as tmp:
                for key, member in model.items():
                    path = Path(tmp) / f"{key}.keras"
                    member.save(path)
                    mlflow.log_artifact(str(path), artifact_path="models")
        else:
            # MLflow 3's default skops format refuses fitted trees ("untrusted types")
            mlflow.sklearn.log_model(model, name=name, serialization_format="cloudpickle")
    except Exception as exc:  # a tracking failure must not discard the scores
        logger.warning("%s: the fitted model was not logged to MLflow: %s", name, exc)


# MLflow 3's UI opens an experiment on its GenAI trace overview unless this tag says it holds
# model training runs; the value is the UI's ExperimentKind.CUSTOM_MODEL_DEVELOPMENT.
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
MODEL_TRAINING_KIND = "custom_model_development"


def mark_model_training_experiment(tracking_uri: str, experiment_name: str) -> None:
    """Tag the project's MLflow experiment as model training, so `kedro mlflow ui` shows its
    runs table first; a kind set by hand (not one the UI inferred) is left as it is."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is None:
        return
    kind = experiment.tags.get(EXPERIMENT_KIND_TAG)
    if kind is None or kind.endswith("_inferred") or kind == "no_inferred_type":
        client.set_experiment_tag(experiment.experiment_id, EXPERIMENT_KIND_TAG, MODEL_TRAINING_KIND)


class ModelTrackingHook:
    """One nested MLflow run per model namespace, filled from that node's outputs."""

    @hook_impl(trylast=True)
    def after_context_created(self, context) -> None:
        """After kedro-mlflow has set up the experiment (`kedro run`, `kedro mlflow ui`)."""
        config = getattr(context, "mlflow", None)
        if config is None:
            return
        try:
            mark_model_training_experiment(config.server.mlflow_tracking_uri,
                                           config.tracking.experiment.name)
        except Exception as exc:  # a locked mlflow.db must not stop the run
            logger.warning("MLflow experiment not tagged as model training: %s", exc)

    @hook_impl
    def after_node_run(self, node: Node, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
        import mlflow

        if not node.namespace or mlflow.active_run() is None:
            return
        prefix = f"{node.namespace}."
        tracked = {name[len(prefix):]: outputs[name] for name in node.outputs
                   if name.startswith(prefix) and name[len(prefix):] in TRACKED_OUTPUTS}
        if not tracked:
            return
        # The hook runs before Kedro saves the node's outputs: a tracking failure (a locked
        # mlflow.db, a server away) must cost the MLflow run, never the scores.
        try:
            self._track(node, inputs, tracked)
        except Exception as exc:
            logger.warning("%s: not logged to MLflow: %s", node.namespace, exc)

    def _track(self, node: Node, inputs: dict[str, Any], tracked: dict[str, Any]) -> None:
        import mlflow

        params = node_params(node, inputs)
        forecast = tracked.pop("forecast_metrics", None)
        runs = forecast_runs(forecast) if forecast is not None else {}
        if len(runs) > 1:  # a node of several models (the baselines): one run each
            for (model, features), metrics in runs.items():
                with self._run(f"{node.namespace}.{model}_{features}",
                               {"model": str(model), "features": str(features)}):
                    mlflow.log_metrics(metrics)
            runs = {}
        if tracked or runs:
            self._log_namespace(node.namespace, tracked, params, wants_models(inputs),
                                next(iter(runs.items()), None))

    @staticmethod
    @contextmanager
    def _run(name: str, tags: dict[str, str]) -> Iterator[None]:
        import mlflow

        with mlflow.start_run(run_name=name, nested=True):
            mlflow.set_tags({"namespace": name, **tags})
            yield

    def _log_namespace(self, namespace: str, tracked: dict[str, Any], params: dict[str, str],
                       log_models: bool, forecast: tuple[tuple, dict[str, float]] | None) -> None:
        import mlflow

        rows = tracked.get("comparison_rows")
        tags = {}
        if rows is not None and len(rows):
            tags = {"model": str(rows["model"].iloc[0]), "features": str(rows["features"].iloc[0])}
        if forecast is not None:
            tags = {"model": str(forecast[0][0]), "features": str(forecast[0][1])}
        with self._run(namespace, tags):
            if params:
                mlflow.log_params(params)
            if isinstance(tracked.get("tracked_params"), dict):
                mlflow.log_params({k: str(v)[:250] for k, v in tracked["tracked_params"].items()})
            if rows is not None and len(rows):
                mlflow.log_metrics(row_metrics(rows))
            if forecast is not None:
                mlflow.log_metrics(forecast[1])
            per_split = tracked.get("per_split_metrics")
            if per_split is not None and len(per_split):
                for metrics, step in stepped_metrics(
                        per_split, None, lambda row, k: f"{row.get('protocol', 'all')}.split_{k}"):
                    mlflow.log_metrics(metrics, step=step)
            history = tracked.get("training_history")
            if history is not None and len(history):
                for metrics, step in stepped_metrics(
                        history, "epoch", lambda row, k: f"{row['protocol']}.split{row['split']}.{k}"):
                    mlflow.log_metrics(metrics, step=step)
            per_class = tracked.get("per_class_metrics")
            if per_class is not None and len(per_class):
                mlflow.log_text(pd.DataFrame(per_class).to_csv(index=False), "per_class_metrics.csv")
            for key in ("figures", "confusion_matrices"):
                for name, fig in (tracked.get(key) or {}).items():
                    mlflow.log_figure(fig, f"figures/{name if '.' in name else name + '.png'}")
            if log_models:
                for key in ("fitted_model", "fitted_models"):
                    if tracked.get(key) is not None:
                        _log_model("model", tracked[key])
