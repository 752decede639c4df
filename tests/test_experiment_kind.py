"""The project's MLflow experiment is tagged as model training (``mlflow.experimentKind:
custom_model_development``), so MLflow 3's UI (`kedro mlflow ui`) opens on its runs table
instead of the GenAI trace overview ("Traces 0", "Token usage")."""

from __future__ import annotations

from types import SimpleNamespace

from mlflow import MlflowClient

from gtzan_kedro.hooks import ModelTrackingHook


def _context(uri: str, name: str = "gtzan_kedro"):
    """The part of a Kedro context that kedro-mlflow fills in (``context.mlflow``)."""
    return SimpleNamespace(mlflow=SimpleNamespace(server=SimpleNamespace(mlflow_tracking_uri=uri),
                                                  tracking=SimpleNamespace(experiment=SimpleNamespace(name=name))))


def test_the_hook_tags_an_existing_experiment_and_keeps_a_kind_set_by_hand(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    ours = client.create_experiment("gtzan_kedro")
    other = client.create_experiment("chat", tags={"mlflow.experimentKind": "genai_development"})
    assert "mlflow.experimentKind" not in client.get_experiment(ours).tags

    ModelTrackingHook().after_context_created(_context(uri))
    ModelTrackingHook().after_context_created(_context(uri, "chat"))
    assert client.get_experiment(ours).tags["mlflow.experimentKind"] == "custom_model_development"
    assert client.get_experiment(other).tags["mlflow.experimentKind"] == "genai_development"


def test_loading_the_project_context_tags_the_experiment(kedro_project):
    """What `kedro run` and `kedro mlflow ui` both do first: kedro-mlflow creates the experiment
    of conf/base/mlflow.yml in sqlite:///mlflow.db, then the project hook tags it. In a process
    of its own, as a user's command is: a session of another project earlier in the same test
    process leaves kedro-mlflow pointing at that project's store."""
    import os
    import subprocess
    import sys

    code = ("from pathlib import Path\n"
            "from kedro.framework.session import KedroSession\n"
            "from kedro.framework.startup import bootstrap_project\n"
            "bootstrap_project(Path.cwd())\n"
            "with KedroSession.create(project_path=Path.cwd()) as session:\n"
            "    session.load_context()\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    subprocess.run([sys.executable, "-c", code], cwd=kedro_project.path, env=env, check=True,
                   timeout=300, capture_output=True)
    client = MlflowClient(tracking_uri=f"sqlite:///{kedro_project.path / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("gtzan_kedro")
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
