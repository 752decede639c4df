"""Accelerator set-up from parameters: which devices TensorFlow sees, GPU memory growth, and
mixed precision ("mixed_float16") when asked for and a GPU is present, so the same code trains
on a laptop CPU and on an NVIDIA GPU (pip extra ``gpu``) with no change but the parameters.

Call :func:`configure_accelerator` once per process before the first model is built (mixed
precision is a process-wide Keras policy; memory growth can only be set before TensorFlow
initialises the GPU). It is idempotent, so every training node may call it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

MIXED_POLICY = "mixed_float16"
_KNOWN_KEYS = {"mixed_precision", "memory_growth", "use_gpu"}


@dataclass(frozen=True)
class AcceleratorInfo:
    """What :func:`configure_accelerator` found and set."""

    gpus: list[str] = field(default_factory=list)  # physical GPUs TensorFlow sees (and uses)
    cpus: list[str] = field(default_factory=list)
    policy: str = "float32"  # the global Keras dtype policy now in force
    memory_growth: bool = False  # memory growth is on for every visible GPU

    @property
    def mixed_precision(self) -> bool:
        return self.policy == MIXED_POLICY


def _physical_gpus(tf) -> list:
    return list(tf.config.list_physical_devices("GPU"))


def configure_accelerator(params: Mapping[str, Any] | None = None,
                          list_gpus: Callable[[], list] | None = None) -> AcceleratorInfo:
    """Apply ``params`` (``mixed_precision``: bool, default false; ``memory_growth``: bool,
    default true; ``use_gpu``: bool, default true, false hides every GPU) and log the devices.

    Mixed precision without a GPU is a logged no-op (float16 on a CPU is slower, not faster).
    ``list_gpus`` replaces TensorFlow's GPU listing (tests on machines without one).
    """
    import keras
    import tensorflow as tf

    params = dict(params or {})
    unknown = set(params) - _KNOWN_KEYS
    if unknown:
        raise ValueError(f"unknown accelerator parameters {sorted(unknown)}; use {sorted(_KNOWN_KEYS)}")
    want_mixed = bool(params.get("mixed_precision", False))
    want_growth = bool(params.get("memory_growth", True))
    gpus = list_gpus() if list_gpus is not None else _physical_gpus(tf)
    if gpus and not params.get("use_gpu", True):
        try:
            tf.config.set_visible_devices([], "GPU")
            logger.info("accelerator: use_gpu is false, %d GPU(s) hidden; training on the CPU",
                        len(gpus))
        except RuntimeError as exc:  # TensorFlow already initialised its devices
            logger.warning("accelerator: could not hide the GPUs (%s); set use_gpu before the "
                           "first TensorFlow operation", exc)
        gpus = []
    growth = bool(gpus) and want_growth and all(_set_memory_growth(tf, gpu) for gpu in gpus)
    if want_mixed and gpus:
        keras.mixed_precision.set_dtype_policy(MIXED_POLICY)
    else:
        if want_mixed:
            logger.info("accelerator: mixed_precision requested but no GPU is visible; "
                        "keeping float32 (no-op)")
        keras.mixed_precision.set_dtype_policy("float32")
    info = AcceleratorInfo(gpus=[getattr(g, "name", str(g)) for g in gpus],
                           cpus=[d.name for d in tf.config.list_physical_devices("CPU")],
                           policy=keras.mixed_precision.dtype_policy().name, memory_growth=growth)
    logger.info("accelerator: TensorFlow %s sees GPUs %s, CPUs %s; dtype policy %s; "
                "memory growth %s", tf.__version__, info.gpus or "none", info.cpus, info.policy,
                "on" if info.memory_growth else "off")
    return info


def _set_memory_growth(tf, gpu) -> bool:
    """Memory growth on for one GPU; True when it is on (already on counts)."""
    try:
        tf.config.experimental.set_memory_growth(gpu, True)
        return True
    except (RuntimeError, ValueError) as exc:  # after initialisation it can no longer change
        try:
            if tf.config.experimental.get_memory_growth(gpu):
                return True
        except (RuntimeError, ValueError):
            pass
        logger.warning("accelerator: memory growth not set on %s (%s); call "
                       "configure_accelerator before the first model is built",
                       getattr(gpu, "name", gpu), exc)
        return False


def softmax_output(n_classes: int, name: str | None = None):
    """The classifier's output layer: a softmax Dense kept in float32 under mixed precision
    (a float16 softmax loses probability mass to rounding; Keras' mixed-precision guide)."""
    import keras

    return keras.layers.Dense(n_classes, activation="softmax", dtype="float32", name=name)
