"""hooks.AcceleratorHook: the runtime parameters reach configure_accelerator once, before the
first node of a TensorFlow pipeline, and runs of other pipelines never set it up."""

from __future__ import annotations

from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import node

from gtzan_kedro import hooks


def _node(namespace: str | None):
    return node(lambda x: x, "a", "b", name="n", namespace=namespace)


def test_runtime_params_are_applied_once_for_tensorflow_nodes_only(monkeypatch):
    calls = []
    import gtzan_kedro.models.runtime as runtime

    monkeypatch.setattr(runtime, "configure_accelerator", lambda params: calls.append(params) or "info")
    catalog = DataCatalog({"params:runtime": MemoryDataset({"mixed_precision": True})})
    hook = hooks.AcceleratorHook()
    hook.before_node_run(_node("feature_selection"), catalog)
    hook.before_node_run(_node(None), catalog)
    assert calls == []
    hook.before_node_run(_node("image_models.cnn_mel"), catalog)
    hook.before_node_run(_node("audio_models_3s.mlp_tuned"), catalog)
    assert calls == [{"mixed_precision": True}]


def test_a_catalog_without_runtime_params_uses_the_defaults(monkeypatch):
    calls = []
    import gtzan_kedro.models.runtime as runtime

    monkeypatch.setattr(runtime, "configure_accelerator", lambda params: calls.append(params) or "info")
    hooks.AcceleratorHook().before_node_run(_node("pm25_forecast.strong_lstm"), DataCatalog({}))
    assert calls == [{}]
    assert not hooks._trains_keras(_node("audio_modelsX.svm"))
    assert hooks._trains_keras(_node("audio_models_30s.svm"))


def test_settings_register_the_hook():
    from gtzan_kedro import settings

    assert any(isinstance(h, hooks.AcceleratorHook) for h in settings.HOOKS)
