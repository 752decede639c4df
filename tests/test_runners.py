"""gtzan_kedro.runners.DaskRunner on small pipelines: the same outputs as SequentialRunner, a
raising node named, a killed worker survived, and splits handed to the same cluster."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline, node
from kedro.runner import SequentialRunner
from kedro_datasets.pickle import PickleDataset

from gtzan_kedro.cluster import map_tasks
from gtzan_kedro.runners import DaskRunner

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
# known: a node's splits queue on the worker that holds its closure, and the worker whose node
# waits is not counted idle, so it does not steal them; spreading them by replication hung a
# worker once, by stealing it let nodes queue behind a waiting node
def _on_two_workers(func, value):
    """``func(value)`` as the one node of a pipeline on a 2-worker DaskRunner: its output."""
    out = DaskRunner(n_workers=2, task_log_dir=None).run(
        Pipeline([node(func, "value", "output", name=func.__name__.strip("_"))]),
        DataCatalog(datasets={"value": MemoryDataset(value)}))
    return out["output"].load()


def _square_all(numbers: list[int]) -> list[int]:
    return [n * n for n in numbers]


def _total(squares: list[int], offset: int) -> int:
    return sum(squares) + offset


def _describe(squares: list[int], total: int) -> dict:
    return {"n": len(squares), "total": total, "pid": os.getpid()}


def _pipeline() -> Pipeline:
    return Pipeline([
        node(_square_all, "numbers", "squares", name="square"),             # memory -> memory
        node(_total, ["squares", "params:offset"], "total", name="total"),  # memory -> file
        node(_describe, ["squares", "total"], "summary", name="describe"),  # -> run output
    ])


def _catalog(tmp_path: Path) -> DataCatalog:
    return DataCatalog(datasets={
        "numbers": MemoryDataset(list(range(10))),
        "params:offset": MemoryDataset(7),
        "squares": MemoryDataset(),
        "total": PickleDataset(filepath=str(tmp_path / "total.pkl")),
    })


def test_dask_runner_gives_the_sequential_outputs_and_logs_every_task(tmp_path: Path) -> None:
    sequential = SequentialRunner().run(_pipeline(), _catalog(tmp_path / "seq"))
    sequential_total = PickleDataset(filepath=str(tmp_path / "seq" / "total.pkl")).load()

    logs = tmp_path / "tasks"
    dask = DaskRunner(n_workers=2, task_log_dir=str(logs)).run(
        _pipeline(), _catalog(tmp_path / "dask"), run_id="r1")
    dask_total = PickleDataset(filepath=str(tmp_path / "dask" / "total.pkl")).load()

    assert dask_total == sequential_total == sum(n * n for n in range(10)) + 7
    summary = dask["summary"].load()
    assert summary["total"] == sequential["summary"].load()["total"]
    assert summary["pid"] != os.getpid()  # it ran in a worker process, not here
    log = pd.read_csv(logs / "r1.csv")
    assert sorted(log["node"]) == ["describe", "square", "total"]
    assert set(log["status"]) == {"done"}
    assert (log["peak_rss_mb"] > 0).all() and log["wall_s"].notna().all()
    assert (logs / "latest.csv").read_text() == (logs / "r1.csv").read_text()


def _boom(numbers: list[int]) -> list[int]:
    raise ValueError(f"bad numbers: {len(numbers)}")


def test_a_raising_node_stops_the_run_with_its_name_and_error(tmp_path: Path, caplog) -> None:
    pipeline = Pipeline([node(_boom, "numbers", "squares", name="explode"),
                         node(_total, ["squares", "params:offset"], "total", name="total")])
    with pytest.raises(ValueError, match="bad numbers: 10"):
        DaskRunner(n_workers=2, task_log_dir=str(tmp_path / "tasks")).run(
            pipeline, _catalog(tmp_path), run_id="r2")
    assert "node explode failed: ValueError: bad numbers: 10" in caplog.text
    assert not (tmp_path / "total.pkl").exists()  # the node after it never ran
    assert pd.read_csv(tmp_path / "tasks" / "r2.csv")["status"].tolist() == ["failed"]


def _die_once(numbers: list[int], marker: str) -> list[int]:
    """Kills its own worker process the first time (as the OOM killer would), works after."""
    if not Path(marker).exists():
        Path(marker).write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return [n * n for n in numbers]


def test_a_worker_killed_in_the_middle_of_a_node_costs_a_rerun_not_the_run(tmp_path: Path) -> None:
    marker = tmp_path / "killed.txt"
    catalog = _catalog(tmp_path)
    catalog["params:marker"] = MemoryDataset(str(marker))
    pipeline = Pipeline([node(_die_once, ["numbers", "params:marker"], "squares", name="square"),
                         node(_total, ["squares", "params:offset"], "total", name="total")])
    DaskRunner(n_workers=2, task_log_dir=str(tmp_path / "tasks")).run(pipeline, catalog, run_id="r3")
    assert marker.exists()  # the first try really died
    assert PickleDataset(filepath=str(tmp_path / "total.pkl")).load() == sum(n * n for n in range(10)) + 7
    log = pd.read_csv(tmp_path / "tasks" / "r3.csv")
    assert log["node"].tolist() == ["square", "total"] and set(log["status"]) == {"done"}


def _count_assigned(numbers: list[int]) -> int:
    """How many tasks the scheduler has placed on a worker (running or queued there) now."""
    from distributed import get_client

    return sum(len(keys) for keys in get_client().processing().values())


def test_nodes_are_submitted_only_to_a_free_worker(tmp_path: Path) -> None:
    """Dask places a resource-bound task on a worker when it is submitted and does not move it:
    submitted while both workers were busy, a node waited behind a long one on one worker while
    the other stood idle. So the driver holds ready nodes until a worker's slot frees up."""
    names = [f"count_{i}" for i in range(8)]
    pipeline = Pipeline([node(_count_assigned, "numbers", f"{n}_out", name=n) for n in names])
    out = DaskRunner(n_workers=2, task_log_dir=None).run(pipeline, _catalog(tmp_path))
    assigned = [out[f"{n}_out"].load() for n in names]
    assert max(assigned) <= 2, assigned  # at most one node per worker: none queued behind another


def _nap(item: int) -> int:
    import time

    time.sleep(1.5)  # long enough that every short node is placed while the naps run
    return item


def _fan_out(numbers: list[int]) -> int:
    """A node that hands its splits to the cluster and waits for them (its thread freed)."""
    return len(map_tasks(_nap, list(range(6)), label="nap"))


def _short(numbers: list[int]) -> int:
    """The most node tasks the scheduler has on any one worker (running or queued) now."""
    import time

    from distributed import get_client

    time.sleep(0.1)
    nodes = ("fan_out-", "short_")
    return max(sum(str(key).startswith(nodes) for key in keys)
               for keys in get_client().processing().values())


def test_a_node_goes_to_the_free_worker_not_to_one_whose_node_waits_for_its_splits(tmp_path: Path) -> None:
    """A node waiting for its splits looks idle to Dask's placement; the next node must still
    go to a worker whose slot is free, not queue behind the waiting one."""
    logs = tmp_path / "tasks"
    logs.mkdir()
    shorts = [f"short_{i}" for i in range(8)]
    # the last run's times: the fan-out node has the longest chain, so it is placed first
    pd.DataFrame({"node": ["fan_out", *shorts], "wall_s": [3.0] + [0.1] * len(shorts),
                  "status": "done"}).to_csv(logs / "latest.csv", index=False)
    pipeline = Pipeline([node(_fan_out, "numbers", "fan_out_out", name="fan_out"),
                         *(node(_short, "numbers", f"{n}_out", name=n) for n in shorts)])
    out = DaskRunner(n_workers=2, task_log_dir=str(logs)).run(pipeline, _catalog(tmp_path), run_id="r6")
    per_worker = [out[f"{n}_out"].load() for n in shorts]
    assert max(per_worker) == 1, per_worker  # never a node queued behind another on its worker


def test_a_first_run_orders_its_nodes_by_the_named_task_times(tmp_path: Path) -> None:
    """No task log of an earlier run here: the longest nodes of the named log go first."""
    names = [f"node_{i}" for i in range(6)]
    times = tmp_path / "measured.csv"
    pd.DataFrame({"node": names, "wall_s": [1.0, 6.0, 3.0, 5.0, 2.0, 4.0],
                  "status": "done"}).to_csv(times, index=False)
    pipeline = Pipeline([node(_square_all, "numbers", f"{n}_out", name=n) for n in names])
    logs = tmp_path / "tasks"  # empty: a fresh clone
    DaskRunner(n_workers=1, task_log_dir=str(logs), task_times=str(times)).run(
        pipeline, _catalog(tmp_path), run_id="r7")
    ran = pd.read_csv(logs / "r7.csv")["node"].tolist()  # in the order they finished
    assert ran == ["node_1", "node_3", "node_5", "node_2", "node_4", "node_0"]


def _split_fit(item: int) -> tuple[int, int]:
    if item < 0:
        raise RuntimeError(f"split {item} failed")
    return item * 10, os.getpid()


def _fit_all(items: list[int]) -> list:
    arrived: list[int] = []
    results = map_tasks(_split_fit, items, label="test", on_result=lambda i, _: arrived.append(i))
    return [results, arrived, os.getpid()]


def test_splits_run_as_tasks_of_the_cluster_in_order_and_errors_come_back(tmp_path: Path) -> None:
    in_process = map_tasks(_split_fit, [1, 2, 3])
    assert [r for r, _ in in_process] == [10, 20, 30]
    assert {pid for _, pid in in_process} == {os.getpid()}  # no cluster here: this process

    items = list(range(8))
    catalog = DataCatalog(datasets={"items": MemoryDataset(items)})
    out = DaskRunner(n_workers=2, task_log_dir=str(tmp_path / "tasks")).run(
        Pipeline([node(_fit_all, "items", "fitted", name="fit_all")]), catalog, run_id="r3")
    results, arrived, node_pid = out["fitted"].load()
    assert [r for r, _ in results] == [i * 10 for i in items]
    assert arrived == items
    # both workers fitted splits: the node's own process and the other worker
    assert len({pid for _, pid in results}) == 2 and node_pid in {pid for _, pid in results}
    # the task stream lists the node and each of its splits, with the worker that ran it
    stream = pd.read_csv(tmp_path / "tasks" / "r3.stream.csv", dtype={"worker": str})
    computed = stream[stream["action"] == "compute"]
    assert computed.groupby("group").size().to_dict() == {"run-state": 1, "fit_all": 1, "test": 8,
                                                     "test-fn": 1}
    assert set(computed.loc[computed["group"] == "test", "worker"]) == {"0", "1"}
    node_span = computed[computed["group"] == "fit_all"].iloc[0]
    splits = computed[computed["group"] == "test"]
    assert (splits["start_s"] >= node_span["start_s"]).all()
    assert (splits["stop_s"] <= node_span["stop_s"]).all()

    with pytest.raises(RuntimeError, match="split -1 failed"):
        DaskRunner(n_workers=2, task_log_dir=None).run(
            Pipeline([node(_fit_all, "items", "fitted", name="fit_all")]),
            DataCatalog(datasets={"items": MemoryDataset([1, -1, 2])}))


def _first_waits_for_the_second(item: int) -> int:
    """Split 0 finishes only once the driver of the map has seen split 1 done (or after 60 s,
    so a map that reports in the items' order fails instead of hanging)."""
    from distributed import Event

    if item == 0:
        Event("second-reported").wait(timeout=60)
    return item * 10


def _map_reporting_both_orders(items: list[int]) -> dict:
    from distributed import Event

    done, in_order = [], []

    def on_done(item: int, result: int) -> None:
        done.append(item)
        if item == 1:
            Event("second-reported").set()

    results = map_tasks(_first_waits_for_the_second, items, label="order", on_done=on_done,
                        on_result=lambda item, _: in_order.append(item))
    return {"results": results, "done": done, "in_order": in_order}


def test_splits_report_as_they_finish_and_results_keep_their_order() -> None:
    out = _on_two_workers(_map_reporting_both_orders, [0, 1])
    assert out["done"] == [1, 0]          # progress: split 1 finished first
    assert out["in_order"] == [0, 1]      # what sums or appends results: the items' order
    assert out["results"] == [0, 10]


def _pid(_: int) -> int:
    return os.getpid()


def _joblib_pids(items: list[int]) -> dict:
    from joblib import Parallel, delayed

    return {"node": os.getpid(), "jobs": Parallel(n_jobs=2)(delayed(_pid)(i) for i in items),
            "blas": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
            "malloc": os.environ.get("MALLOC_TRIM_THRESHOLD_")}


def test_a_worker_is_set_up_as_the_driver(tmp_path: Path, monkeypatch) -> None:
    # Dask's daemon workers made joblib run n_jobs=2 loops in the worker itself, one at a time,
    # Dask's one-thread BLAS summed in another order than the driver's, and Dask's malloc trim
    # threshold cost ingest a third more time
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    out = DaskRunner(n_workers=1, task_log_dir=None).run(
        Pipeline([node(_joblib_pids, "items", "pids", name="parallel")]),
        DataCatalog(datasets={"items": MemoryDataset(list(range(6)))}))
    pids = out["pids"].load()
    assert pids["node"] != os.getpid()
    assert pids["node"] not in set(pids["jobs"])   # the loop ran in the node's child processes
    assert pids["blas"] == {"OMP_NUM_THREADS": None, "OPENBLAS_NUM_THREADS": "2"}
    assert pids["malloc"] is None
    # joblib's processes end with the run: left to loky's 5-minute idle timeout they outlived
    # it, orphaned, their CPU time missing from the run's own (`/usr/bin/time make run`)
    import psutil

    alive = [p for p in set(pids["jobs"]) if psutil.pid_exists(p)
             and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert alive == []


def _worker_monitors(_: int) -> dict:
    import dask
    from distributed import get_worker

    worker = get_worker()
    return {"callbacks": sorted(worker.periodic_callbacks),
            "tick": dask.config.get("distributed.admin.tick.interval"),
            "memory": dask.config.get("distributed.worker.memory.monitor-interval")}


def test_a_local_cluster_runs_without_dask_s_profiler_and_with_slower_monitors() -> None:
    # at Dask's defaults the monitors of an idle 2-worker cluster took a tenth of a core
    out = DaskRunner(n_workers=1, task_log_dir=None).run(
        Pipeline([node(_worker_monitors, "x", "monitors", name="monitors")]),
        DataCatalog(datasets={"x": MemoryDataset(0)}))
    monitors = out["monitors"].load()
    assert "heartbeat" in monitors["callbacks"]       # the worker's own callbacks are listed
    assert "profile" not in monitors["callbacks"]     # Dask's default samples stacks every 10 ms
    assert (monitors["tick"], monitors["memory"]) == ("1s", "1s")


class _MarkAtTeardown:
    """Touches ``path`` when the interpreter's teardown collects it (os kept: builtins go first)."""

    def __init__(self, path: str):
        self.path, self.os = path, os

    def __del__(self):
        self.os.close(self.os.open(self.path, self.os.O_CREAT | self.os.O_WRONLY))


def _leave_exit_markers(folder: str) -> int:
    import atexit
    import sys

    pid = os.getpid()
    # as MLflow or joblib would: a handler registered by a task, after the worker started
    atexit.register(lambda: Path(folder, f"atexit-{pid}").touch())
    sys.modules["json"]._gtzan_teardown_probe = _MarkAtTeardown(f"{folder}/teardown-{pid}")
    return pid


def test_a_closed_worker_runs_the_tasks_exit_handlers_and_skips_the_interpreter_teardown(tmp_path) -> None:
    # over 4 s of teardown after TensorFlow fits: the nanny killed each worker at the end of
    # every run ("Worker process still alive after 4.0 seconds, killing") and the run waited
    out = DaskRunner(n_workers=1, task_log_dir=None).run(
        Pipeline([node(_leave_exit_markers, "folder", "pid", name="markers")]),
        DataCatalog(datasets={"folder": MemoryDataset(str(tmp_path))}))
    pid = out["pid"].load()
    assert pid != os.getpid()
    assert (tmp_path / f"atexit-{pid}").exists()          # the task's exit handler ran
    assert not (tmp_path / f"teardown-{pid}").exists()    # the teardown did not


def _mlp_rows(seed: int) -> pd.DataFrame:
    """A Keras MLP scored on 4 holdouts of a small two-genre table (its splits as tasks when
    this runs on a cluster), the rows with full precision."""
    import numpy as np

    from gtzan_kedro.evaluation.tabular import evaluate_table
    from gtzan_kedro.models.baselines import build_estimator

    rng = np.random.default_rng(seed)
    labels = [("blues", "rock")[t % 2] for t in range(40)]
    table = pd.DataFrame({"filename": [f"{g}.{t:05d}.wav" for t, g in enumerate(labels)],
                          "label": labels})
    X = pd.DataFrame(rng.normal(size=(40, 6)) + np.array([[0.0], [0.8]] * 20), columns=list("abcdef"))
    model = {"kind": "mlp", "preset": "pyramid", "epochs": 4, "patience": 2, "batch_size": 8}
    result = evaluate_table(table, X, None, lambda: build_estimator(model, random_state=seed),
                            model="mlp", features="toy", protocols=["holdout"],
                            evaluation={"n_splits": 4, "random_state": seed}, fit_mode="mlp")
    from gtzan_kedro.cluster import cluster_workers

    return result.per_split, cluster_workers()


def test_keras_splits_as_tasks_give_the_in_process_results() -> None:
    in_process, workers_here = _mlp_rows(3)
    on_cluster, workers_there = _on_two_workers(_mlp_rows, 3)
    assert workers_here == 0 and workers_there == 2   # there the 4 splits went to the cluster
    assert len(on_cluster) == 4
    pd.testing.assert_frame_equal(on_cluster.drop(columns="fit_seconds"),
                                  in_process.drop(columns="fit_seconds"), check_exact=True)


def _cnn_rows(seed: int):
    """A small segment CNN scored on 3 holdouts and 2 leaky splits of memory-mapped segments
    (its splits as tasks when this runs on a cluster, all 5 at once): the per-split rows and the
    kept network's weights."""
    import numpy as np

    from gtzan_kedro.cluster import cluster_workers
    from gtzan_kedro.evaluation.keras import evaluate_keras
    from gtzan_kedro.evaluation.samples import SampleSet, _DiskStack
    from gtzan_kedro.models.cnn import build_segment_cnn

    rng = np.random.default_rng(seed)
    stack = _DiskStack()
    labels, tracks = [], []
    for t in range(24):
        genre = ("blues", "rock", "jazz")[t % 3]
        stack.append(rng.normal(size=(4, 8, 10)).astype(np.float32) + t % 3)
        labels += [genre] * 4
        tracks += [f"{genre}.{t:05d}"] * 4
    samples = SampleSet(stack.array()[..., np.newaxis], labels, tracks)
    result = evaluate_keras(
        "cnn_toy", "toy", lambda n: build_segment_cnn((8, 10, 1), n, conv_filters=(4,), dense_units=(8,)),
        samples, ["holdout", "leaky_segments"], {"n_holdouts": 3, "n_leaky": 2, "seed": seed,
                                                            "splits_as_tasks": True},
        {"epochs": 3, "batch_size": 8, "early_stopping_patience": 2, "progress_every": 0})
    weights = [np.asarray(w) for w in result.fitted_models["cnn_toy"].get_weights()]
    return result.per_split, result.history, weights, cluster_workers()


def test_cnn_splits_as_tasks_give_the_in_process_results() -> None:
    import numpy as np

    rows_here, history_here, weights_here, workers_here = _cnn_rows(5)
    rows_there, history_there, weights_there, workers_there = _on_two_workers(_cnn_rows, 5)
    assert workers_here == 0 and workers_there == 2   # there the 5 splits went to the cluster
    assert len(rows_there) == 5
    pd.testing.assert_frame_equal(rows_there.drop(columns="fit_seconds"),
                                  rows_here.drop(columns="fit_seconds"), check_exact=True)
    pd.testing.assert_frame_equal(history_there, history_here, check_exact=True)
    assert len(weights_there) == len(weights_here)
    for there, here in zip(weights_there, weights_here):
        np.testing.assert_array_equal(there, here)   # the kept network came back as fitted


def _lstm_search(seed: int):
    """A small LSTM search (2 lookbacks x 2 seed members, refitted; its members as tasks when
    this runs on a cluster): every hour's forecast, the model-selection table, the choices."""
    from gtzan_kedro.cluster import cluster_workers
    from gtzan_kedro.pm25.features import add_dynamics, add_model_features, chronological_split
    from gtzan_kedro.pm25.quality import clean_prsa
    from gtzan_kedro.pm25.search import search_lstm
    from gtzan_kedro.pm25.synth import synthetic_prsa

    hourly, _ = clean_prsa(synthetic_prsa(seed=3, start="2012-01-01", end="2012-02-29"), "synthetic")
    frame = add_dynamics(add_model_features(hourly))
    cfg = {"name": "strong_lstm", "features": "small", "lookback": [3, 5], "units": [[3]],
           "learning_rate": 0.003, "persistence_residual": True, "output_activation": "relu",
           "epochs": 2, "batch_size": 256, "patience": 1, "train_stride": 3, "n_members": 2,
           "refit_full_train": True}
    result = search_lstm(frame, chronological_split(len(frame), 0.3, 0.1), [1, 3],
                         {"small": ["pm2.5_filled", "DEWP", "pm_diff1"]}, cfg, seed=seed)
    return result.predictions, result.summary, result.chosen, sorted(result.models), cluster_workers()


def test_lstm_search_members_as_tasks_give_the_in_process_search() -> None:
    here = _lstm_search(2)
    there = _on_two_workers(_lstm_search, 2)
    assert here[4] == 0 and there[4] == 2   # there the members went to the cluster
    assert len(there[1]) == 2 * (2 + 1)   # per horizon: the grid's 2 first members, then 1 more
    pd.testing.assert_frame_equal(there[0], here[0], check_exact=True)
    pd.testing.assert_frame_equal(there[1], here[1], check_exact=True)
    assert there[2] == here[2] and there[3] == here[3]


def _nap_pid(seconds: float) -> int:
    import time

    time.sleep(seconds)
    return os.getpid()


def _three_maps(seconds: float) -> list[set[int]]:
    return [set(map_tasks(_nap_pid, [seconds] * 4, label=f"nap{k}")) for k in range(3)]


def test_every_map_of_splits_uses_both_workers() -> None:
    # the splits once all queued on whichever worker held the node's closure: when that was
    # not the node's own worker, the node's worker (waiting on them) never took one
    assert [len(pids) for pids in _on_two_workers(_three_maps, 1.0)] == [2, 2, 2]


def _protocol_pids(seconds: float) -> dict:
    from gtzan_kedro.evaluation.runner import fit_splits
    from gtzan_kedro.evaluation.splits import Split

    def split(name: str) -> Split:
        return Split(name, [0], [], [1])

    fits = fit_splits(lambda split: _nap_pid(seconds), {"holdout": [split("h0")], "fault_filtered": [split("f0")]},
                      label="protocols")
    return {protocol: [pid for pid, _ in fitted] for protocol, fitted in fits.items()}


def test_every_protocols_splits_run_side_by_side() -> None:
    # one split per protocol: a protocol at a time, each ran alone in the node's process
    pids = _on_two_workers(_protocol_pids, 1.0)
    assert list(pids) == ["holdout", "fault_filtered"]
    assert len(pids["holdout"]) == len(pids["fault_filtered"]) == 1
    assert pids["holdout"] != pids["fault_filtered"]


def _alembic_rows(db: Path) -> int:
    import sqlite3

    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT COUNT(*) FROM alembic_version").fetchone()[0]


def test_the_driver_makes_a_new_tracking_store_before_its_workers_open_it(tmp_path: Path) -> None:
    import mlflow

    db = tmp_path / "new" / "mlflow.db"
    db.parent.mkdir()
    before = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{db}")
    try:
        out = DaskRunner(n_workers=2, task_log_dir=None).run(_pipeline(), _catalog(tmp_path))
        assert out["summary"].load()["total"] == sum(n * n for n in range(10)) + 7
        assert _alembic_rows(db) == 1   # one schema version: made once, not raced
        other = tmp_path / "other.db"
        from gtzan_kedro.runners import _ready_store

        assert _ready_store(f"sqlite:///{other}") == f"sqlite:///{other}"
        assert _alembic_rows(other) == 1      # the tables exist before any worker starts
        assert _ready_store(None) is None
    finally:
        mlflow.set_tracking_uri(before)
