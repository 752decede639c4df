"""What Dask's periodic monitors cost: a 2-worker LocalCluster doing nothing for 30 s, then the
same fixed work (benchmarks/core_contention.py's workloads) in a process of its own and as a
task on a one-worker LocalCluster, at Dask's defaults and with the runner's quieter monitors
(gtzan_kedro.runners.QUIET_MONITORS).

    python benchmarks/dask_monitors.py                 # the pure Python loop, 3 rounds
    python benchmarks/dask_monitors.py --work cnn --rounds 3

CPU-s are the whole process tree's (driver with scheduler and nannies, and the workers), read
with psutil.
"""

import argparse
import multiprocessing as mp
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import core_contention  # noqa: E402  (sets one BLAS/OpenMP thread before numpy loads)
import psutil  # noqa: E402


def _timed(name: str) -> tuple[float, float]:
    work = core_contention.WORK[name]()   # set-up untimed, as in core_contention
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def _tree_cpu() -> float:
    me = psutil.Process()
    total = 0.0
    for proc in [me, *me.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.Error:   # ended meanwhile
            continue
        total += times.user + times.system
    return total


def _cluster(config: dict, n_workers: int):
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set(config):
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    return Client(cluster), cluster


def idle_cpu(config: dict, seconds: float = 30.0) -> float:
    client, cluster = _cluster(config, 2)
    try:
        client.submit(time.sleep, 0.1, pure=False).result()
        time.sleep(5)   # past the workers' start
        before = _tree_cpu()
        time.sleep(seconds)
        return _tree_cpu() - before
    finally:
        client.close()
        cluster.close()


def on_worker(name: str, config: dict) -> tuple[float, float]:
    client, cluster = _cluster(config, 1)
    try:
        return client.submit(_timed, name, pure=False).result()
    finally:
        client.close()
        cluster.close()


def main() -> None:
    from gtzan_kedro.runners import QUIET_MONITORS

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", choices=sorted(core_contention.WORK), default="python")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    print(f"idle 2-worker LocalCluster, CPU-s in 30 s: Dask's defaults {idle_cpu({}):.2f}, "
          f"quiet monitors {idle_cpu(QUIET_MONITORS):.2f}", flush=True)
    runs: dict[str, list[tuple[float, float]]] = {"own process": [], "worker, Dask's defaults": [],
                                                  "worker, quiet monitors": []}
    for _ in range(args.rounds):   # alternated, so a drift of the machine falls on each
        with mp.get_context("spawn").Pool(1) as pool:
            runs["own process"].append(pool.apply(_timed, (args.work,)))
        runs["worker, Dask's defaults"].append(on_worker(args.work, {}))
        runs["worker, quiet monitors"].append(on_worker(args.work, QUIET_MONITORS))
    print(f"\n| {args.work}, medians of {args.rounds} | wall | CPU-s of the process that ran it |")
    print("| --- | --- | --- |")
    for label, values in runs.items():
        print(f"| {label} | {statistics.median(w for w, _ in values):.2f} | "
              f"{statistics.median(c for _, c in values):.2f} |")


if __name__ == "__main__":
    main()
