"""musicnn (Pons & Serra, 2019) and its vgg baseline in Keras 3, with the published weights.

The architecture follows ``musicnn/models.py`` of the musicnn 0.1.0 wheel line by line; the
TF1 checkpoints it ships (``gtzan fetch musicnn``) are read with
``tf.compat.v1.train.NewCheckpointReader`` and every variable is assigned to one named
Keras weight through an explicit table (:func:`checkpoint_mapping`). Loading fails on any
checkpoint variable left unmapped, any mapped variable missing, any shape mismatch and any
Keras weight left unassigned, so layers of equal shapes can never be restored into each other.

musicnn's graph applies every batch normalisation *after* the ReLU of its convolution or
dense layer, in inference mode (moving statistics); so does this port.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gtzan_kedro.audio.musicnn_input import N_MELS, PATCH_FRAMES

MODEL_NAMES = ("MSD_musicnn", "MTT_musicnn", "MSD_vgg", "MTT_vgg")
# tf.compat.v1.layers.batch_normalization's default epsilon (Keras 3's is the same, stated anyway).
BN_EPSILON = 1e-3
# Training state in the checkpoints that inference does not use: Adam's slots and its powers.
OPTIMIZER_STATE = ("/Adam", "beta1_power", "beta2_power")
# Embedding sizes per architecture (musicnn: 561 front-end + 3 x 64 mid-end channels).
EMBEDDING_DIMS = {"musicnn": {"mean_pool": 753, "max_pool": 753, "penultimate": 200},
                  "vgg": {"pool5": 256}}
# The front-end's five blocks in musicnn's creation order: (name, filters, kernel, padding).
_FRONTEND = (("timbral_74", 204, (7, int(0.4 * N_MELS)), "valid"),
             ("timbral_77", 204, (7, int(0.7 * N_MELS)), "valid"),
             ("temporal_128", 51, (128, 1), "same"),
             ("temporal_64", 51, (64, 1), "same"),
             ("temporal_32", 51, (32, 1), "same"))


class MusicnnWeightsError(Exception):
    """A checkpoint that does not fit the network; the message lists what is wrong."""


def architecture_of(model_name: str) -> str:
    """'musicnn' or 'vgg' for one of MODEL_NAMES."""
    if model_name not in MODEL_NAMES:
        raise ValueError(f"unknown musicnn model {model_name!r}; choose one of {', '.join(MODEL_NAMES)}")
    return model_name.split("_", 1)[1]


def _bn(name: str):
    import keras

    return keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=name)


def build_musicnn(n_tags: int = 50, midend_filters: int = 64, backend_units: int = 200,
                  n_frames: int = PATCH_FRAMES, n_mels: int = N_MELS):
    """Keras musicnn: timbral + temporal front-end, dense mid-end, temporal-pooling back-end.

    Input (batch, n_frames, n_mels) log-mel patches; outputs a dict of ``tags`` (sigmoid
    probabilities) and the embeddings ``mean_pool``, ``max_pool`` (753 each) and ``penultimate``.
    """
    import keras
    from keras import layers

    inputs = keras.Input((n_frames, n_mels), name="log_mel")
    x = layers.Reshape((n_frames, n_mels, 1), name="expand")(inputs)
    x = _bn("input_bn")(x)
    # musicnn pads only time for the timbral filters (frequency is max-pooled away after).
    padded = layers.ZeroPadding2D(((3, 3), (0, 0)), name="time_pad_7")(x)
    frontend = []
    for name, filters, kernel, padding in _FRONTEND:
        source = padded if padding == "valid" else x
        h = layers.Conv2D(filters, kernel, padding=padding, activation="relu", name=f"{name}_conv")(source)
        h = _bn(f"{name}_bn")(h)
        h = layers.MaxPooling2D((1, h.shape[2]), name=f"{name}_pool")(h)
        frontend.append(layers.Reshape((n_frames, filters), name=f"{name}_squeeze")(h))
    front = layers.Concatenate(axis=-1, name="frontend")(frontend)
    # The mid-end's conv2d over (time, all channels) is a 1-D convolution over time.
    mid = [front]
    h = front
    for i in (1, 2, 3):
        c = layers.ZeroPadding1D(3, name=f"midend_{i}_pad")(h)
        c = layers.Conv1D(midend_filters, 7, padding="valid", activation="relu", name=f"midend_{i}_conv")(c)
        c = _bn(f"midend_{i}_bn")(c)
        h = c if i == 1 else layers.Add(name=f"midend_{i}_residual")([c, h])
        mid.append(h)
    feature_map = layers.Concatenate(axis=-1, name="midend")(mid)
    max_pool = layers.GlobalMaxPooling1D(name="max_pool")(feature_map)
    mean_pool = layers.GlobalAveragePooling1D(name="mean_pool")(feature_map)
    # tf.concat([max, mean], 2) on (batch, 753, 1) then flatten interleaves max_i, mean_i.
    channels = feature_map.shape[-1]
    pooled = layers.Concatenate(axis=-1, name="pool_pairs")(
        [layers.Reshape((channels, 1), name="max_pool_col")(max_pool),
         layers.Reshape((channels, 1), name="mean_pool_col")(mean_pool)])
    h = layers.Flatten(name="pool_flat")(pooled)
    h = _bn("backend_pool_bn")(h)
    h = layers.Dropout(0.5, name="backend_pool_dropout")(h)
    h = layers.Dense(backend_units, activation="relu", name="backend_dense")(h)
    penultimate = _bn("penultimate")(h)
    h = layers.Dropout(0.5, name="backend_dense_dropout")(penultimate)
    logits = layers.Dense(n_tags, name="logits")(h)
    tags = layers.Activation("sigmoid", name="tags")(logits)
    return keras.Model(inputs, {"tags": tags, "mean_pool": mean_pool, "max_pool": max_pool,
                                "penultimate": penultimate}, name="musicnn")


def build_vgg(n_tags: int = 50, filters: int = 128, n_frames: int = PATCH_FRAMES, n_mels: int = N_MELS):
    """Keras version of musicnn's vgg baseline: five 3x3 conv blocks, outputs ``tags`` and ``pool5``."""
    import keras
    from keras import layers

    inputs = keras.Input((n_frames, n_mels), name="log_mel")
    h = layers.Reshape((n_frames, n_mels, 1), name="expand")(inputs)
    h = _bn("input_bn")(h)
    pools = {1: ((4, 1), (2, 2)), 2: ((2, 2), (2, 2)), 3: ((2, 2), (2, 2)), 4: ((2, 2), (2, 2)),
             5: ((4, 4), (4, 4))}
    for i, (pool, strides) in pools.items():
        if i > 1:
            h = layers.Dropout(0.25, name=f"dropout_{i - 1}")(h)
        h = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv_{i}")(h)
        h = _bn(f"conv_{i}_bn")(h)
        h = layers.MaxPooling2D(pool, strides=strides, name=f"pool_{i}")(h)
    pool5 = layers.Flatten(name="pool5")(h)
    h = layers.Dropout(0.5, name="dropout_5")(pool5)
    logits = layers.Dense(n_tags, name="logits")(h)
    tags = layers.Activation("sigmoid", name="tags")(logits)
    return keras.Model(inputs, {"tags": tags, "pool5": pool5}, name="vgg")


@dataclass(frozen=True)
class VariableMap:
    """One checkpoint variable -> one Keras weight (``layer.attribute``), with a reshape if needed."""

    checkpoint: str
    layer: str
    attribute: str
    squeeze_axis: int | None = None  # the mid-end's 4-D conv2d kernels become 3-D Conv1D kernels


def _bn_maps(prefix: str, layer: str) -> list[VariableMap]:
    return [VariableMap(f"{prefix}/{v}", layer, v) for v in ("gamma", "beta", "moving_mean", "moving_variance")]


def _dense_maps(prefix: str, layer: str, squeeze_axis: int | None = None) -> list[VariableMap]:
    return [VariableMap(f"{prefix}/kernel", layer, "kernel", squeeze_axis), VariableMap(f"{prefix}/bias", layer, "bias")]


def checkpoint_mapping(architecture: str) -> list[VariableMap]:
    """The full variable table of one architecture.

    TF1's ``tf.layers`` named unnamed layers by creation order (``conv2d``, ``conv2d_1``,
    ``batch_normalization_3`` ...); the order below is the order of ``musicnn/models.py``,
    checked against the checkpoints' shapes (e.g. conv2d is the 7x38 timbral filter).
    """
    maps = _bn_maps("batch_normalization", "input_bn")
    if architecture == "musicnn":
        bn = 1
        for conv, (name, *_rest) in enumerate(_FRONTEND):
            maps += _dense_maps("conv2d" if conv == 0 else f"conv2d_{conv}", f"{name}_conv")
            maps += _bn_maps(f"batch_normalization_{bn}", f"{name}_bn")
            bn += 1
        for i in (1, 2, 3):
            maps += _dense_maps(f"conv2d_{4 + i}", f"midend_{i}_conv", squeeze_axis=2)
            maps += _bn_maps(f"batch_normalization_{bn}", f"midend_{i}_bn")
            bn += 1
        maps += _bn_maps("batch_normalization_9", "backend_pool_bn")
        maps += _dense_maps("dense", "backend_dense")
        maps += _bn_maps("batch_normalization_10", "penultimate")
        maps += _dense_maps("dense_1", "logits")
    elif architecture == "vgg":
        for i in range(1, 6):
            maps += _dense_maps(f"{i}CNN", f"conv_{i}")
            maps += _bn_maps(f"batch_normalization_{i}", f"conv_{i}_bn")
        maps += _dense_maps("dense", "logits")
    else:
        raise ValueError(f"unknown architecture {architecture!r} (musicnn or vgg)")
    return maps


def read_checkpoint(checkpoint_dir: str | Path) -> dict[str, np.ndarray]:
    """Every variable of a musicnn TF1 checkpoint (saved under the prefix ``<dir>/``)."""
    import tensorflow as tf

    prefix = str(checkpoint_dir).rstrip("/") + "/"
    try:
        reader = tf.compat.v1.train.NewCheckpointReader(prefix)
    except Exception as exc:  # TF raises several error types for a missing/corrupt checkpoint
        raise MusicnnWeightsError(f"{prefix}: not a readable TF checkpoint ({type(exc).__name__}); "
                                  "run `gtzan fetch musicnn --force`") from None
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def assign_checkpoint(model, variables: Mapping[str, np.ndarray], mapping: Iterable[VariableMap],
                      source: str = "checkpoint") -> None:
    """Assign checkpoint ``variables`` to ``model``'s weights as ``mapping`` says, all or nothing.

    Raises MusicnnWeightsError listing every unmapped or missing variable, shape mismatch
    and unassigned Keras weight.
    """
    mapping = list(mapping)
    problems: list[str] = []
    mapped = {m.checkpoint for m in mapping}
    unmapped = sorted(n for n in variables if n not in mapped and not any(s in n for s in OPTIMIZER_STATE))
    if unmapped:
        problems.append(f"unmapped checkpoint variables: {', '.join(unmapped)}")
    missing = sorted(m.checkpoint for m in mapping if m.checkpoint not in variables)
    if missing:
        problems.append(f"variables missing from the checkpoint: {', '.join(missing)}")
    plan = []
    for m in mapping:
        if m.checkpoint not in variables:
            continue
        try:
            weight = getattr(model.get_layer(m.layer), m.attribute)
        except (ValueError, AttributeError):
            problems.append(f"{m.checkpoint}: the network has no weight {m.layer}.{m.attribute}")
            continue
        value = np.asarray(variables[m.checkpoint])
        if m.squeeze_axis is not None and value.ndim == 4 and value.shape[m.squeeze_axis] == 1:
            value = np.squeeze(value, axis=m.squeeze_axis)
        if tuple(value.shape) != tuple(weight.shape):
            problems.append(f"{m.checkpoint}: shape {tuple(variables[m.checkpoint].shape)} does not fit "
                            f"{m.layer}.{m.attribute} {tuple(weight.shape)}")
            continue
        plan.append((weight, value))
    assigned = {id(w) for w, _ in plan}
    unassigned = [w.path for w in model.weights if id(w) not in assigned]
    if unassigned and not problems:
        problems.append(f"network weights no variable was mapped to: {', '.join(unassigned)}")
    if problems:
        raise MusicnnWeightsError(f"{source} does not fit the network: " + "; ".join(problems))
    for weight, value in plan:
        weight.assign(value.astype(weight.dtype))


def load_tag_names(weights_dir: str | Path) -> dict[str, list[str]]:
    """The 50 MSD and 50 MTT tag names unpacked from the wheel's configuration.py."""
    return json.loads((Path(weights_dir) / "tags.json").read_text())


def load_pretrained(model_name: str = "MSD_musicnn", weights_dir: str | Path | None = None):
    """A Keras musicnn/vgg with the published weights of ``model_name`` (see MODEL_NAMES)."""
    from gtzan_kedro.fetch import musicnn_weights_dir

    architecture = architecture_of(model_name)
    weights_dir = musicnn_weights_dir(weights_dir)
    model = build_musicnn() if architecture == "musicnn" else build_vgg()
    checkpoint_dir = Path(weights_dir) / model_name
    assign_checkpoint(model, read_checkpoint(checkpoint_dir), checkpoint_mapping(architecture),
                      source=str(checkpoint_dir))
    return model


@dataclass
class MusicnnExtractor:
    """Tags and embeddings of log-mel patches with one pretrained model, batched."""

    model_name: str = "MSD_musicnn"
    weights_dir: str | Path | None = None
    batch_size: int = 32
    _model: object = field(default=None, init=False, repr=False)
    _tags: list[str] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        from gtzan_kedro.fetch import musicnn_weights_dir

        self.weights_dir = musicnn_weights_dir(self.weights_dir)
        self._model = load_pretrained(self.model_name, self.weights_dir)
        self._tags = load_tag_names(self.weights_dir)[self.model_name[:3]]

    @property
    def tag_names(self) -> list[str]:
        """The 50 tag names, in the order of the ``tags`` output."""
        return list(self._tags)

    @property
    def embedding_names(self) -> list[str]:
        """The embeddings this model gives (musicnn: mean_pool, max_pool, penultimate; vgg: pool5)."""
        return list(EMBEDDING_DIMS[architecture_of(self.model_name)])

    def patch_outputs(self, patches: np.ndarray) -> dict[str, np.ndarray]:
        """Per-patch ``tags`` (n, 50) and embeddings (n, d) of (n, 187, 96) log-mel patches."""
        patches = np.asarray(patches, dtype=np.float32)
        if patches.ndim != 3 or patches.shape[1:] != (PATCH_FRAMES, N_MELS):
            raise ValueError(f"expected (n, {PATCH_FRAMES}, {N_MELS}) patches, got {patches.shape}")
        if not np.isfinite(patches).all():
            # one inf bin spreads through the max-pools to a third of the embedding (the
            # legacy path's constant output, docs/embeddings.md): refuse rather than answer
            raise ValueError("log-mel patches hold inf or NaN values; compute them with "
                             "gtzan_kedro.audio.musicnn_input.log_mel (float32 log)")
        chunks = [self._model(patches[i:i + self.batch_size], training=False)
                  for i in range(0, len(patches), self.batch_size)]
        return {k: np.concatenate([np.asarray(c[k]) for c in chunks]) for k in chunks[0]}


def track_summary(patch_outputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Track-level outputs: the mean over patches of each per-patch output."""
    return {k: np.asarray(v).mean(axis=0) for k, v in patch_outputs.items()}


def top_tags(probabilities: np.ndarray, tag_names: list[str], top: int = 5) -> list[tuple[str, float]]:
    """The ``top`` most probable tags, most probable first (ties keep the published order)."""
    order = np.argsort(-np.asarray(probabilities), kind="stable")[:top]
    return [(tag_names[i], float(probabilities[i])) for i in order]
