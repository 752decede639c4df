"""Keras' input pipelines without tf.data's autotuning, so a fit on a core it shares computes
instead of waiting.

Keras feeds ``fit``, ``evaluate`` and ``predict`` through a tf.data pipeline (its data
adapters: in-memory arrays, a PyDataset, a generator) with ``AUTOTUNE`` parallel maps and
prefetching. Autotuning runs threads of its own that the training thread waits on; with a core
to spare they run there, but a process with one core to itself (a Dask worker beside another
busy one on 2 cores, or ``taskset -c 0``) leaves its training thread idle meanwhile: a
sample-scale cnn_mel fit pinned to one core took 16.8 s of wall time for 12.0 CPU-s with
autotuning and 12.2 s for 12.2 CPU-s without, and two such fits at once on 2 cores each took
1.38x their time alone with it and 1.14x without (``benchmarks/core_contention.py``; record:
benchmarks/results/2026-12-07-keras-input-autotune.md). Turning it off changes how many
threads fill the buffers, not the order of the elements or their values: the fits are the
same, bit for bit (tests/models/test_tf_input.py).

Keras has no setting for its pipelines' tf.data options: each adapter's ``get_tf_dataset`` is
wrapped here to set them on what it returns.
"""

from __future__ import annotations

import functools
import logging
import threading
from typing import Any

logger = logging.getLogger(__name__)

_LOCK = threading.Lock()
_DONE = False


def _options():
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return options


def _wrapped(get_tf_dataset):
    @functools.wraps(get_tf_dataset)
    def get_tf_dataset_without_autotune(self: Any):
        return get_tf_dataset(self).with_options(_options())

    return get_tf_dataset_without_autotune


def without_autotune() -> bool:
    """Every Keras data adapter's tf.data pipeline built without autotuning from now on, in
    this process (idempotent, thread-safe). False where this Keras keeps its adapters
    elsewhere: then its own pipelines run, which changes speed, not results."""
    global _DONE
    with _LOCK:
        if _DONE:
            return True
        try:
            from keras.src.trainers.data_adapters import data_adapter
            from keras.src.trainers.data_adapters import (  # noqa: F401  (import their classes)
                array_data_adapter, generator_data_adapter, py_dataset_adapter,
                tf_dataset_adapter)
        except ImportError:
            logger.debug("keras.src.trainers.data_adapters not found: Keras' own tf.data "
                         "options stay")
            return False
        for cls in _subclasses(data_adapter.DataAdapter):
            method = cls.__dict__.get("get_tf_dataset")   # where a class defines its own
            if method is not None:
                cls.get_tf_dataset = _wrapped(method)
        _DONE = True
        return True


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found
