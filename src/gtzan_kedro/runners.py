"""A Kedro runner on dask.distributed: each node a Dask task, on one machine or a cluster.

    kedro run --runner gtzan_kedro.runners.DaskRunner                        # LocalCluster, a worker per core
    kedro run --runner gtzan_kedro.runners.DaskRunner --runner-params n_workers=2
    DASK_SCHEDULER_ADDRESS=tcp://HOST:8786 kedro run --runner gtzan_kedro.runners.DaskRunner
    kedro run --runner gtzan_kedro.runners.DaskRunner --runner-params address=tcp://HOST:8786

With no scheduler named (neither ``address`` nor Dask's ``scheduler-address`` setting, which
``DASK_SCHEDULER_ADDRESS`` sets), the runner starts a ``LocalCluster`` of ``n_workers`` process
workers, one thread each, and closes it at the end. A node is submitted once the nodes it
reads from have finished (the graph is the pipeline's; the runner keeps no copy of it) and a
worker is free to take it, the longest remaining chain first. Each task rebuilds the
project's hooks in its worker process and hands them the driver's state, so node and dataset hooks run as in a sequential run:
kedro-mlflow's parent run and the nested run per model (``hooks.ModelTrackingHook``), the
resume fingerprints of ``--only-missing-outputs`` (``resume.ResumeHook``), node timing and
the accelerator set-up. In-memory datasets travel between workers as Dask data; every other
dataset is read and written by the worker itself, so on several machines the data paths must
be shared (a shared filesystem at the same path, or fsspec URLs) and MLflow must be an
``mlflow server`` (docs/scale.md).

A worker that dies in the middle of a node (killed, out of memory) loses only that task: the
scheduler runs it again on another worker (Dask's ``allowed-failures``). A node that raises
stops the run: the driver names the node and re-raises its error, as Kedro's own runners do.

Each task's wall time, CPU seconds and peak RSS are written to
``<task_log_dir>/<run id>.csv`` (and ``latest.csv``) as the run goes: what
``benchmarks/simulate_makespan.py`` schedules, and what orders the next run's submissions
(on a first run, the task log ``task_times`` names: `make run` names one of the sample corpus).
At the end, ``<run id>.stream.csv`` lists every task the cluster ran, the splits and tracks a
node handed over included: which worker ran it, from when to when (Dask's task stream), so a
run's idle workers and each split's time can be read off (``benchmarks/task_stream.py``).
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline
from kedro.runner import AbstractRunner
from kedro.runner.task import Task

from gtzan_kedro.cluster import share, workers_as_this_process
from gtzan_kedro.fileio import atomic_write_text
from gtzan_kedro.scheduling import critical_path_priorities, read_task_durations, read_task_log

logger = logging.getLogger(__name__)

# the worker resource a node task holds (one per worker): see DaskRunner._node_resources
NODE_RESOURCE = "node"
# how often the driver, waiting for a node to finish, looks for nodes whose worker was lost
LOST_WORKER_POLL_S = 5.0
# Dask's periodic monitors, on a LocalCluster: its statistical profiler samples every thread's
# stack every 10 ms, the event loops tick every 20 ms, the system monitor polls psutil every
# 500 ms and each nanny the worker's memory every 100 ms. A 2-worker cluster doing nothing spent
# 3.2 CPU-s per 30 s on them (0.44 with these), a tenth of a core taken from the nodes
# (benchmarks/results/2026-12-07-dask-monitors.md). The memory limit is still enforced, once a
# second; nothing here reads the profiles (no dashboard).
QUIET_MONITORS = {"distributed.worker.profile.enabled": False,
                  "distributed.admin.tick.interval": "1s",
                  "distributed.admin.system-monitor.interval": "5s",
                  "distributed.worker.memory.monitor-interval": "1s"}
TASK_COLUMNS = ["run_id", "node", "namespace", "worker", "host", "started", "wall_s", "cpu_s",
                "peak_rss_mb", "status"]
STREAM_COLUMNS = ["run_id", "key", "group", "worker", "action", "start_s", "stop_s"]
# a task key's random part: "label-3-1a2b3c4d" (a split), "label-fn-1a2b3c4d" (its closure),
# "process_track-<uuid>-17" (client.map)
_GROUP_SUFFIX = re.compile(r"(-[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}-\d+|(?:-\d+)?-[0-9a-f]{8})$")


@dataclass
class RunState:
    """What every task of one run needs on its worker: one task's result, fetched once by each
    worker (and recomputed if the worker holding it dies)."""

    token: str
    run_id: str
    package_name: str
    project_path: str
    logging_config: dict | None
    catalog: DataCatalog
    memory: frozenset[str]
    tracking_uri: str | None
    experiment_id: str | None
    hook_states: dict[str, Any] = field(default_factory=dict)


@dataclass
class TaskOutcome:
    """A finished node: its in-memory outputs (for the nodes that read them) and its figures."""

    outputs: dict[str, Any]
    stats: dict[str, Any]


# -- the driver ------------------------------------------------------------------------------------

class DaskRunner(AbstractRunner):
    """Runs each node as a task on a dask.distributed cluster (a LocalCluster when none is named)."""

    def __init__(self, address: str | None = None, n_workers: int | None = None,
                 threads_per_worker: int = 1, memory_limit: str = "auto",
                 task_log_dir: str | None = "data/09_logs/tasks", task_times: str | None = None,
                 is_async: bool = False):
        super().__init__(is_async=is_async)
        import dask

        self._address = address or dask.config.get("scheduler-address", None)
        self._n_workers = int(n_workers) if n_workers else None
        self._threads = int(threads_per_worker)
        self._memory_limit = memory_limit
        self._task_log_dir = task_log_dir
        self._task_times = task_times

    def _get_executor(self, max_workers: int):  # AbstractRunner's hook: Dask is the executor
        return None

    def _connect(self):
        """A client on the named scheduler, or on a new LocalCluster (then closed with it)."""
        import dask
        from distributed import Client, LocalCluster

        from gtzan_kedro.worker_exit import exit_workers_without_teardown

        if self._address:
            client = Client(self._address, timeout="30s")
            self._logger.info("Dask scheduler %s: %d worker(s)", self._address,
                              len(client.scheduler_info()["workers"]))
            return client, None
        n_workers = self._n_workers or os.cpu_count() or 1
        _quiet_dask_logs()
        workers_as_this_process()
        # queued splits (gtzan_kedro.cluster.submit_queued) go only to a worker with a free
        # thread; at Dask's default 1.1 a one-thread worker busy with a node also takes one.
        # Processes, not threads: Keras' global seeds and MLflow's run stack are per process
        with dask.config.set({"distributed.scheduler.worker-saturation": 1.0, **QUIET_MONITORS}):
            cluster = LocalCluster(n_workers=n_workers, threads_per_worker=self._threads,
                                   processes=True, resources={NODE_RESOURCE: 1},
                                   memory_limit=self._memory_limit, dashboard_address=None,
                                   silence_logs=logging.WARNING)
        self._logger.info("Dask LocalCluster: %d process worker(s) x %d thread(s)", n_workers,
                          self._threads)
        client = Client(cluster)
        exit_workers_without_teardown(client)
        return client, cluster

    def _run(self, pipeline: Pipeline, catalog: DataCatalog, hook_manager=None,
             run_id: str | None = None) -> None:
        from distributed import wait

        nodes = pipeline.nodes
        if not nodes:
            return
        client, cluster = self._connect()
        run_id = run_id or time.strftime("%Y-%m-%dT%H.%M.%S")
        log = TaskLog(self._task_log_path(run_id), run_id)
        stream = _TaskStream(client, log)
        try:
            if self._address:  # a remote worker's log lines reach this terminal too
                for name in ("gtzan_kedro", "kedro"):
                    client.forward_logging(name, level=logging.INFO)
            node_resources = self._node_resources(client)
            state = self._run_state(catalog, hook_manager, run_id)
            state_future = share(client, state, "run-state")
            priorities = critical_path_priorities(pipeline, self._node_seconds(log.folder))
            dependencies = pipeline.node_dependencies
            load_counts = Counter(chain.from_iterable(n.inputs for n in nodes))
            producers = {out: n for n in nodes for out in n.outputs}
            todo, done, running = set(nodes), set(), {}
            placed: dict[Any, str | None] = {}  # the worker each running node was sent to
            results: dict[Node, Any] = {}
            tries: Counter[Node] = Counter()
            while todo or running:
                ready = sorted((n for n in todo if dependencies[n] <= done),
                               key=lambda n: -priorities.get(n.name, 0))
                for node, worker in self._placements(client, node_resources, ready, placed):
                    todo.discard(node)
                    tries[node] += 1
                    upstream = {name: results[producers[name]] for name in node.inputs
                                if name in state.memory and name in producers}
                    key = _task_key(node, run_id) + (f"-try{tries[node]}" if tries[node] > 1 else "")
                    # strictly on its worker: a node allowed elsewhere was stolen onto a worker
                    # whose own node waited for its splits, and queued there behind it
                    future = client.submit(
                        run_node_task, node, state_future, upstream, key=key,
                        pure=False, retries=0, priority=priorities.get(node.name, 0),
                        resources=node_resources, workers=[worker] if worker else None,
                        allow_other_workers=False)
                    running[future], results[node], placed[future] = node, future, worker
                if not running:
                    self._raise_runtime_error(todo, done, set(), None)
                try:
                    finished, _ = wait(list(running), timeout=LOST_WORKER_POLL_S,
                                       return_when="FIRST_COMPLETED")
                except TimeoutError:
                    todo |= self._lost_nodes(client, running, placed, results)
                    continue
                for future in finished:
                    node = running.pop(future)
                    placed.pop(future, None)
                    try:
                        outcome = future.result()
                    except Exception as exc:
                        self._logger.error("node %s failed: %s: %s", node.name,
                                           type(exc).__name__, exc)
                        log.add(node, {"status": "failed"})
                        for other in running:
                            other.cancel()
                        self._suggest_resume_scenario(pipeline, done, catalog)
                        raise
                    done.add(node)
                    log.add(node, outcome.stats)
                    for name, data in outcome.outputs.items():  # what `kedro run` returns
                        if name in pipeline.outputs():
                            catalog.save(name, data)
                    self._logger.info("Completed node %s on %s in %.1f s (%d of %d)", node.name,
                                      outcome.stats["worker"], outcome.stats["wall_s"], len(done),
                                      len(nodes))
                    self._release(node, results, producers, load_counts, state.memory)
        finally:
            stream.write()
            if cluster is not None:
                _end_worker_pools(client)
            client.close()
            if cluster is not None:
                cluster.close()

    def _lost_nodes(self, client, running: dict, placed: dict, results: dict) -> set[Node]:
        """The running nodes whose worker has left the cluster (killed, say, by the OOM killer),
        taken back to be placed again: bound to that worker, Dask would hold them forever."""
        workers = set(client.scheduler_info(n_workers=-1)["workers"])
        lost = set()
        for future, worker in list(placed.items()):
            if worker is None or worker in workers or future.done():
                continue
            node = running.pop(future)
            placed.pop(future)
            results.pop(node, None)
            future.cancel()
            self._logger.warning("worker %s was lost while it ran node %s: running it again",
                                 worker, node.name)
            lost.add(node)
        return lost

    def _node_seconds(self, folder: Path | None) -> dict[str, float]:
        """The node times that order the submissions: this project's last run (``latest.csv``
        of the task log), else the task log named by ``task_times`` (a first run: `make run`
        names one measured on the sample corpus), else none (every node counts the same)."""
        seconds = read_task_durations(folder)
        if not seconds and self._task_times:
            try:
                seconds = read_task_log(self._task_times)
            except (OSError, ValueError) as exc:
                self._logger.warning("cannot read node times from %s (%s): nodes go in graph order",
                                     self._task_times, exc)
            else:
                self._logger.info("no earlier run here: longest chains first by the node times of %s",
                                  self._task_times)
        return seconds

    @staticmethod
    def _placements(client, node_resources: dict[str, int] | None, ready: list[Node],
                    placed: dict[Any, str | None]) -> list[tuple[Node, str | None]]:
        """Which ready nodes to submit now, and where: each to a worker whose ``node`` slot is
        free, the longest remaining chain first. Dask places a resource-bound task on a worker
        as soon as it is submitted and does not move it; left to choose, it queued a node behind
        `cnn_stft` while the other worker stood idle (76 s), and later chose the worker whose
        node was waiting for its splits (it looks idle) over the free one. The node is bound to
        that worker; if the worker dies, the node is placed again (:meth:`_lost_nodes`)."""
        if not node_resources or not ready:  # nothing to place: no round trip to the scheduler
            return [(node, None) for node in ready]
        busy = set(placed.values())
        workers = client.scheduler_info(n_workers=-1)["workers"]
        free = [address for address, info in sorted(workers.items())
                if info.get("resources", {}).get(NODE_RESOURCE, 0) >= 1 and address not in busy]
        if not free and not placed and ready:  # no worker yet (or all lost): let Dask hold one
            free = [None]
        return list(zip(ready, free))

    def _node_resources(self, client) -> dict[str, int] | None:
        """One node at a time per worker: each node task holds the worker's ``node`` resource.
        A node waiting for its splits frees its thread for them (gtzan_kedro.cluster), not for a
        second node, so a Keras node never shares its process with another node (that changed
        its scores) and a worker's memory holds one node's data. Workers started without
        ``--resources node=1`` run nodes side by side, as Dask would."""
        workers = client.scheduler_info(n_workers=-1)["workers"].values()
        if workers and all(w.get("resources", {}).get(NODE_RESOURCE, 0) >= 1 for w in workers):
            return {NODE_RESOURCE: 1}
        self._logger.warning("Dask workers without the resource %s=1 (dask worker --resources "
                             "%s=1): a worker may run several nodes at once", NODE_RESOURCE,
                             NODE_RESOURCE)
        return None

    @staticmethod
    def _release(node: Node, results: dict, producers: dict, load_counts: Counter,
                 memory: frozenset[str]) -> None:
        """Drops a finished node's upstream results once nothing waits for them (Dask frees
        the data on its workers when no future points at it)."""
        for name in node.inputs:
            load_counts[name] -= 1
        for upstream in {producers[n] for n in node.inputs if n in producers}:
            if all(load_counts[out] < 1 for out in upstream.outputs if out in memory):
                results.pop(upstream, None)

    def _task_log_path(self, run_id: str) -> Path | None:
        if not self._task_log_dir:
            return None
        return Path(self._task_log_dir) / f"{_safe_name(run_id)}.csv"

    def _run_state(self, catalog: DataCatalog, hook_manager, run_id: str) -> RunState:
        from kedro.framework.project import LOGGING, PACKAGE_NAME

        memory = frozenset(name for name in catalog.keys()
                           if isinstance(catalog.get(name), MemoryDataset)
                           and not name.startswith("params:") and name != "parameters")
        plugins = (hook_manager.get_plugins() or []) if hook_manager is not None else []
        return RunState(token=f"{run_id}-{os.getpid()}-{time.time_ns()}", run_id=run_id,
                        package_name=PACKAGE_NAME, project_path=str(Path.cwd()),
                        logging_config=dict(LOGGING) if LOGGING else None,
                        catalog=catalog, memory=memory,
                        tracking_uri=_ready_store(_tracking_uri()), experiment_id=_experiment_id(),
                        hook_states=collect_hook_states(plugins))


def _end_worker_pools(client) -> None:
    """Shuts down the joblib process pool of each worker of the runner's own cluster before the
    cluster closes. Closing a worker kills it without joblib's exit handlers: its pool's
    processes lived on, orphaned, until loky's 300 s idle timeout (their CPU time missing from
    the run's), and the pool's temporary folders were reported as leaked at the end."""
    try:
        client.run(_end_joblib_pool, wait=True)
    except Exception:  # a worker already gone: its pool went with it
        logger.debug("could not end the workers' joblib pools", exc_info=True)


def _end_joblib_pool() -> None:
    from joblib.externals.loky import reusable_executor

    executor = reusable_executor._executor  # joblib's pool of this process (no public handle)
    if executor is None:
        return
    if hasattr(executor, "terminate"):  # joblib's MemmappingExecutor: its folders too
        executor.terminate(kill_workers=False)
    else:
        executor.shutdown(wait=True)


def _quiet_dask_logs() -> None:
    """The cluster's own start/stop and event-loop lines are Dask's business, not the run's."""
    for name in ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.worker",
                 "distributed.core", "distributed.http.proxy", "distributed.utils_perf"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _task_key(node: Node, run_id: str) -> str:
    return f"{node.name}-{_safe_name(run_id)}"


def _safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


def _experiment_id() -> str | None:
    """The driver's active MLflow experiment. MLflow hands it to child processes through an
    environment variable, which a LocalCluster's workers inherit and a remote worker has not:
    without it a nested run lands in the Default experiment."""
    try:
        import mlflow

        run = mlflow.active_run()
        if run is not None:
            return run.info.experiment_id
        from mlflow.tracking.fluent import _get_experiment_id

        return _get_experiment_id()
    except Exception:
        return None


def _tracking_uri() -> str | None:
    """The driver's MLflow tracking URI, a local sqlite path made absolute (workers may start in
    another folder)."""
    try:
        import mlflow

        uri = mlflow.get_tracking_uri()
    except Exception:
        return None
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not uri.startswith(prefix + "/"):
        uri = prefix + str(Path(uri[len(prefix):]).resolve())
    return uri


def _ready_store(uri: str | None) -> str | None:
    """``uri``, its sqlite file's tables made here first. Each worker opens the store when it
    sets up its hooks, and two workers opening a new sqlite file at once both run MLflow's
    migrations: one failed its node with "Online migration expected to match one row" (a
    fresh clone's test run, where no mlflow.db existed yet)."""
    if uri and uri.startswith("sqlite:"):
        try:
            from mlflow.tracking import MlflowClient

            MlflowClient(tracking_uri=uri).search_experiments(max_results=1)
        except Exception:  # the workers will say what is wrong with the store
            logger.debug("could not open the tracking store %s", uri, exc_info=True)
    return uri


# -- hook state, driver to worker --------------------------------------------------------------

def _hook_key(hook: Any) -> str:
    return f"{type(hook).__module__}.{type(hook).__qualname__}"


# kedro-mlflow's MlflowHook keeps the parent run and its settings on the instance, set by
# hooks that run only in the driver (after_context_created, before_pipeline_run).
_MLFLOW_HOOK_ATTRIBUTES = ("run_id", "mlflow_config", "_is_mlflow_enabled", "flatten", "recursive",
                           "sep", "long_params_strategy", "long_parameters_strategy")


# hooks whose work is the driver's alone: kedro-viz's dataset statistics are gathered from the
# catalog the driver made (its copy on a worker has none) and written after the run
_DRIVER_ONLY_HOOKS = frozenset({"kedro_viz.integrations.kedro.hooks.DatasetStatsHook"})


def collect_hook_states(plugins) -> dict[str, Any]:
    """The state of each stateful hook of the driver that its copy on a worker needs."""
    states = {}
    for hook in plugins:
        if hasattr(hook, "worker_state"):
            states[_hook_key(hook)] = hook.worker_state()
        elif type(hook).__name__ == "MlflowHook":
            states[_hook_key(hook)] = {a: getattr(hook, a) for a in _MLFLOW_HOOK_ATTRIBUTES
                                       if hasattr(hook, a)}
    return states


def restore_hook_states(plugins, states: dict[str, Any]) -> None:
    """Hands each worker hook the driver's state collected by :func:`collect_hook_states`."""
    for hook in plugins:
        state = states.get(_hook_key(hook))
        if state is None:
            continue
        if hasattr(hook, "restore_worker_state"):
            hook.restore_worker_state(state)
        else:
            for name, value in state.items():
                setattr(hook, name, value)


# -- the worker -------------------------------------------------------------------------------

_PROCESS: dict[str, Any] = {}   # this worker process's project set-up, per run


def _worker_hook_manager(state: RunState):
    """The project's hooks in this worker process, set up once per run."""
    if _PROCESS.get("token") == state.token:
        return _PROCESS["hook_manager"]
    from kedro.framework import project
    from kedro.framework.hooks.manager import (
        _create_hook_manager,
        _register_hooks,
        _register_hooks_entry_points,
    )

    if project.PACKAGE_NAME != state.package_name:
        project.configure_project(state.package_name)
        if state.logging_config:
            project.configure_logging(state.logging_config)
        _quiet_dask_logs()
    # a worker started elsewhere (`dask worker` on another machine) runs in the project's folder,
    # where the shared data paths and relative settings point
    if Path(state.project_path).is_dir() and Path.cwd() != Path(state.project_path):
        os.chdir(state.project_path)
    if state.tracking_uri:
        import mlflow

        mlflow.set_tracking_uri(state.tracking_uri)
        if state.experiment_id:
            mlflow.set_experiment(experiment_id=state.experiment_id)
    hook_manager = _create_hook_manager()
    _register_hooks(hook_manager, project.settings.HOOKS)
    _register_hooks_entry_points(hook_manager, project.settings.DISABLE_HOOKS_FOR_PLUGINS)
    for plugin in list(hook_manager.get_plugins()):
        if _hook_key(plugin) in _DRIVER_ONLY_HOOKS:
            hook_manager.unregister(plugin)
    restore_hook_states(hook_manager.get_plugins(), state.hook_states)
    _PROCESS.update(token=state.token, hook_manager=hook_manager)
    return hook_manager


def _task_catalog(node: Node, state: RunState, upstream: dict[str, TaskOutcome]) -> DataCatalog:
    """The run's catalog as this node sees it: its in-memory inputs filled from the nodes that
    made them, fresh in-memory outputs (the shared catalog object is never written to)."""
    full = state.catalog
    names = [n for n in full.keys() if n.startswith("params:") or n == "parameters"]
    datasets = {n: full.get(n) for n in (*names, *node.inputs, *node.outputs)
                if n not in state.memory}
    for name in node.inputs:
        if name in upstream:
            datasets[name] = MemoryDataset(data=upstream[name].outputs[name])
        elif name in state.memory:  # a free input handed in with its data (the catalog's copy)
            datasets[name] = full.get(name)
    for name in node.outputs:
        if name in state.memory:
            datasets[name] = MemoryDataset()
    return DataCatalog(datasets=datasets)


def _detach_mlflow_run() -> None:
    """Leaves the parent run the node's hooks resumed without ending it: the driver ends it, and
    the worker outlives the run. MLflow has no public call for this (end_run terminates)."""
    try:
        from mlflow.tracking import fluent

        fluent._active_run_stack.get().clear()
    except Exception:  # an MLflow without that stack: nothing was left active
        pass


class _PeakRss:
    """Samples this process's resident memory while a task runs (the OS keeps only the
    process's lifetime peak, and a worker runs many tasks)."""

    def __init__(self, interval: float = 0.2):
        import psutil

        self._process, self._interval = psutil.Process(), interval
        self.peak = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)


def _cpu_seconds() -> float:
    import psutil

    times = psutil.Process().cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def run_node_task(node: Node, state: RunState, upstream: dict[str, TaskOutcome]) -> TaskOutcome:
    """One node on a Dask worker, with the project's hooks: the task the driver submits."""
    from distributed import get_worker

    hook_manager = _worker_hook_manager(state)
    catalog = _task_catalog(node, state, upstream)
    started, wall, cpu = time.time(), time.perf_counter(), _cpu_seconds()
    try:
        with _PeakRss() as rss:
            Task(node=node, catalog=catalog, is_async=False, hook_manager=hook_manager,
                 run_id=state.run_id).execute()
    finally:
        _detach_mlflow_run()
    try:
        worker = get_worker().name
    except ValueError:  # called outside a worker (tests)
        worker = "local"
    stats = {"worker": str(worker), "host": socket.gethostname(),
             "started": pd.Timestamp(started, unit="s", tz="UTC").isoformat(timespec="seconds"),
             "wall_s": round(time.perf_counter() - wall, 3),
             "cpu_s": round(_cpu_seconds() - cpu, 3), "peak_rss_mb": round(rss.peak / 2**20, 1),
             "status": "done"}
    outputs = {name: catalog.load(name) for name in node.outputs if name in state.memory}
    return TaskOutcome(outputs=outputs, stats=stats)


# -- the task log ------------------------------------------------------------------------------

class _TaskStream:
    """Every task the scheduler saw finish from now on (nodes, their splits, ingest's tracks):
    Dask's task stream (``distributed.get_task_stream``, entered here and left in
    :meth:`write`), written beside the task log at the end of the run."""

    def __init__(self, client, log: TaskLog):
        self._client, self._log, self._stream = client, log, None
        if log.path is None:
            return
        from distributed import get_task_stream

        try:  # registers the scheduler's task-stream plugin and notes where this run starts
            self._stream = get_task_stream(client).__enter__()
        except Exception:  # a scheduler that will not keep one: no stream, the run goes on
            logger.debug("no task stream from this scheduler", exc_info=True)

    def write(self) -> None:
        if self._stream is None:
            return
        try:
            self._stream.__exit__(None, None, None)
            names = {address: str(info.get("name", address)) for address, info in
                     self._client.scheduler_info(n_workers=-1)["workers"].items()}
        except Exception:  # the cluster went away with the run: the task log has the nodes
            logger.warning("could not read the cluster's task stream", exc_info=True)
            return
        rows = stream_rows(self._stream.data, names, self._log.run_id)
        text = pd.DataFrame(rows, columns=STREAM_COLUMNS).to_csv(index=False)
        atomic_write_text(self._log.path.with_name(self._log.path.stem + ".stream.csv"), text)


def stream_rows(records: list[dict], names: dict[str, str], run_id: str) -> list[dict]:
    """One row per compute (or transfer) span of each task, in seconds from the first start.
    ``group`` is the key without its run id or random suffix: the node, or the split label."""
    spans = [(r, s) for r in records for s in r["startstops"]]
    if not spans:
        return []
    first = min(s["start"] for _, s in spans)
    suffix = "-" + _safe_name(run_id)
    rows = []
    for record, span in sorted(spans, key=lambda rs: rs[1]["start"]):
        key = str(record["key"])
        group = key.split(suffix)[0] if suffix in key else _GROUP_SUFFIX.sub("", key)
        worker = span.get("worker") or record.get("worker")
        rows.append({"run_id": run_id, "key": key, "group": group,
                     "worker": names.get(worker, worker), "action": span.get("action", "compute"),
                     "start_s": round(span["start"] - first, 3),
                     "stop_s": round(span["stop"] - first, 3)})
    return rows


class TaskLog:
    """Each finished task's figures as a CSV, rewritten atomically as the run goes."""

    def __init__(self, path: Path | None, run_id: str):
        self.path, self.run_id, self.rows = path, run_id, []
        self.folder = path.parent if path is not None else None

    def add(self, node: Node, stats: dict[str, Any]) -> None:
        self.rows.append({"run_id": self.run_id, "node": node.name,
                          "namespace": node.namespace or "", **stats})
        if self.path is None:
            return
        frame = pd.DataFrame(self.rows).reindex(columns=TASK_COLUMNS)
        text = frame.to_csv(index=False)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, text)
        atomic_write_text(self.path.with_name("latest.csv"), text)
