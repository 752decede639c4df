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


# --- frozen-base mode --------------------------------------------------------------------------

def _images(n, size=32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 255, (n, size, size, 3)).astype("float32"), rng.integers(0, 3, n)


def test_frozen_vgg16_computes_each_image_once_across_splits_and_keeps_the_base_fixed():
    import keras

    from gtzan_kedro.models.transfer import FrozenBaseClassifier, transfer_builder

    x, y = _images(12)
    build = transfer_builder("vgg16", "frozen", (32, 32, 3), weights=None, dropout=0.3,
                             feature_batch_size=4)
    first = build(3)
    assert isinstance(first, FrozenBaseClassifier)
    assert first.head.count_params() == 512 * 3 + 3  # the only trainable part
    base_before = [w.copy() for w in first.extractor.base.get_weights()]
    history = first.fit(x[:8], y[:8], validation_data=(x[8:], y[8:]), epochs=2, batch_size=4,
                        verbose=0, callbacks=[keras.callbacks.EarlyStopping(patience=1)])
    assert set(history.history) >= {"loss", "val_loss", "accuracy"}
    assert first.extractor.computed == 12
    proba = first.predict(x, verbose=0)
    assert proba.shape == (12, 3) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    keras.backend.clear_session()  # as the training loop does before each split
    second = build(3)
    second.fit(x[4:], y[4:], epochs=1, batch_size=4, verbose=0)
    second.predict(np.concatenate([x[:4], x[:4]]))  # repeated images: still from the cache
    assert second.extractor is first.extractor and first.extractor.computed == 12
    for got, want in zip(first.extractor.base.get_weights(), base_before):
        np.testing.assert_array_equal(got, want)
    # the cached features are the base's own
    direct = first.extractor.base.predict(x[:3], verbose=0)
    np.testing.assert_allclose(first.extractor(x[:3]), direct, rtol=1e-5, atol=1e-5)


def test_frozen_model_saves_as_one_keras_model_on_images(tmp_path):
    import keras

    from gtzan_kedro.models.transfer import transfer_builder

    x, y = _images(6)
    model = transfer_builder("vgg16", "frozen", (32, 32, 3), weights=None)(3)
    model.fit(x, y, epochs=1, batch_size=3, verbose=0)
    path = tmp_path / "frozen.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.input_shape == (None, 32, 32, 3)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x), rtol=1e-4, atol=1e-5)


def test_frozen_vgg16_loads_the_weights_file_like_the_fine_tuned_model(tmp_path):
    import keras

    from gtzan_kedro.models.transfer import transfer_builder

    keras.utils.set_random_seed(3)
    source = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3),
                                      pooling="max")
    path = tmp_path / "vgg16_base.weights.h5"
    source.save_weights(path)
    keras.utils.set_random_seed(99)
    model = transfer_builder("vgg16", "frozen", (32, 32, 3), weights=None,
                             weights_path=str(path))(10)
    loaded = model.extractor.base.get_layer("vgg16").get_weights()
    for got, want in zip(loaded, source.get_weights()):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(PretrainedWeightsUnavailable, match="does not exist"):
        transfer_builder("vgg16", "frozen", (32, 32, 3), weights_path=str(tmp_path / "no.h5"))


def test_frozen_alexnet_trains_its_dense_head_only(caplog):
    import logging

    from gtzan_kedro.models.transfer import transfer_builder

    x, y = _images(8, size=64)
    with caplog.at_level(logging.INFO, logger="gtzan_kedro.models.transfer"):
        build = transfer_builder("alexnet", "frozen", (64, 64, 3), width=0.25, dense_units=(16,),
                                 dropout=0.5, augment={"shift": 0.1})
    model = build(3)
    assert "no pretrained AlexNet weights" in caplog.text
    assert "augmentation is not applied" in caplog.text
    assert [l.units for l in model.head.layers if hasattr(l, "units")] == [16, 3]
    assert model.head.count_params() == 4096 * 16 + 16 + 16 * 3 + 3  # 8*8*64 flat features
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert model.predict(x).shape == (8, 3)


def test_finetune_mode_is_the_reports_model_and_bad_options_are_named():
    from gtzan_kedro.models.transfer import transfer_builder

    model = transfer_builder("vgg16", "finetune", (32, 32, 3), weights=None, augment={})(10)
    assert model.count_params() == VGG16_NOTOP_PARAMS + 512 * 10 + 10
    assert all(layer.trainable for layer in model.get_layer("vgg16").layers)
    alex = transfer_builder("alexnet", "finetune", (64, 64, 3), width=0.25,
                            dense_units=(128, 1024))(10)
    assert alex.name == "alexnet" and alex.output_shape == (None, 10)
    with pytest.raises(ValueError, match="transfer mode"):
        transfer_builder("vgg16", "partial")
    with pytest.raises(ValueError, match="vgg16 or alexnet"):
        transfer_builder("resnet", "frozen")
    with pytest.raises(ValueError, match=r"unknown vgg16 parameters .*\['width'\]"):
        transfer_builder("vgg16", "frozen", (32, 32, 3), weights=None, width=0.5)
