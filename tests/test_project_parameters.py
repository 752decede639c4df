"""The model lists are read from the run's environment: `--env gtzan`, a plain run (conf/local)
and KEDRO_ENV all build the pipelines of their own parameters."""

from __future__ import annotations

from pathlib import Path

import pytest
from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from gtzan_kedro.project_parameters import forget_run, model_names

GTZAN_ONLY = "audio_models:\n  models:\n    only_in_gtzan: {kind: svm}\n"
LOCAL_ONLY = "audio_models:\n  models:\n    only_in_local: {kind: svm}\n"


@pytest.fixture
def project(kedro_project, monkeypatch):
    kedro_project.write_conf("gtzan/parameters_extra_model.yml", GTZAN_ONLY)
    kedro_project.write_conf("local/parameters_extra_model.yml", LOCAL_ONLY)
    monkeypatch.chdir(kedro_project.path)
    monkeypatch.delenv("KEDRO_ENV", raising=False)
    bootstrap_project(kedro_project.path)
    yield kedro_project
    forget_run()


def _project() -> Path:
    return Path.cwd()


def _namespaces(env: str | None) -> set[str]:
    with KedroSession.create(project_path=_project(), env=env) as session:
        session.load_context()  # what `kedro run` does before it reads the pipelines
        return {n.namespace for n in pipelines["audio_models_30s"].nodes if n.namespace}


@pytest.mark.parametrize(("env", "present", "absent"), [
    ("gtzan", "only_in_gtzan", "only_in_local"),
    (None, "only_in_local", "only_in_gtzan"),
])
def test_each_env_builds_its_own_model_list(project, env, present, absent):
    namespaces = _namespaces(env)
    assert f"audio_models_30s.{present}" in namespaces
    assert f"audio_models_30s.{absent}" not in namespaces
    assert "audio_models_30s.svm" in namespaces


def test_switching_env_in_one_process_rebuilds_the_pipelines(project):
    assert "audio_models_30s.only_in_gtzan" in _namespaces("gtzan")
    assert "audio_models_30s.only_in_gtzan" not in _namespaces(None)


def test_kedro_env_variable_is_used_without_a_session(project, monkeypatch):
    forget_run()
    monkeypatch.setenv("KEDRO_ENV", "gtzan")
    assert "only_in_gtzan" in model_names("audio_models")
    assert "only_in_local" not in model_names("audio_models")
