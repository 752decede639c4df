"""models.seeding.set_seed: a Keras model's initial weights depend on its seed only, not on
what other code drew from Python's `random` meanwhile (a Dask worker's event loop does, in
another thread, while a fit runs)."""

from __future__ import annotations

import random

import numpy as np

from gtzan_kedro.models.mlp import build_mlp
from gtzan_kedro.models.seeding import set_seed


def _initial_weights(draws_between: int) -> list[np.ndarray]:
    set_seed(7)
    for _ in range(draws_between):   # what another thread of the process draws meanwhile
        random.random()
    model = build_mlp(5, 3, units=[8], dropout=0.2)   # no seed: the layers' default seeds
    return [w.copy() for w in model.get_weights()]


def test_initial_weights_ignore_draws_from_the_global_random_module() -> None:
    alone, disturbed = _initial_weights(0), _initial_weights(3)
    assert len(alone) == len(disturbed) == 4
    for a, b in zip(alone, disturbed, strict=True):
        np.testing.assert_array_equal(a, b)


def test_another_seed_gives_other_weights() -> None:
    set_seed(8)
    other = build_mlp(5, 3, units=[8]).get_weights()[0]
    assert not np.array_equal(other, _initial_weights(0)[0])


def test_fits_in_two_threads_of_a_process_take_turns() -> None:
    import threading
    import time

    from gtzan_kedro.models.seeding import one_fit_at_a_time

    events: list[str] = []

    @one_fit_at_a_time
    def fit(name: str) -> None:
        events.append(f"{name} start")
        time.sleep(0.05)
        inner(name)          # a tuner's trial inside a fit: the lock is re-entrant
        events.append(f"{name} end")

    @one_fit_at_a_time
    def inner(name: str) -> None:
        events.append(f"{name} trial")

    threads = [threading.Thread(target=fit, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(events) == 6
    first = events[0].split()[0]
    assert events[:3] == [f"{first} start", f"{first} trial", f"{first} end"]


def _weights_with_a_model_unpickled_in_another_thread(unpickle: bool) -> list[np.ndarray]:
    """set_seed, then (optionally) another thread unpickles a Keras model, as a node waiting
    for its splits does with each returned split's model while the next split builds in the
    worker's pool thread; then this thread builds."""
    import pickle
    import threading

    blob = pickle.dumps(build_mlp(4, 2, units=[6], dropout=0.1, seed=3))
    set_seed(7)
    if unpickle:
        thread = threading.Thread(target=pickle.loads, args=(blob,))
        thread.start()
        thread.join()
    return [w.copy() for w in build_mlp(5, 3, units=[8], dropout=0.2).get_weights()]


def test_initial_weights_ignore_a_model_unpickled_in_another_thread() -> None:
    alone = _weights_with_a_model_unpickled_in_another_thread(False)
    disturbed = _weights_with_a_model_unpickled_in_another_thread(True)
    for a, b in zip(alone, disturbed, strict=True):
        np.testing.assert_array_equal(a, b)
