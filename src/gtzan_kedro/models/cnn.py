"""Keras CNN builders for spectrogram tensors and spectrogram images, and the MFCC
normalisation they use."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gtzan_kedro.models.runtime import softmax_output

# Keras' default 0.99 leaves the moving statistics near their initial values after the few
# hundred steps of a small corpus, so inference-mode predictions collapse; 0.9 catches up.
BN_MOMENTUM = 0.9


def sliding_cmvn(features: np.ndarray, window: int = 101, variance: bool = True,
                 eps: float = 1e-8) -> np.ndarray:
    """Cepstral mean (and variance) normalisation over a centred sliding window of frames.

    ``features`` is (..., n_coefficients, n_frames); each frame is normalised by the mean
    and standard deviation of its coefficient over the ``window`` frames around it (cut at
    the edges, like Kaldi's apply-cmvn-sliding --center). librosa has no CMVN, hence by hand.
    """
    x = np.asarray(features, dtype=np.float64)
    if window < 1:
        raise ValueError(f"window must be at least 1 frame, got {window}")
    n = x.shape[-1]
    half_before = (window - 1) // 2
    half_after = window - 1 - half_before
    idx = np.arange(n)
    lo = np.clip(idx - half_before, 0, n)
    hi = np.clip(idx + half_after + 1, 0, n)
    pad = [(0, 0)] * (x.ndim - 1) + [(1, 0)]
    csum = np.pad(np.cumsum(x, axis=-1), pad)
    csum_sq = np.pad(np.cumsum(x * x, axis=-1), pad)
    count = (hi - lo).astype(np.float64)
    mean = (csum[..., hi] - csum[..., lo]) / count
    out = x - mean
    if variance:
        var = (csum_sq[..., hi] - csum_sq[..., lo]) / count - mean * mean
        out = out / np.sqrt(np.maximum(var, 0.0) + eps)
    return out.astype(np.float32)


def _conv_blocks(x, conv_filters: Sequence[int], kernel_size: int, pool_size, batch_norm: bool):
    from keras import layers

    for filters in conv_filters:
        x = layers.Conv2D(filters, kernel_size, padding="same", activation="relu")(x)
        if batch_norm:
            x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
        x = layers.MaxPooling2D(pool_size, padding="same")(x)
    return x


def compile_classifier(model, learning_rate: float = 1e-3, optimizer=None):
    """Compile a softmax genre classifier the project's one way: sparse categorical
    cross-entropy and accuracy, with Adam at ``learning_rate`` unless ``optimizer`` is given."""
    import keras

    model.compile(optimizer=optimizer or keras.optimizers.Adam(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def dense_head(x, dense_units: Sequence[int], dropout: float, n_classes: int):
    """Dense layers with dropout, then the softmax output (float32 under mixed precision)."""
    from keras import layers

    for units in dense_units:
        x = layers.Dense(units, activation="relu")(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    return softmax_output(n_classes)(x)


def segment_cnn_trunk(
    inputs,
    conv_filters: Sequence[int] = (16, 32, 64, 128),
    kernel_size: int = 3,
    pool_size: int | Sequence[int] = 2,
    batch_norm: bool = True,
):
    """Conv + max-pool blocks flattened to one vector (shared by the segment CNN and the
    multimodal model's MFCC branch)."""
    from keras import layers

    x = _conv_blocks(inputs, conv_filters, kernel_size, pool_size, batch_norm)
    return layers.Flatten()(x)


def build_segment_cnn(
    input_shape: Sequence[int],
    n_classes: int = 10,
    conv_filters: Sequence[int] = (16, 32, 64, 128),
    kernel_size: int = 3,
    pool_size: int | Sequence[int] = 2,
    batch_norm: bool = True,
    dense_units: Sequence[int] = (64,),
    dropout: float = 0.3,
    learning_rate: float = 1e-3,
    name: str = "segment_cnn",
):
    """CNN for one 3-s segment tensor (bins x frames): conv + max-pool blocks, then dense
    layers (the report's Table I layout); compiled with Adam and cross-entropy."""
    import keras
    from keras import layers

    shape = tuple(int(s) for s in input_shape)
    inputs = keras.Input(shape=shape if len(shape) == 3 else (*shape, 1), name="tensor")
    x = segment_cnn_trunk(inputs, conv_filters, kernel_size, pool_size, batch_norm)
    outputs = dense_head(x, dense_units, dropout, n_classes)
    return compile_classifier(keras.Model(inputs, outputs, name=name), learning_rate)


def build_image_cnn(
    input_shape: Sequence[int] = (288, 432, 3),
    n_classes: int = 10,
    conv_filters: Sequence[int] = (16, 32),
    kernel_size: int = 3,
    pool_size: int = 4,
    dense_units: Sequence[int] = (2048, 512, 128),
    dropout: float = 0.4,
    learning_rate: float = 1e-4,
    name: str = "image_cnn",
):
    """The reports' baseline CNN on 30-s mel-spectrogram images: two conv + max-pool
    blocks, dense 2048/512/128 with dropout 0.4, Adam 1e-4. Pixels are rescaled to [0, 1]."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=tuple(int(s) for s in input_shape), name="image")
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = _conv_blocks(x, conv_filters, kernel_size, pool_size, batch_norm=False)
    x = layers.Flatten()(x)
    outputs = dense_head(x, dense_units, dropout, n_classes)
    return compile_classifier(keras.Model(inputs, outputs, name=name), learning_rate)
