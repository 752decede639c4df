"""One seed call for every Keras fit: the same weights in a node's own process, in a thread, or
on a Dask worker."""

from __future__ import annotations

import logging
import random

logger = logging.getLogger(__name__)


def set_seed(seed: int) -> None:
    """``keras.utils.set_random_seed(seed)``, and the seeds Keras draws for layers given none
    (weight initialisers, dropout) taken from a generator of their own, seeded with ``seed``.

    Why by hand: Keras draws those seeds from Python's process-wide ``random`` module. On a Dask
    worker its event loop draws from the same module in another thread while a fit runs
    (heartbeat jitter, picking a peer to fetch data from), so the same split started from other
    weights there than in its node's process, and gave other accuracies. Keras has no setting
    for a generator of its own."""
    import keras

    keras.utils.set_random_seed(seed)
    try:
        from keras.src.random import seed_generator
    except ImportError:  # another Keras layout: its global seeding is all there is
        logger.debug("keras.src.random.seed_generator not found: default seeds from `random`")
        return
    if hasattr(seed_generator, "python_random"):
        seed_generator.python_random = random.Random(seed)
