"""VGG16 transfer model (weights resolution offline), AlexNet-style network, augmentation."""

import numpy as np
import pytest

from gtzan_kedro.models import transfer
from gtzan_kedro.models.transfer import (
    VGG16_NOTOP_FILE,
    PretrainedWeightsUnavailable,
    augmentation,
    build_alexnet,
    build_vgg16,
    resolve_vgg16_weights,
)

VGG16_NOTOP_PARAMS = 14_714_688  # keras.applications.VGG16(include_top=False): 13 conv layers


def test_vgg16_head_shape_and_parameter_count():
    model = build_vgg16((32, 32, 3), n_classes=10, weights=None, augment={})
    assert model.output_shape == (None, 10)
    assert model.count_params() == VGG16_NOTOP_PARAMS + 512 * 10 + 10  # global max pool -> 512
    assert all(layer.trainable for layer in model.get_layer("vgg16").layers)
    assert {l.rate for l in model.layers if l.__class__.__name__ == "Dropout"} == {0.3}
    proba = model.predict(np.full((2, 32, 32, 3), 128, np.float32), verbose=0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


def test_vgg16_loads_a_saved_weights_file(tmp_path):
    import keras

    keras.utils.set_random_seed(3)
    source = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3),
                                      pooling="max")
    path = tmp_path / "vgg16_base.weights.h5"
    source.save_weights(path)
    keras.utils.set_random_seed(99)  # a fresh random init would differ from the file
    model = build_vgg16((32, 32, 3), n_classes=10, weights=None, weights_path=str(path))
    loaded = model.get_layer("vgg16").get_weights()
    expected = source.get_weights()
    assert len(loaded) == len(expected) == 26
    for got, want in zip(loaded, expected):
        np.testing.assert_array_equal(got, want)


def test_offline_imagenet_weights_say_which_file_to_place_where(tmp_path, monkeypatch):
    cache = tmp_path / "models" / VGG16_NOTOP_FILE
    monkeypatch.setattr(transfer, "keras_weights_cache", lambda name=VGG16_NOTOP_FILE: cache)

    def offline_fetch(*args, **kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- "
                        "[Errno -3] Temporary failure in name resolution")

    with pytest.raises(PretrainedWeightsUnavailable) as info:
        resolve_vgg16_weights("imagenet", None, fetch=offline_fetch)
    message = str(info.value)
    assert str(cache) in message and VGG16_NOTOP_FILE in message
    assert "could not be downloaded" in message and "weights_path" in message
    with pytest.raises(PretrainedWeightsUnavailable, match="does not exist"):
        resolve_vgg16_weights("imagenet", str(tmp_path / "missing.h5"))
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"cached")  # a cached file is used without any download
    assert resolve_vgg16_weights("imagenet", None, fetch=offline_fetch) == str(cache)
    assert resolve_vgg16_weights(None, None) is None
    with pytest.raises(ValueError, match="imagenet"):
        resolve_vgg16_weights("places365")


def test_alexnet_five_convs_last_hidden_1024():
    model = build_alexnet((64, 64, 3), n_classes=10, width=0.25, dense_units=(128, 1024))
    convs = [l for l in model.layers if l.__class__.__name__ == "Conv2D"]
    dense = [l.units for l in model.layers if l.__class__.__name__ == "Dense"]
    assert len(convs) == 5 and [c.filters for c in convs] == [24, 64, 96, 96, 64]
    assert dense == [128, 1024, 10]
    assert model.output_shape == (None, 10)
    assert all(layer.trainable for layer in model.layers)
    # convs: 11*11*3*24+24, 5*5*24*64+64, 3*3*64*96+96, 3*3*96*96+96, 3*3*96*64+64 = 8736+38464
    # +55392+83040+55360; bn 4*24 + 4*64; 64->pools 32,16,8 -> 8*8*64 = 4096 flat;
    # dense 4096*128+128, 128*1024+1024, 1024*10+10
    expected = (8736 + 38464 + 55392 + 83040 + 55360 + 96 + 256
                + 4096 * 128 + 128 + 128 * 1024 + 1024 + 1024 * 10 + 10)
    assert model.count_params() == expected


def test_augmentation_changes_images_only_in_training():
    layer = augmentation(shift=0.2, zoom=0.2, rotation_degrees=10, seed=0)
    x = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    assert np.allclose(np.asarray(layer(x, training=False)), x)
    assert not np.allclose(np.asarray(layer(x, training=True)), x)
