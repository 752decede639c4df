"""musicnn's Keras port: input, architecture, and the all-or-nothing checkpoint mapping."""

from __future__ import annotations

import numpy as np
import pytest
from musicnn_weights import musicnn_dir  # noqa: F401  (fixture)

from gtzan_kedro.audio import musicnn_input as mi
from gtzan_kedro.models import musicnn as m


def test_thirty_seconds_give_ten_patches_and_a_short_clip_one():
    rng = np.random.default_rng(0)
    assert mi.signal_patches(0.1 * rng.standard_normal(30 * mi.SR).astype(np.float32)).shape == (10, 187, 96)
    short = mi.signal_patches(0.1 * rng.standard_normal(mi.SR).astype(np.float32))
    assert short.shape == (1, 187, 96)
    # repeat-padded: the second copy of the 1-s clip starts where the first ends
    n = 1 + mi.SR // mi.HOP
    np.testing.assert_array_equal(short[0, n:2 * n - 1], short[0, :n - 1])


def test_log_mel_of_a_loud_signal_stays_finite():
    # musicnn's own float16 arithmetic turns 10000 x into inf above x = 6.55
    t = np.arange(3 * mi.SR) / mi.SR
    loud = np.sin(2 * np.pi * 220 * t).astype(np.float32)
    spec = mi.log_mel(loud)
    assert np.isfinite(spec).all()
    assert spec.max() > np.log10(65504.0)


def test_log_mel_rejects_another_rate():
    with pytest.raises(ValueError, match="16000 Hz"):
        mi.log_mel(np.zeros(22050, np.float32), sr=22050)


@pytest.mark.parametrize("architecture, outputs", [
    ("musicnn", {"tags": 50, "mean_pool": 753, "max_pool": 753, "penultimate": 200}),
    ("vgg", {"tags": 50, "pool5": 256}),
])
def test_networks_give_tags_and_embeddings(architecture, outputs):
    model = m.build_musicnn() if architecture == "musicnn" else m.build_vgg()
    out = model(np.zeros((2, 187, 96), np.float32), training=False)
    assert {k: tuple(v.shape) for k, v in out.items()} == {k: (2, d) for k, d in outputs.items()}
    assert m.EMBEDDING_DIMS[architecture] == {k: d for k, d in outputs.items() if k != "tags"}


@pytest.fixture(scope="module")
def msd_variables(musicnn_dir):
    return m.read_checkpoint(musicnn_dir / "MSD_musicnn")


@pytest.mark.parametrize("name", m.MODEL_NAMES)
def test_every_checkpoint_variable_is_mapped(name, musicnn_dir):
    variables = m.read_checkpoint(musicnn_dir / name)
    mapping = m.checkpoint_mapping(m.architecture_of(name))
    trained = {k for k in variables if not any(s in k for s in m.OPTIMIZER_STATE)}
    assert {v.checkpoint for v in mapping} == trained
    model = m.load_pretrained(name, musicnn_dir)
    bn = model.get_layer("input_bn")
    np.testing.assert_array_equal(bn.moving_mean.numpy(), variables["batch_normalization/moving_mean"])


def test_unmapped_checkpoint_variable_fails_loudly(msd_variables):
    extra = dict(msd_variables, **{"conv2d_99/kernel": np.zeros((3, 3, 1, 8), np.float32)})
    model = m.build_musicnn()
    before = model.get_layer("logits").kernel.numpy().copy()
    with pytest.raises(m.MusicnnWeightsError, match="unmapped checkpoint variables: conv2d_99/kernel"):
        m.assign_checkpoint(model, extra, m.checkpoint_mapping("musicnn"))
    # all or nothing: no weight was touched
    np.testing.assert_array_equal(model.get_layer("logits").kernel.numpy(), before)


def test_missing_variable_and_wrong_shape_fail_loudly(msd_variables):
    broken = {k: v for k, v in msd_variables.items() if k != "batch_normalization_4/gamma"}
    broken["dense/bias"] = np.zeros(64, np.float32)
    with pytest.raises(m.MusicnnWeightsError) as info:
        m.assign_checkpoint(m.build_musicnn(), broken, m.checkpoint_mapping("musicnn"))
    message = str(info.value)
    assert "variables missing from the checkpoint: batch_normalization_4/gamma" in message
    assert "dense/bias: shape (64,) does not fit backend_dense.bias (200,)" in message


def test_network_weight_left_without_a_variable_fails(msd_variables):
    mapping = [v for v in m.checkpoint_mapping("musicnn") if v.checkpoint != "batch_normalization_6/beta"]
    variables = {k: v for k, v in msd_variables.items() if k != "batch_normalization_6/beta"}
    with pytest.raises(m.MusicnnWeightsError, match="no variable was mapped to: midend_1_bn/beta"):
        m.assign_checkpoint(m.build_musicnn(), variables, mapping)


def test_vgg_checkpoint_does_not_fit_musicnn(musicnn_dir):
    variables = m.read_checkpoint(musicnn_dir / "MTT_vgg")
    with pytest.raises(m.MusicnnWeightsError, match="unmapped checkpoint variables: 1CNN/bias"):
        m.assign_checkpoint(m.build_musicnn(), variables, m.checkpoint_mapping("musicnn"))


def test_unknown_model_name_lists_the_choices():
    with pytest.raises(ValueError, match="MSD_musicnn, MTT_musicnn, MSD_vgg, MTT_vgg"):
        m.architecture_of("MSD_musicnn_big")


def test_extractor_outputs_are_per_patch_and_track_means(musicnn_dir):
    extractor = m.MusicnnExtractor("MTT_musicnn", musicnn_dir, batch_size=3)
    rng = np.random.default_rng(1)
    patches = mi.signal_patches(0.05 * rng.standard_normal(16 * mi.SR).astype(np.float32))
    out = extractor.patch_outputs(patches)
    assert out["tags"].shape == (5, 50) and out["max_pool"].shape == (5, 753)
    assert ((out["tags"] > 0) & (out["tags"] < 1)).all()
    # batching does not change the numbers
    one_batch = m.MusicnnExtractor("MTT_musicnn", musicnn_dir, batch_size=64).patch_outputs(patches)
    np.testing.assert_allclose(out["penultimate"], one_batch["penultimate"], rtol=1e-4, atol=1e-5)
    summary = m.track_summary(out)
    np.testing.assert_allclose(summary["mean_pool"], out["mean_pool"].mean(axis=0))
    assert [t for t, _ in m.top_tags(summary["tags"], extractor.tag_names, 2)] == \
        [extractor.tag_names[i] for i in np.argsort(-summary["tags"])[:2]]


@pytest.mark.parametrize("name", m.MODEL_NAMES)
def test_port_matches_the_original_tf1_graph(name, musicnn_dir):
    """Same input, same weights: the wheel's own graph (run once under tf-keras by
    make_musicnn_legacy_reference.py) and this port agree on tags and every embedding."""
    import json
    from pathlib import Path

    from make_musicnn_legacy_reference import reference_input, summarise

    reference = json.loads((Path(__file__).with_name("musicnn_legacy_reference.json")).read_text())[name]
    out = m.MusicnnExtractor(name, musicnn_dir).patch_outputs(reference_input())
    assert set(out) == set(reference)
    for key, expected in reference.items():
        got = summarise(out[key])
        for part in ("head", "sum", "abs_sum"):
            np.testing.assert_allclose(got[part], expected[part], rtol=1e-4, atol=1e-5, err_msg=f"{key} {part}")


def test_extractor_refuses_non_finite_patches(musicnn_dir):
    patches = np.ones((1, 187, 96), np.float32)
    patches[0, 5, 3] = np.inf  # what musicnn's float16 log gives for a loud bin
    with pytest.raises(ValueError, match="inf or NaN"):
        m.MusicnnExtractor("MTT_musicnn", musicnn_dir).patch_outputs(patches)
