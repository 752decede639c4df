"""One seed call for every Keras fit: the same weights in a node's own process, in a thread, or
on a Dask worker."""

from __future__ import annotations

import functools
import logging
import random
import threading
from collections.abc import Callable
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


class _PerThreadRandom:
    """Stands in for the ``random`` module where Keras draws its layers' default seeds: each
    thread draws from a ``random.Random`` of its own (seeded by :func:`set_seed` in that
    thread; fresh from the OS otherwise), so no other thread's draws move a fit's seeds."""

    def __init__(self) -> None:
        self._local = threading.local()

    def seed_this_thread(self, seed: int) -> None:
        self._local.rng = random.Random(seed)

    def __getattr__(self, name: str) -> Any:
        rng = getattr(self._local, "rng", None)
        if rng is None:
            rng = self._local.rng = random.Random()
        return getattr(rng, name)


_KERAS_DEFAULT_SEEDS = _PerThreadRandom()


def set_seed(seed: int) -> None:
    """``keras.utils.set_random_seed(seed)``, and the seeds Keras draws for layers given none
    (weight initialisers, dropout) taken from a generator of this thread's own, seeded with
    ``seed``.

    Why by hand: Keras draws those seeds from Python's process-wide ``random`` module, and on
    a Dask worker other threads draw too while a split builds its model: the event loop
    (heartbeat jitter, picking a peer), and a node waiting for its splits, which unpickles each
    returned split's Keras model (its initialisers and dropout layers draw default seeds). So
    the same split started from other weights there than in its node's process (measured: a
    3-s MLP holdout at 0.750 instead of 0.785). Keras has no setting for a generator of its
    own.

    It also turns off tf.data's autotuning in Keras' input pipelines for the process
    (:func:`gtzan_kedro.models.tf_input.without_autotune`: the same fit, without its training
    thread waiting on autotuning's threads when the process has one core to itself)."""
    import keras

    from gtzan_kedro.models.tf_input import without_autotune

    keras.utils.set_random_seed(seed)
    without_autotune()
    try:
        from keras.src.random import seed_generator
    except ImportError:  # another Keras layout: its global seeding is all there is
        logger.debug("keras.src.random.seed_generator not found: default seeds from `random`")
        return
    if hasattr(seed_generator, "python_random"):
        seed_generator.python_random = _KERAS_DEFAULT_SEEDS
        _KERAS_DEFAULT_SEEDS.seed_this_thread(seed)


_FIT_LOCK = threading.RLock()


def one_fit_at_a_time(fit: F) -> F:
    """Runs ``fit`` holding this process's Keras fit lock (re-entrant: a tuner's trials inside).

    A guard, not a measured fix: NumPy's and TensorFlow's global seeds are per process, so two
    MLP fits (or tuner searches) in two threads of one worker would interleave their draws.
    Dask itself should prevent that (a node rejoining its worker's thread pool after its splits
    waits for a free slot), and the lock did not change a measured result; the variation it was
    added for came from models rebuilt in another thread (see :func:`set_seed`)."""

    @functools.wraps(fit)
    def locked(*args, **kwargs):
        with _FIT_LOCK:
            return fit(*args, **kwargs)

    return locked  # type: ignore[return-value]
