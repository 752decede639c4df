"""Splits as tasks: a node already running on a Dask worker hands its independent fits (a
protocol's splits) to the same cluster; anywhere else they run in-process, one after another.

    results = map_tasks(fit, splits)      # same order as ``splits``, whatever ran where

The node's task *secedes* from its worker while it waits (``distributed.worker_client``), so
its slot runs one of the splits instead of sitting idle. Each split carries its own seed (the
callers seed every fit from the protocol's ``random_state``, never from a shared generator), so
the results do not depend on which worker ran which split or in which order.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# GTZAN_SPLITS_AS_TASKS=0 keeps every split in its node's process, even on a cluster (for
# comparing the two, or for a cluster whose workers cannot hold a second copy of the data)
ENV_SWITCH = "GTZAN_SPLITS_AS_TASKS"
# above every node's priority (a node's is its remaining chain in seconds): the splits of a
# node that is running come before nodes not started, so a started node finishes first
SPLIT_PRIORITY = 10**9


def cluster_workers() -> int:
    """How many workers the cluster this code runs on has; 0 outside a Dask worker."""
    if os.environ.get(ENV_SWITCH, "1") == "0":
        return 0
    try:
        from distributed import get_worker
    except ImportError:  # dask.distributed not installed: no cluster
        return 0
    try:
        worker = get_worker()
    except ValueError:  # not inside a Dask task
        return 0
    try:
        return len(worker.client.scheduler_info(n_workers=-1)["workers"])
    except Exception:  # the scheduler is unreachable: run here
        logger.debug("could not ask the scheduler for its workers", exc_info=True)
        return 0


def _hold(value: T) -> T:
    return value


def share(client, value: T, label: str, worker: str | None = None):
    """``value`` on the cluster as a task's result, not scattered data: a worker lost with it
    costs a recomputation (the value travels in the task), where lost scattered data fails
    every task that needs it. ``worker`` (an address) holds it where it can."""
    placement = {"workers": [worker], "allow_other_workers": True} if worker else {}
    return client.submit(_hold, value, pure=False, priority=SPLIT_PRIORITY,
                         key=f"{label}-{os.urandom(4).hex()}", **placement)


def _apply(fn: Callable[[T], R], item: T) -> R:
    return fn(item)


def submit_queued(client, func: Callable, calls: Sequence[tuple], label: str) -> list:
    """``func(*args)`` for each ``args`` in ``calls`` as tasks that wait in the scheduler's
    queue and go to a worker only when one of its threads is free (Dask's queuing, which it
    applies by itself only to groups larger than twice the cluster's threads): a split never
    waits behind another node, and a worker whose node waits for its splits (seceded) takes
    them. Placed by where their inputs lay instead, a node's splits queued on the one worker
    that held its closure, and idle workers stole them only sometimes (1 of 2 in a test)."""
    keys = [f"{label}-{i}-{os.urandom(4).hex()}" for i in range(len(calls))]
    try:  # dask's own task spec (private): no public way to mark a task for the queue
        from dask._task_spec import Task, parse_input

        graph = {key: Task(key, func, *map(parse_input, args), _data_producer=True)
                 for key, args in zip(keys, calls, strict=True)}
    except (ImportError, TypeError):  # another Dask: placed by Dask's own rules instead
        logger.warning("this Dask cannot queue tasks by hand: splits are placed where their "
                       "inputs are")
        return [client.submit(func, *args, pure=False, priority=SPLIT_PRIORITY, key=key)
                for key, args in zip(keys, calls, strict=True)]
    return client.get(graph, keys, sync=False, priority=SPLIT_PRIORITY)


def map_tasks(fn: Callable[[T], R], items: Sequence[T], *, label: str = "task",
              on_result: Callable[[T, R], None] | None = None,
              on_done: Callable[[T, R], None] | None = None, on_cluster: bool = True) -> list[R]:
    """``fn(item)`` for each item, in the items' order: as tasks on the Dask cluster this runs
    on (when it has more than one worker), else in this process. Here, ``on_done(item,
    result)`` is called as each task finishes, in whatever order they finish (progress lines),
    and ``on_result(item, result)`` in the items' order, each as soon as it and every item
    before it are done (what appends or sums results, so they come out the same wherever the
    tasks ran). ``on_cluster=False`` runs them here whatever the process is. A task that raises
    re-raises here as soon as it fails, so the caller's node fails as if the split had run
    in-process."""
    items = list(items)
    # on a cluster even one split is a task, so a node that hands its splits over never fits one
    # in its own thread beside another node's split in the worker's (a Keras network's splits,
    # single ones included, stay in their node's process unless splits_as_tasks: docs/scale.md)
    if not on_cluster or not items or cluster_workers() < 2:
        results = []
        for item in items:
            results.append(fn(item))
            for callback in (on_done, on_result):
                if callback is not None:
                    callback(item, results[-1])
        return results
    from distributed import as_completed, get_worker, worker_client

    here = get_worker().address
    with worker_client(separate_thread=True) as client:
        # the closure (and the data it holds) travels once per worker, not once per split; it
        # is held on this node's worker, where the first split runs
        remote_fn = share(client, fn, f"{label}-fn", worker=here)
        futures = submit_queued(client, _apply, [(remote_fn, item) for item in items], label)
        logger.info("%s: %d split(s) submitted to the cluster", label, len(futures))
        index = {future.key: i for i, future in enumerate(futures)}
        done: dict[int, R] = {}
        in_order = 0   # items[:in_order] have had their on_result
        try:
            for future in as_completed(futures):
                i = index[future.key]
                done[i] = future.result()
                if on_done is not None:
                    on_done(items[i], done[i])
                while in_order in done:
                    if on_result is not None:
                        on_result(items[in_order], done[in_order])
                    in_order += 1
        finally:
            client.cancel(futures)
        return [done[i] for i in range(len(items))]


# what Dask's nannies set in every worker they start: the BLAS thread counts at 1, and glibc's
# malloc trim threshold at 64 KiB
_AS_THIS_PROCESS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "MALLOC_TRIM_THRESHOLD_")


def workers_as_this_process() -> None:
    """LocalCluster workers set up as this process is, so a task computes there what it computes
    here (the Dask runner's cluster and ingest's own; call it before the nannies start and
    restart their workers; `dask worker` on other machines: DASK_DISTRIBUTED__WORKER__DAEMON=False).

    - Not daemons. Dask starts its workers as daemons, and joblib runs a daemon's ``n_jobs``
      loop in the process itself ("daemon=True, setting n_jobs=1"): the musicnn extraction on
      one core instead of two, and its one-thread TensorFlow set-up left in the worker.
    - BLAS with the threads this process has. Dask starts workers with OMP_NUM_THREADS,
      MKL_NUM_THREADS and OPENBLAS_NUM_THREADS at 1, and a BLAS solve on one thread sums in
      another order than on two: the PM2.5 ridges' RMSE moved in the sixth digit.
    - glibc's malloc as this process has it. Dask sets MALLOC_TRIM_THRESHOLD_ (to hand freed
      memory back to the OS sooner), and setting it turns off glibc's sliding mmap threshold:
      every array over 128 KiB is then mapped and unmapped anew, and the kernel zeroes its pages
      each time. Ingest's extraction on 2 workers took 41.9 s with it (36.6 s of system time
      for the run) and 25.4 s without (5.7 s)."""
    import dask

    environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items()
               if k not in _AS_THIS_PROCESS}
    environ.update({k: os.environ[k] for k in _AS_THIS_PROCESS if k in os.environ})
    dask.config.set({"distributed.worker.daemon": False,
                     "distributed.nanny.pre-spawn-environ": environ})
