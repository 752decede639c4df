"""The registered pipelines DESIGN.md promises, and what `kedro run` runs by default."""

import pytest
from kedro.framework.project import configure_project


@pytest.fixture(scope="module")
def pipelines():
    configure_project("gtzan_kedro")
    from gtzan_kedro.pipeline_registry import register_pipelines

    return register_pipelines()


def test_every_designed_pipeline_is_registered(pipelines):
    assert set(pipelines) == {
        "sample_data", "ingest", "feature_selection", "audio_models", "audio_models_30s",
        "audio_models_3s", "image_models", "multimodal", "pm25_forecast", "reporting",
        "inference", "embeddings", "__default__",
    }


def test_default_is_everything_but_sample_data_and_inference(pipelines):
    default = {n.name for n in pipelines["__default__"].nodes}
    for name in ("ingest", "feature_selection", "audio_models", "image_models", "multimodal",
                 "pm25_forecast", "reporting", "embeddings"):
        assert {n.name for n in pipelines[name].nodes} <= default, name
    for name in ("sample_data", "inference"):
        assert not {n.name for n in pipelines[name].nodes} & default, name


def test_reporting_runs_after_every_model_has_written_its_rows(pipelines):
    order = [n.name for n in pipelines["__default__"].nodes]  # Kedro's run order
    first_report = min(order.index(n.name) for n in pipelines["reporting"].nodes)
    writers = [n.name for n in pipelines["__default__"].nodes
               if any(o.endswith("comparison_rows") for o in n.outputs)]
    assert len(writers) >= 15
    assert all(order.index(w) < first_report for w in writers)
