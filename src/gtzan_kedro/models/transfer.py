"""Transfer learning on square spectrogram images: VGG16 (keras.applications) with a small
head, and an AlexNet-style network built in Keras, both with image augmentation.

Two modes (:func:`transfer_builder`):

* ``finetune`` (the report's): every layer trains, with augmentation; on a 2-core CPU VGG16
  at 224x224 trains at about 2 images/s, a GPU job;
* ``frozen``: the convolutional base runs once per image (batched predict, features cached
  by image content across splits and protocols) and only the head trains on those features,
  so a CPU pays one forward pass per image plus a tiny head. Augmentation does not apply
  (the features are computed once).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from gtzan_kedro.models.cnn import BN_MOMENTUM, compile_classifier
from gtzan_kedro.models.runtime import softmax_output

logger = logging.getLogger(__name__)

TRANSFER_MODES = ("finetune", "frozen")

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
    outputs = softmax_output(n_classes)(x)
    return compile_classifier(keras.Model(inputs, outputs, name="vgg16_transfer"), learning_rate)


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

    shape = tuple(int(s) for s in input_shape)
    inputs = keras.Input(shape=shape, name="image")
    x = augmentation(**augment)(inputs) if augment is not None else inputs
    x = layers.Flatten()(_alexnet_convs(x, shape, width))
    outputs = dense_head(x, n_classes, dense_units, dropout)
    return compile_classifier(keras.Model(inputs, outputs, name="alexnet"), learning_rate)


def _alexnet_convs(x, shape: tuple[int, ...], width: float):
    """Rescaling, five conv layers (batch norm in place of LRN) and three max-pools on ``x``."""
    from keras import layers

    def f(n: int) -> int:
        return max(4, int(round(n * width)))

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
    return layers.MaxPooling2D(3, strides=2, padding="same")(x)


def alexnet_base(input_shape: Sequence[int] = (224, 224, 3), width: float = 1.0):
    """AlexNet's convolutional part (as in :func:`build_alexnet`), flattened: the frozen base."""
    from keras import layers

    shape = tuple(int(s) for s in input_shape)
    inputs = keras.Input(shape=shape, name="image")
    return keras.Model(inputs, layers.Flatten()(_alexnet_convs(inputs, shape, width)),
                       name="alexnet_base")


def dense_head(x, n_classes: int, dense_units: Sequence[int] = (), dropout: float = 0.0):
    """Dense ReLU layers each followed by dropout, then the float32 softmax output."""
    from keras import layers

    for units in dense_units:
        x = layers.Dense(int(units), activation="relu")(x)
        x = layers.Dropout(dropout)(x)
    return softmax_output(n_classes)(x)


def vgg16_base(input_shape: Sequence[int] = (224, 224, 3), weights: str | None = "imagenet",
               weights_path: str | None = None, fetch=None):
    """VGG16's convolutional base behind its own preprocessing, global max pooling: 0-255 RGB
    images in, 512 features out (weights resolved as for :func:`build_vgg16`)."""
    from keras.applications import VGG16

    resolved = resolve_vgg16_weights(weights, weights_path, fetch=fetch)
    shape = tuple(int(s) for s in input_shape)
    base = VGG16(include_top=False, weights=resolved, input_shape=shape, pooling="max")
    inputs = keras.Input(shape=shape, name="image")
    return keras.Model(inputs, base(VGGPreprocess(name="vgg_preprocess")(inputs)),
                       name="vgg16_features")


def image_digest(image: np.ndarray) -> bytes:
    """A content key of one image (its dtype, shape and bytes)."""
    image = np.ascontiguousarray(image)
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{image.dtype.str}{image.shape}".encode())
    h.update(image.tobytes())
    return h.digest()


class FeatureExtractor:
    """A frozen convolutional base whose features are computed once per distinct image
    (batched predict) and cached by content, so every split and protocol reuses them."""

    def __init__(self, base, batch_size: int = 32):
        base.trainable = False
        self.base = base
        self.batch_size = int(batch_size)
        self._cache: dict[bytes, np.ndarray] = {}
        self.computed = 0  # images that went through the base (cache misses)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """The base's features of ``images`` (n, h, w, c) as float32 (n, d)."""
        images = np.asarray(images)
        keys = [image_digest(im) for im in images]
        missing = {}
        for i, key in enumerate(keys):
            if key not in self._cache and key not in missing:
                missing[key] = i
        if missing:
            todo = images[list(missing.values())].astype(np.float32, copy=False)
            features = np.asarray(self.base.predict(todo, batch_size=self.batch_size, verbose=0),
                                  dtype=np.float32)
            self._cache.update(zip(missing, features))
            self.computed += len(missing)
        if not keys:
            return np.zeros((0, int(self.base.output.shape[-1])), np.float32)
        return np.stack([self._cache[k] for k in keys])

    def __len__(self) -> int:
        return len(self._cache)


class FrozenBaseClassifier:
    """A trainable head on a frozen base's cached features, with the parts of Keras' Model API
    the training loops use (fit, predict, save, count_params), taking images like the
    fine-tuned model does."""

    def __init__(self, extractor: FeatureExtractor, n_classes: int,
                 dense_units: Sequence[int] = (), dropout: float = 0.3,
                 learning_rate: float = 1e-3, name: str = "frozen_transfer"):
        self.extractor = extractor
        n_features = int(extractor.base.output.shape[-1])
        inputs = keras.Input(shape=(n_features,), name="features")
        # without hidden layers the dropout acts on the features, as in build_vgg16's head
        x = keras.layers.Dropout(dropout)(inputs) if dropout and not dense_units else inputs
        self.head = compile_classifier(keras.Model(inputs, dense_head(x, n_classes, dense_units, dropout),
                                         name=f"{name}_head"), learning_rate)
        self.name = name

    def fit(self, x, y, validation_data=None, **fit_kwargs):
        """Keras' fit on the features of ``x`` (and of the validation images)."""
        if validation_data is not None:
            x_val, y_val = validation_data[:2]
            validation_data = (self.extractor(x_val), np.asarray(y_val))
        return self.head.fit(self.extractor(x), np.asarray(y), validation_data=validation_data,
                             **fit_kwargs)

    def predict(self, x, verbose: int = 0, batch_size: int = 256, **kwargs) -> np.ndarray:
        return self.head.predict(self.extractor(x), verbose=verbose, batch_size=batch_size, **kwargs)

    def as_model(self):
        """Base and head as one Keras model on images (what is saved and served)."""
        inputs = keras.Input(shape=tuple(self.extractor.base.input.shape[1:]), name="image")
        return keras.Model(inputs, self.head(self.extractor.base(inputs)), name=self.name)

    def save(self, path, **kwargs) -> None:
        self.as_model().save(path, **kwargs)

    def count_params(self) -> int:
        return self.extractor.base.count_params() + self.head.count_params()


def transfer_builder(architecture: str, mode: str = "finetune",
                     input_shape: Sequence[int] = (224, 224, 3),
                     augment: dict | None = None, feature_batch_size: int = 32,
                     fetch=None, **model_kwargs: Any) -> Callable[[int], Any]:
    """``build(n_classes)`` for the training loop: a compiled fine-tuning model (``finetune``)
    or a :class:`FrozenBaseClassifier` whose feature cache all calls share (``frozen``).

    ``model_kwargs`` are build_vgg16's / build_alexnet's (weights, weights_path, dropout,
    learning_rate; width, dense_units for AlexNet). The frozen mode loads the VGG16 base and its
    weights once, here, so a missing weights file fails before any training.
    """
    if mode not in TRANSFER_MODES:
        raise ValueError(f"transfer mode must be one of {TRANSFER_MODES}, got {mode!r}")
    if architecture not in ("vgg16", "alexnet"):
        raise ValueError(f"architecture must be vgg16 or alexnet, got {architecture!r}")
    shape = tuple(int(s) for s in input_shape)
    if mode == "finetune":
        if architecture == "vgg16":
            return lambda n: build_vgg16(shape, n, augment=augment, fetch=fetch, **model_kwargs)
        return lambda n: build_alexnet(shape, n, augment=augment, **model_kwargs)
    if augment:
        logger.info("%s frozen base: augmentation is not applied (features are computed once "
                    "per image)", architecture)
    kwargs = dict(model_kwargs)
    learning_rate = float(kwargs.pop("learning_rate", 1e-3))
    if architecture == "vgg16":
        dropout = float(kwargs.pop("dropout", 0.3))
        base = vgg16_base(shape, kwargs.pop("weights", "imagenet"), kwargs.pop("weights_path", None),
                          fetch=fetch)
        dense_units: Sequence[int] = ()
    else:
        dropout = float(kwargs.pop("dropout", 0.5))
        dense_units = tuple(kwargs.pop("dense_units", (4096, 1024)))
        base = alexnet_base(shape, float(kwargs.pop("width", 1.0)))
        logger.warning("alexnet frozen base: the project has no pretrained AlexNet weights, so "
                       "the frozen convolutions keep their random initialisation")
    if kwargs:
        raise ValueError(f"unknown {architecture} parameters for the frozen mode: {sorted(kwargs)}")
    extractor = FeatureExtractor(base, batch_size=feature_batch_size)

    def build(n_classes: int) -> FrozenBaseClassifier:
        return FrozenBaseClassifier(extractor, n_classes, dense_units, dropout, learning_rate,
                                    name=f"{architecture}_frozen")

    return build
