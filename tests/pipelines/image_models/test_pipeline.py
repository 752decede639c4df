"""image_models end to end on tiny inputs, and its nodes' handling of bad inputs."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from image_models_tiny import GENRES, SEGMENTS, TRACKS_PER_GENRE, write_tiny_inputs

MODELS = ("cnn_stft", "cnn_mel", "cnn_mfcc", "cnn_image", "vgg16", "alexnet")

ONE_EPOCH = """
image_models:
  evaluation: {protocols: [holdout], n_holdouts: 1}
  binned_fft: {size: 64}
  models:
    cnn_stft: {fit: {epochs: 1}}
    cnn_mel: {fit: {epochs: 1}}
    cnn_mfcc: {evaluation: {n_holdouts: 2}, fit: {epochs: 1}}  # a model's own evaluation keys
    cnn_image: {protocols: [fault_filtered], input_size: [36, 54], fit: {epochs: 1}}
    vgg16: {protocols: [holdout], input_size: 32, fit: {epochs: 1}}
    alexnet: {protocols: [holdout], input_size: 32, fit: {epochs: 1}}
"""


@pytest.mark.e2e
def test_image_models_pipeline_one_epoch(kedro_project):
    write_tiny_inputs(kedro_project.path)
    reporting = kedro_project.path / "data" / "08_reporting"
    pd.DataFrame([{"model": "svm", "features": "30s", "protocol": "holdout", "n_splits": 10,
                   "accuracy_mean": 0.7, "accuracy_std": 0.02, "auroc_mean": 0.9,
                   "auprc_mean": 0.8}]).to_csv(reporting / "model_comparison.csv", index=False)
    kedro_project.write_conf("local/parameters_image_models.yml", ONE_EPOCH)
    kedro_project.run("--pipeline", "image_models")

    table = pd.read_csv(reporting / "model_comparison.csv")
    assert "svm" in set(table.model)  # another pipeline's row survives the upsert
    ours = table[table.model.isin(MODELS)].set_index("model")
    assert sorted(ours.index) == sorted(MODELS)
    # the group's 1 holdout, except where a model block sets its own evaluation keys
    assert ours.n_splits.to_dict() == {m: 2 if m == "cnn_mfcc" else 1 for m in MODELS}
    assert ours.accuracy_mean.between(0, 1).all() and ours.auroc_mean.between(0, 1).all()
    assert ours.loc["cnn_image", "protocol"] == "fault_filtered"
    assert ours.loc["cnn_mel", "features"] == "mel_3s"
    # segment models are scored per song as well (3 segments per track)
    assert ours.loc[["cnn_stft", "cnn_mel", "cnn_mfcc"], "song_accuracy_vote_mean"].between(0, 1).all()
    for model in MODELS:
        protocol = ours.loc[model, "protocol"]
        png = reporting / "confusion_matrices" / f"{model}_{protocol}.png"
        assert Image.open(png).size[0] > 100
    # every model's per-split metrics, curves and fitted network are catalog outputs
    for model in ("cnn_mel", "alexnet"):
        assert len(pd.read_csv(reporting / "image_models" / f"{model}_per_split.csv")) == 1
        assert len(pd.read_csv(reporting / "image_models" / f"{model}_per_class.csv")) == len(GENRES)
        assert (reporting / "image_models" / model / f"curves_{ours.loc[model, 'protocol']}.png").exists()
        assert (kedro_project.path / "data/06_models/image_models" / model / f"{model}.keras").exists()
    # one nested MLflow run per model, with the per-epoch curves as metric history
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{kedro_project.path / 'mlflow.db'}")
    runs = {r.info.run_name: r for r in mlflow.search_runs(experiment_names=["gtzan_kedro"], output_format="list")}
    assert {f"image_models.{m}" for m in MODELS} <= set(runs)
    cnn_mel = runs["image_models.cnn_mel"]
    assert cnn_mel.data.metrics["holdout.accuracy_mean"] == pytest.approx(ours.loc["cnn_mel", "accuracy_mean"])
    assert len(mlflow.MlflowClient().get_metric_history(cnn_mel.info.run_id, "holdout.split0.loss")) == 1
    binned = sorted((kedro_project.path / "data" / "04_feature" / "binned_fft_images").rglob("*.png"))
    assert len(binned) == len(GENRES) * TRACKS_PER_GENRE
    assert Image.open(binned[0]).size == (64, 64)


def test_segment_loader_skips_a_bad_partition_and_names_it(tmp_path, caplog):
    from gtzan_kedro.datasets import NpzDataset
    from gtzan_kedro.evaluation.samples import load_segment_samples

    write_tiny_inputs(tmp_path)
    root = tmp_path / "data" / "04_feature" / "segment_tensors"
    partitions = {f"{p.parent.name}/{p.stem}": NpzDataset(str(p)).load for p in sorted(root.rglob("*.npz"))}
    bad = root / "rock" / "rock.00009.npz"
    np.savez(bad, mel=np.zeros((2, 5)), label=np.array(["rock"]), track_id=np.array(["rock.00009.wav"]))
    partitions["rock/rock.00009"] = NpzDataset(str(bad)).load
    with caplog.at_level(logging.ERROR):
        samples = load_segment_samples(partitions, "mfcc", cmvn_window=11)
    assert "rock/rock.00009" in caplog.text
    assert samples.input_list[0].shape == (len(GENRES) * TRACKS_PER_GENRE * SEGMENTS, 20, 130, 1)
    assert sorted(samples.classes) == sorted(GENRES)
    # sliding CMVN was applied: every coefficient is centred within the window
    assert abs(float(samples.input_list[0].mean())) < 0.05


def test_transfer_node_skips_vgg16_with_a_clear_message_when_weights_are_missing(tmp_path, caplog):
    from gtzan_kedro.pipelines.image_models.nodes import train_transfer_model

    params = {"kind": "transfer", "features": "binned_fft_30s", "architecture": "vgg16",
              "model": {"weights": "imagenet", "weights_path": str(tmp_path / "vgg16.h5")}}
    with caplog.at_level(logging.ERROR):
        rows, per_split, _, _, confusion, figures, models = train_transfer_model(
            {}, {}, pd.DataFrame(), pd.DataFrame(), {"protocols": ["holdout"]}, params, "vgg16")
    assert rows.empty and per_split.empty and confusion == figures == models == {}
    assert "vgg16 skipped" in caplog.text and str(tmp_path / "vgg16.h5") in caplog.text
    assert "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5" in caplog.text


def test_transfer_node_frozen_mode_computes_base_features_once_per_image(monkeypatch):
    from gtzan_kedro.models import transfer
    from gtzan_kedro.pipelines.image_models.nodes import train_transfer_model

    computed = []
    original = transfer.FeatureExtractor.__call__

    def counting(self, images):
        out = original(self, images)
        computed.append(self.computed)
        return out

    monkeypatch.setattr(transfer.FeatureExtractor, "__call__", counting)
    rng = np.random.default_rng(0)
    images, tracks = {}, []
    for genre in ("blues", "rock"):
        for t in range(8):
            pixels = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
            images[f"{genre}/{genre}.{t:05d}_s0"] = (lambda p=pixels: Image.fromarray(p))
            tracks.append(f"{genre}.{t:05d}.wav")
    params = {"kind": "transfer", "architecture": "alexnet", "mode": "frozen", "input_size": 16,
              "model": {"width": 0.1, "dense_units": [8]}, "fit": {"epochs": 2, "batch_size": 4},
              "protocols": ["holdout"]}
    evaluation = {"n_holdouts": 2, "test_size": 0.25, "val_size": 0.25, "seed": 0}
    rows, per_split, _, _, _, _, models = train_transfer_model(
        images, {}, pd.DataFrame({"track_id": tracks}), pd.DataFrame(), evaluation, params, "alexnet")
    assert rows["n_splits"].tolist() == [2]
    assert max(computed) == 16  # every image through the base once, over both splits
    import keras

    assert isinstance(models["alexnet"], keras.Model)  # saved as one model on images
    assert models["alexnet"].input_shape == (None, 16, 16, 3)
