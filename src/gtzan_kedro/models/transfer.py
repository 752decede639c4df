"""Transfer learning on square spectrogram images: VGG16 (keras.applications) with a small
head, and an AlexNet-style network built in Keras, both with image augmentation."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import keras

from gtzan_kedro.models.cnn import BN_MOMENTUM

VGG16_NOTOP_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
VGG16_NOTOP_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
                   + VGG16_NOTOP_FILE)


class PretrainedWeightsUnavailable(RuntimeError):
    """ImageNet weights were asked for but can be neither found locally nor downloaded."""


def keras_weights_cache(file_name: str = VGG16_NOTOP_FILE) -> Path:
    """Where Keras caches downloaded application weights ($KERAS_HOME/models, default ~/.keras)."""
    from keras.src.backend.config import keras_home

    return Path(keras_home()).expanduser() / "models" / file_name


def resolve_vgg16_weights(weights: str | None = "imagenet", weights_path: str | None = None,
                          fetch=None) -> str | None:
    """The argument for ``keras.applications.VGG16(weights=...)``: None, a local file, or
    the cached ImageNet file (downloaded through Keras when absent).

    Raises PretrainedWeightsUnavailable with the file to place where when it cannot be had.
    """
    if weights_path:
        path = Path(weights_path).expanduser()
        if not path.is_file():
            raise PretrainedWeightsUnavailable(
                f"weights_path {path} does not exist: place the VGG16 weights file there "
                f"(e.g. {VGG16_NOTOP_FILE} from {VGG16_NOTOP_URL}) or set weights_path: null"
            )
        return str(path)
    if weights is None:
        return None
    if weights != "imagenet":
        raise ValueError(f"weights must be 'imagenet' or null (use weights_path for a file), got {weights!r}")
    cached = keras_weights_cache()
    if cached.is_file():
        return str(cached)
    if fetch is None:
        from keras.utils import get_file as fetch
    try:
        return fetch(VGG16_NOTOP_FILE, VGG16_NOTOP_URL, cache_subdir="models",
                     file_hash="6d6bbae143d832006294945121d1f1fc")
    except Exception as exc:  # Keras wraps every network failure in a bare Exception
        raise PretrainedWeightsUnavailable(
            f"VGG16 ImageNet weights are not cached and could not be downloaded ({exc}). "
            f"On a machine with internet, download {VGG16_NOTOP_URL} and place it at "
            f"{cached} (Keras' cache), or set weights_path to a local copy, or weights: null "
            f"to train from random initialisation."
        ) from None


def augmentation(shift: float = 0.1, zoom: float = 0.1, rotation_degrees: float = 5.0,
                 seed: int | None = None):
    """Random shifts, zoom and small rotations, active only while training."""
    from keras import layers

    steps = []
    if shift:
        steps.append(layers.RandomTranslation(shift, shift, fill_mode="nearest", seed=seed))
    if zoom:
        steps.append(layers.RandomZoom(zoom, zoom, fill_mode="nearest", seed=seed))
    if rotation_degrees:
        steps.append(layers.RandomRotation(rotation_degrees / 360.0, fill_mode="nearest", seed=seed))
    return keras.Sequential(steps, name="augmentation")


def _compile(model, learning_rate: float):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_vgg16(
    input_shape: Sequence[int] = (224, 224, 3),
    n_classes: int = 10,
    weights: str | None = "imagenet",
    weights_path: str | None = None,
    dropout: float = 0.3,
    learning_rate: float = 1e-4,
    augment: dict | None = None,
    fetch=None,
):
    """VGG16's convolutional base (all layers trainable), global max pooling, dropout and a
    softmax layer. Inputs are 0-255 RGB; VGG's own preprocessing runs inside the model."""
    from keras import layers
    from keras.applications import VGG16

    resolved = resolve_vgg16_weights(weights, weights_path, fetch=fetch)
    shape = tuple(int(s) for s in input_shape)
    base = VGG16(include_top=False, weights=resolved, input_shape=shape, pooling="max")
    base.trainable = True
    inputs = keras.Input(shape=shape, name="image")
    x = augmentation(**augment)(inputs) if augment is not None else inputs
    x = VGGPreprocess(name="vgg_preprocess")(x)
    x = base(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax")(x)
    return _compile(keras.Model(inputs, outputs, name="vgg16_transfer"), learning_rate)


@keras.saving.register_keras_serializable(package="gtzan_kedro")
class VGGPreprocess(keras.layers.Layer):
    """VGG16's "caffe" preprocessing (RGB->BGR, ImageNet channel means) as a layer, so the
    saved model takes plain 0-255 images (keras.applications offers it only as a function)."""

    def call(self, inputs):
        bgr = keras.ops.flip(inputs, axis=-1)
        return bgr - keras.ops.convert_to_tensor([103.939, 116.779, 123.68], dtype=bgr.dtype)


def build_alexnet(
    input_shape: Sequence[int] = (224, 224, 3),
    n_classes: int = 10,
    width: float = 1.0,
    dense_units: Sequence[int] = (4096, 1024),
    dropout: float = 0.5,
    learning_rate: float = 1e-4,
    augment: dict | None = None,
):
    """AlexNet-style network: five conv layers (96-256-384-384-256 filters times ``width``,
    three max-pools, batch norm in place of LRN), dense layers ending in 1024 units, softmax."""
    from keras import layers

    def f(n: int) -> int:
        return max(4, int(round(n * width)))

    shape = tuple(int(s) for s in input_shape)
    inputs = keras.Input(shape=shape, name="image")
    x = augmentation(**augment)(inputs) if augment is not None else inputs
    x = layers.Rescaling(1.0 / 255)(x)
    stride = 4 if min(shape[:2]) >= 128 else 1
    x = layers.Conv2D(f(96), 11, strides=stride, padding="same", activation="relu")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    x = layers.Conv2D(f(256), 5, padding="same", activation="relu")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    x = layers.Conv2D(f(384), 3, padding="same", activation="relu")(x)
    x = layers.Conv2D(f(384), 3, padding="same", activation="relu")(x)
    x = layers.Conv2D(f(256), 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    x = layers.Flatten()(x)
    for units in dense_units:
        x = layers.Dense(units, activation="relu")(x)
        x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax")(x)
    return _compile(keras.Model(inputs, outputs, name="alexnet"), learning_rate)
