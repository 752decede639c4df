"""When each Dask worker held no node task in a run, from the runner's task log.

    python benchmarks/task_gaps.py data/09_logs/tasks/latest.csv [--min-gap 2]

Prints each gap of at least ``--min-gap`` seconds (and the node that ended it), each worker's
total node-idle time, and the nodes over 40 s with their start. A worker without a node may
still run another node's splits (those are not in the log)."""

from __future__ import annotations

import argparse

import pandas as pd
from task_stream import busy_spans  # benchmarks/ is on the path when this runs as a script


def worker_gaps(log: pd.DataFrame, min_gap: float = 2.0) -> tuple[list[dict], dict[str, float], float]:
    """(gaps, idle seconds per worker, the run's span), times in seconds from the first start."""
    log = log[log.get("status", "done") == "done"].copy()
    start = pd.to_datetime(log["started"])
    log["start_s"] = (start - start.min()).dt.total_seconds()
    log["end_s"] = log["start_s"] + log["wall_s"]
    span = float(log["end_s"].max())
    gaps, idle = [], {}
    for worker, tasks in log.groupby("worker"):
        spans = busy_spans(list(zip(tasks["start_s"], tasks["end_s"], strict=True)))
        # the stretches without a node: before the first, between spans, after the last
        free = [(0.0, spans[0][0])] + [(b0, a1) for (_, b0), (a1, _) in zip(spans, spans[1:])]
        for free_from, until in free:
            if until - free_from >= min_gap:
                before = tasks.loc[tasks["start_s"] == until, "node"].iloc[0]
                gaps.append({"worker": str(worker), "from_s": free_from, "to_s": until, "before": before})
        idle[str(worker)] = sum(b - a for a, b in free) + span - spans[-1][1]
    return gaps, idle, span


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task_log")
    parser.add_argument("--min-gap", type=float, default=2.0)
    args = parser.parse_args()
    log = pd.read_csv(args.task_log)
    gaps, idle, span = worker_gaps(log, args.min_gap)
    for gap in gaps:
        print(f"worker {gap['worker']}: no node {gap['from_s']:.0f}-{gap['to_s']:.0f} s "
              f"({gap['to_s'] - gap['from_s']:.0f} s), then {gap['before']}")
    for worker, seconds in idle.items():
        print(f"worker {worker}: {seconds:.0f} s without a node of {span:.0f} s")
    long = log[log["wall_s"] > 40].copy()
    start = pd.to_datetime(log["started"])
    long["start_s"] = (pd.to_datetime(long["started"]) - start.min()).dt.total_seconds()
    for task in long.sort_values("start_s").itertuples():
        print(f"{task.node}: starts {task.start_s:.0f} s, {task.wall_s:.0f} s on worker {task.worker}")


if __name__ == "__main__":
    main()
