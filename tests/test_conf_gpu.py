"""conf/gpu is conf/gtzan (real data) at the reports' full budgets: Kedro merges one env over
base, so conf/gpu copies conf/gtzan's files; these tests keep the two in step and check what
each profile cuts or restores."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

CONF = Path(__file__).resolve().parents[1] / "conf"
# the only files conf/gpu changes (conf/gpu/README.md's table), and the only keys in them
GPU_ONLY = {"parameters_runtime.yml"}
CHANGED = {"parameters_image_models.yml", "parameters_multimodal.yml", "parameters_audio_models.yml",
           "parameters_embeddings.yml", "parameters_reporting.yml"}


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text()) or {}


def _files(env: str) -> set[str]:
    return {p.name for p in (CONF / env).glob("*.yml")}


def test_gpu_holds_every_gtzan_file_and_copies_the_unchanged_ones_exactly():
    gtzan, gpu = _files("gtzan"), _files("gpu")
    assert gtzan - gpu == set(), f"conf/gpu lacks {sorted(gtzan - gpu)}: copy them from conf/gtzan"
    assert gpu - gtzan - GPU_ONLY == set()
    for name in gtzan - CHANGED:
        assert _yaml(CONF / "gpu" / name) == _yaml(CONF / "gtzan" / name), (
            f"conf/gpu/{name} differs from conf/gtzan/{name}; edit both (conf/gpu/README.md)")


def _without(params: dict, paths: list[tuple[str, ...]]) -> dict:
    out = copy.deepcopy(params)
    for path in paths:
        node = out
        for key in path[:-1]:
            node = node.get(key, {})
        node.pop(path[-1], None)
    return out


def _transfer_and_fit_keys(models: dict) -> list[tuple[str, ...]]:
    keys = []
    for name, spec in models.items():
        keys += [("image_models", "models", name, "fit"), ("image_models", "models", name, "evaluation")]
        if "mode" in spec:
            keys += [("image_models", "models", name, "mode"),
                     ("image_models", "models", name, "model", "learning_rate")]
    return keys


def test_gpu_changes_only_holdouts_epochs_and_transfer_mode():
    gtzan = _yaml(CONF / "gtzan" / "parameters_image_models.yml")
    gpu = _yaml(CONF / "gpu" / "parameters_image_models.yml")
    cut = [("image_models", "evaluation", "n_holdouts"),
           *_transfer_and_fit_keys(gtzan["image_models"]["models"])]
    assert _without(gpu, cut) == _without(gtzan, cut)
    for env in ("gtzan", "gpu"):
        mm = _yaml(CONF / env / "parameters_multimodal.yml")
        mm["multimodal"]["evaluation"].pop("n_holdouts")
        mm["multimodal"]["models"]["multimodal"].pop("fit")
        mm["multimodal"]["models"]["multimodal"].pop("evaluation", None)
        if env == "gtzan":
            reference = mm
    assert mm == reference
    am = [_without(_yaml(CONF / env / "parameters_audio_models.yml"),
                   [("audio_models", "evaluation", "n_splits"),
                    ("audio_models", "models", "mlp_tuned", "tuner", "max_trials")])
          for env in ("gtzan", "gpu")]
    assert am[0] == am[1]
    probes = [_without(_yaml(CONF / env / "parameters_embeddings.yml"),
                       [("embedding_probes", "evaluation", "n_splits")]) for env in ("gtzan", "gpu")]
    assert probes[0] == probes[1]
    hints = [_yaml(CONF / env / "parameters_reporting.yml")["reporting"] for env in ("gtzan", "gpu")]
    assert hints == [{"run_env": "gtzan"}, {"run_env": "gpu"}]


def test_cpu_profile_cuts_are_the_documented_ones_and_gpu_restores_them():
    cpu = _yaml(CONF / "gtzan" / "parameters_image_models.yml")["image_models"]
    gpu = _yaml(CONF / "gpu" / "parameters_image_models.yml")["image_models"]
    assert cpu["evaluation"] == {"n_holdouts": 5, "n_leaky": 3}
    assert gpu["evaluation"]["n_holdouts"] == 10
    # the segment-tensor models (the costliest fits) get one leaky_segments split on CPU; the
    # GPU profile keeps the group's 3 for every model
    assert gpu["evaluation"]["n_leaky"] == 3
    for name, spec in cpu["models"].items():
        expected = 1 if name.startswith(("cnn_stft", "cnn_mel", "cnn_mfcc")) else None
        assert spec.get("evaluation", {}).get("n_leaky") == expected, name
        assert "evaluation" not in gpu["models"][name], name
    for env, leaky in (("gtzan", 1), ("gpu", None)):
        spec = _yaml(CONF / env / "parameters_multimodal.yml")["multimodal"]["models"]["multimodal"]
        assert spec.get("evaluation", {}).get("n_leaky") == leaky, env
    for name in ("vgg16", "alexnet"):
        assert cpu["models"][name]["mode"] == "frozen" and gpu["models"][name]["mode"] == "finetune"
    for name, spec in cpu["models"].items():  # early stopping everywhere
        assert spec["fit"]["early_stopping_patience"] >= 3, name
        if spec.get("mode") != "frozen":  # a frozen base's head may train longer: it is cheap
            assert spec["fit"]["epochs"] <= gpu["models"][name]["fit"]["epochs"], name
    assert _yaml(CONF / "gtzan" / "parameters_audio_models.yml")["audio_models"]["evaluation"][
        "n_leaky"] == 3
    for env, holdouts in (("gtzan", 5), ("gpu", 10)):
        probes = _yaml(CONF / env / "parameters_embeddings.yml")["embedding_probes"]["evaluation"]
        assert probes["n_splits"] == holdouts
        # the patch table's leaky_segments splits are 3, as for every other model (not n_splits)
        assert probes["n_leaky"] == 3
    assert _yaml(CONF / "gpu" / "parameters_runtime.yml")["runtime"]["mixed_precision"] is True
    assert _yaml(CONF / "base" / "parameters_runtime.yml")["runtime"]["mixed_precision"] is False


@pytest.mark.parametrize("env", ["gtzan", "gpu"])
def test_each_profile_loads_through_kedro_with_real_data_paths(env):
    from kedro.config import OmegaConfigLoader

    from gtzan_kedro.settings import CONFIG_LOADER_ARGS

    loader = OmegaConfigLoader(str(CONF), env=env, **CONFIG_LOADER_ARGS)
    params = loader["parameters"]
    catalog = loader["catalog"]
    assert catalog["features_30_sec"]["prefer_filepath"] == "data/01_raw/gtzan/features_30_sec.csv"
    assert params["runtime"]["mixed_precision"] is (env == "gpu")
    assert params["image_models"]["models"]["vgg16"]["kind"] == "transfer"  # base merged under it
    tuned = params["audio_models"]["models"]["mlp_tuned"]
    # the CPU night cuts the search to the presets and 2 search points; the GPU keeps 12
    assert tuned["tuner"] == {"max_trials": 9 if env == "gtzan" else 12} and "space" not in tuned["tuner"]
