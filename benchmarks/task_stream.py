"""Where a Dask run's workers stood idle: its task stream read back.

    python benchmarks/task_stream.py data/09_logs/tasks/<run id>.stream.csv [--png timeline.png]

The Dask runner writes ``<run id>.stream.csv`` beside its task log: every task the cluster ran
(each node, the splits and tracks it handed over, the shared closures), its worker and its
compute span. This prints, per worker, the share of the run it had a task computing (a node
waiting for its splits counts while it waits), the gaps longer than ``--gap`` seconds, and for
each node that handed over splits, how many ran where and their summed time. ``--png`` draws
the timeline: a row per worker, nodes as wide bars, splits as thin bars on top.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd


def busy_spans(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The union of ``(start, stop)`` spans, as disjoint spans in order."""
    merged: list[list[float]] = []
    for start, stop in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], stop)
        else:
            merged.append([start, stop])
    return [(a, b) for a, b in merged]


def summarise(stream: pd.DataFrame, nodes: set[str], gap: float = 2.0) -> str:
    """The per-worker busy share and gaps, and each node's splits, as text."""
    compute = stream[stream["action"] == "compute"]
    end = compute["stop_s"].max()
    lines = [f"{len(compute)} tasks over {end:.0f} s"]
    for worker, rows in compute.groupby("worker"):
        spans = busy_spans(list(zip(rows["start_s"], rows["stop_s"], strict=True)))
        busy = sum(b - a for a, b in spans)
        gaps = [(b0, a1) for (_, b0), (a1, _) in zip(spans, spans[1:]) if a1 - b0 > gap]
        lines.append(f"worker {worker}: a task computing {busy:.0f} s of {end:.0f} s "
                     f"({busy / end:.0%}); {len(gaps)} gap(s) over {gap:g} s, "
                     f"{sum(b - a for a, b in gaps):.0f} s in all"
                     + "".join(f"\n  idle {a:.0f}-{b:.0f} s" for a, b in gaps))
    split_rows = compute[~compute["group"].isin(nodes)]
    by_group = split_rows.assign(seconds=split_rows["stop_s"] - split_rows["start_s"]).groupby(
        ["group", "worker"])["seconds"].agg(["count", "sum"])
    if len(by_group):
        lines.append("tasks handed over (group, worker: count, summed seconds)")
        lines += [f"  {group} on {worker}: {int(row['count'])}, {row['sum']:.1f} s"
                  for (group, worker), row in by_group.iterrows()]
    return "\n".join(lines)


def draw(stream: pd.DataFrame, nodes: set[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    compute = stream[stream["action"] == "compute"]
    workers = sorted(compute["worker"].astype(str).unique())
    fig, ax = plt.subplots(figsize=(12, 1.2 + 0.9 * len(workers)))
    for i, worker in enumerate(workers):
        rows = compute[compute["worker"].astype(str) == worker]
        is_node = rows["group"].isin(nodes)
        for kind, height, offset, colour in ((is_node, 0.6, -0.3, "#4c72b0"),
                                              (~is_node, 0.25, 0.05, "#dd8452")):
            part = rows[kind]
            ax.broken_barh(list(zip(part["start_s"], part["stop_s"] - part["start_s"], strict=True)),
                           (i + offset, height), facecolors=colour, edgecolor="white", linewidth=0.3)
    ax.set_yticks(range(len(workers)), [f"worker {w}" for w in workers])
    ax.set_xlabel("seconds from the first task")
    ax.set_title("Dask run: nodes (blue) and the splits and tracks they handed over (orange)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stream", type=Path)
    parser.add_argument("--tasks", type=Path, help="the run's task log (default: beside the stream)")
    parser.add_argument("--gap", type=float, default=2.0)
    parser.add_argument("--png", type=Path)
    args = parser.parse_args()
    stream = pd.read_csv(args.stream, dtype={"worker": str})
    # <run id>.stream.csv lies beside <run id>.csv; a copy under another name (make_run_timing's
    # dask_stream.csv) needs --tasks
    tasks_path = args.tasks
    if tasks_path is None and args.stream.name.endswith(".stream.csv"):
        tasks_path = args.stream.with_name(args.stream.name.removesuffix(".stream.csv") + ".csv")
    nodes = set(pd.read_csv(tasks_path)["node"]) if tasks_path and tasks_path.exists() else set()
    print(summarise(stream, nodes, args.gap))
    if args.png:
        draw(stream, nodes, args.png)
        print(f"timeline: {args.png}")


if __name__ == "__main__":
    main()
