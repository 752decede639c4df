"""The run's merged parameters at pipeline-registration time, so each pipeline reads its model
list from its parameters (one list, in YAML) instead of from code.

Kedro builds pipelines before it hands parameters to nodes, so this module loads them itself
with the project's own config loader (``settings.CONFIG_LOADER_CLASS`` / ``_ARGS``) for the run's
environment. The environment and project path come from the context when
:class:`gtzan_kedro.hooks.RunEnvironmentHook` has seen one (``kedro run --env X``, kedro-viz,
notebooks), else from ``KEDRO_ENV`` and the Kedro project around the working directory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_captured: dict[str, Any] = {}
_cache: dict[tuple, dict[str, Any]] = {}


def remember_run(project_path: Path | str, env: str | None,
                 runtime_params: dict[str, Any] | None = None) -> bool:
    """Record the run's project, environment and ``--params``; True when they changed."""
    new = {"project_path": Path(project_path), "env": env, "runtime_params": runtime_params or None}
    changed = new != _captured
    _captured.clear()
    _captured.update(new)
    return changed


def forget_run() -> None:
    """Drop the recorded run (tests that switch projects in one process)."""
    _captured.clear()
    _cache.clear()


def _project_path() -> Path:
    if "project_path" in _captured:
        return _captured["project_path"]
    from kedro.utils import find_kedro_project

    found = find_kedro_project(Path.cwd())
    if found is None:
        raise RuntimeError(f"no Kedro project (pyproject.toml with [tool.kedro]) at or above "
                           f"{Path.cwd()}: run kedro from the project directory")
    return Path(found)


def project_parameters() -> dict[str, Any]:
    """The merged ``parameters*`` of base and the run's environment (cached per env)."""
    from kedro.framework.project import settings

    project = _project_path()
    env = _captured["env"] if "env" in _captured else os.environ.get("KEDRO_ENV") or None
    runtime = _captured.get("runtime_params")
    key = (str(project), env, repr(sorted((runtime or {}).items())))
    if key not in _cache:
        loader = settings.CONFIG_LOADER_CLASS(
            conf_source=str(project / settings.CONF_SOURCE), env=env, runtime_params=runtime,
            **settings.CONFIG_LOADER_ARGS)
        _cache[key] = loader["parameters"]
    return _cache[key]


def section(name: str) -> dict[str, Any]:
    """One pipeline's top-level parameter block, e.g. ``section("audio_models")``."""
    params = project_parameters()
    if name not in params:
        raise KeyError(f"conf/base/parameters_{name}.yml has no top-level '{name}:' block; "
                       "restore it (the pipeline reads its model list from there)")
    return params[name] or {}


def model_names(pipeline: str, key: str = "models") -> list[str]:
    """The model names a pipeline builds one namespaced template for: the keys of
    ``<pipeline>.<key>`` in the parameters, in file order."""
    models = section(pipeline).get(key)
    if not isinstance(models, dict) or not models:
        raise ValueError(f"parameters '{pipeline}.{key}' must map model names to their settings "
                         f"(conf/base/parameters_{pipeline}.yml); got {type(models).__name__}")
    return list(models)
