"""A closed worker of the project's own LocalClusters exits at once.

Closed, a worker that had fitted TensorFlow models spent over 4 s in the interpreter's teardown
(its main thread out of Python code: modules and native libraries unloading, gigabytes freed),
so at the end of every Dask run the nanny killed it, with "Worker process still alive after 4.0
seconds, killing" for each worker, and the run waited for that. Dask has no setting for it.

The plugin registers an exit handler when the worker starts, so it runs after every exit handler
registered later (MLflow's, joblib's, TensorFlow's, ...), then ends the process as
multiprocessing ends a forked child, with ``os._exit``. It does so only once the worker's own
close has run (every task's outputs are written by then, atomically); a worker that dies, or
exits any other way, exits as Python does.

    exit_workers_without_teardown(client)     # a client of this process's own LocalCluster
"""

from __future__ import annotations

import atexit
import logging
import os
import sys

from distributed.diagnostics.plugin import WorkerPlugin

_closed = False


def _exit_without_teardown() -> None:
    if not _closed:
        return
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):  # closed or replaced streams
            pass
    os._exit(0)


class ExitWithoutTeardown(WorkerPlugin):
    """Skips a closed worker's interpreter teardown (this module's docstring)."""

    name = "gtzan-exit-without-teardown"

    def setup(self, worker) -> None:
        atexit.register(_exit_without_teardown)

    def teardown(self, worker) -> None:
        global _closed
        _closed = True


def exit_workers_without_teardown(client) -> None:
    """Every worker of ``client``'s cluster, now and any its nannies restart, skips its
    interpreter teardown once closed. For the project's own LocalClusters only: a cluster
    named by address belongs to someone else."""
    client.register_plugin(ExitWithoutTeardown(), name=ExitWithoutTeardown.name)
