"""Segment and image CNN builders, and sliding-window CMVN."""

import numpy as np
import pytest

from gtzan_kedro.models.cnn import build_image_cnn, build_segment_cnn, sliding_cmvn


def _naive_cmvn(x, window):
    out = np.empty_like(x, dtype=np.float64)
    before, after = (window - 1) // 2, window - 1 - (window - 1) // 2
    for t in range(x.shape[-1]):
        chunk = x[..., max(0, t - before): t + after + 1]
        out[..., t] = (x[..., t] - chunk.mean(-1)) / np.sqrt(chunk.var(-1) + 1e-8)
    return out


@pytest.mark.parametrize("window", [1, 5, 50, 500])
def test_sliding_cmvn_matches_a_direct_window_loop(window):
    x = np.random.default_rng(0).normal(3.0, 2.0, (2, 20, 130))
    got = sliding_cmvn(x, window=window)
    assert got.shape == x.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, _naive_cmvn(x, window), atol=1e-3)


def test_sliding_cmvn_removes_a_slow_offset_and_scale():
    frames = np.arange(400)
    drift = np.sin(frames / 200.0)[None, :] * 10
    x = np.random.default_rng(1).normal(0, 1, (20, 400)) * 3 + drift
    out = sliding_cmvn(x, window=51)
    centre = out[:, 50:-50]
    assert abs(centre.mean()) < 0.1
    assert 0.8 < centre.std() < 1.1


def test_sliding_cmvn_mean_only_keeps_scale():
    x = np.random.default_rng(2).normal(5, 4, (20, 300))
    out = sliding_cmvn(x, window=1000, variance=False)  # window wider than the clip: global mean
    np.testing.assert_allclose(out, x - x.mean(axis=-1, keepdims=True), atol=1e-4)
    with pytest.raises(ValueError, match="window"):
        sliding_cmvn(x, window=0)


# Hand counts: conv k*k*c_in*c_out + c_out, batch norm 4*c, 'same' pooling rounds up, then
# dense (in+1)*out. (128,130): conv 80 + bn 32, pool -> 64x65; conv 1168 + bn 64, pool -> 32x33;
# dense 32*33*16*16+16 = 270352; softmax 170.  (20,130): 80 + 32; 10x65x8 -> 83216; 170.
@pytest.mark.parametrize(
    "shape, filters, expected_params",
    [((128, 130), (8, 16), 271_866), ((20, 130, 1), (8,), 83_498)],
)
def test_segment_cnn_output_and_parameter_count(shape, filters, expected_params):
    model = build_segment_cnn(shape, n_classes=10, conv_filters=filters, dense_units=(16,))
    assert model.output_shape == (None, 10)
    assert model.count_params() == expected_params
    proba = model.predict(np.zeros((2, *shape[:2], 1), dtype=np.float32), verbose=0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


def test_image_cnn_is_the_reports_baseline():
    model = build_image_cnn((36, 54, 3), n_classes=10)
    dense = [layer.units for layer in model.layers if layer.__class__.__name__ == "Dense"]
    dropouts = {layer.rate for layer in model.layers if layer.__class__.__name__ == "Dropout"}
    convs = [layer for layer in model.layers if layer.__class__.__name__ == "Conv2D"]
    assert dense == [2048, 512, 128, 10]
    assert dropouts == {0.4} and len(convs) == 2
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(1e-4)
    assert model.output_shape == (None, 10)
    # conv 448, pool4 -> 9x14; conv 4640, pool4 -> 3x4x32 = 384; dense 788480 + 1049088 + 65664 + 1290
    assert model.count_params() == 1_909_610
