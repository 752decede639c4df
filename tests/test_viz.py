"""kedro-viz: the static build holds every registered pipeline, with readable node names."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from kedro.framework.startup import bootstrap_project

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.e2e
def test_viz_build_holds_every_registered_pipeline(kedro_project):
    bootstrap_project(REPO_ROOT)
    from gtzan_kedro.pipeline_registry import register_pipelines

    registered = register_pipelines()
    kedro_project.kedro("viz", "build", timeout=600)

    api = kedro_project.path / "build" / "api"
    main = json.loads((api / "main").read_text())
    assert {p["id"] for p in main["pipelines"]} == set(registered)
    for name, pipeline in registered.items():
        graph = json.loads((api / "pipelines" / name).read_text())
        tasks = [n["full_name"] for n in graph["nodes"] if n["type"] == "task"]
        assert sorted(tasks) == sorted(n.name for n in pipeline.nodes), name
        # readable: explicit node names, not function reprs such as "<lambda>" or "partial(...)"
        assert all(re.fullmatch(r"[A-Za-z0-9_.]+", task) for task in tasks), sorted(tasks)
    inference = json.loads((api / "pipelines" / "inference").read_text())
    assert "inference" in inference["modular_pipelines"]  # drawn as one collapsible box
    # the default pipeline's top level: one group per model pipeline, each opening into its models
    default = json.loads((api / "pipelines" / "__default__").read_text())["modular_pipelines"]
    groups = {c["id"] for c in default["__root__"]["children"] if c["type"] == "modularPipeline"}
    assert {"audio_models_30s", "audio_models_3s", "image_models", "multimodal", "pm25_forecast",
            "reporting", "feature_selection"} <= groups
    assert not {"cnn_mel", "vgg16", "strong_lstm", "report_lstm_11"} & groups
    children = {c["id"] for c in default["pm25_forecast"]["children"] if c["type"] == "modularPipeline"}
    assert "pm25_forecast.strong_lstm" in children
    children = {c["id"] for c in default["image_models"]["children"] if c["type"] == "modularPipeline"}
    assert {"image_models.cnn_mel", "image_models.vgg16"} <= children
