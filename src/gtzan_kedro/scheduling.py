"""Task order and makespan over a pipeline's graph, from measured task times.

The Dask runner submits ready nodes longest remaining chain first (:func:`critical_path_priorities`,
from the last run's task log); :func:`simulate_makespan` replays the same list scheduling on
``k`` workers to say what more workers would buy (``benchmarks/simulate_makespan.py``).
No Kedro session or Dask here: a graph is a mapping ``node -> the nodes it waits for``.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

DEFAULT_SECONDS = 1.0   # a node never timed counts as short: it waits behind the measured ones


def graph_of(pipeline) -> dict[str, set[str]]:
    """``{node name: names of the nodes it waits for}`` of a Kedro pipeline."""
    return {node.name: {d.name for d in deps} for node, deps in pipeline.node_dependencies.items()}


def _children(graph: Mapping[str, set[str]]) -> dict[str, list[str]]:
    """``{node: the nodes that wait for it}``."""
    children: dict[str, list[str]] = {n: [] for n in graph}
    for n, deps in graph.items():
        for d in deps:
            children.setdefault(d, []).append(n)
    return children


def _order(graph: Mapping[str, set[str]]) -> list[str]:
    """Topological order (Kahn's), ties by name so the order is the same every time."""
    waiting = {n: set(d) for n, d in graph.items()}
    children = _children(graph)
    ready = sorted(n for n, d in waiting.items() if not d)
    order = []
    while ready:
        n = ready.pop(0)
        order.append(n)
        for c in children.get(n, []):
            waiting[c].discard(n)
            if not waiting[c]:
                ready.append(c)
        ready.sort()
    if len(order) != len(graph):
        raise ValueError("the graph has a cycle: " + ", ".join(sorted(set(graph) - set(order))))
    return order


def bottom_levels(graph: Mapping[str, set[str]], seconds: Mapping[str, float]) -> dict[str, float]:
    """Each node's own time plus the longest chain of nodes after it."""
    children = _children(graph)
    level: dict[str, float] = {}
    for n in reversed(_order(graph)):
        own = float(seconds.get(n, DEFAULT_SECONDS))
        level[n] = own + max((level[c] for c in children[n]), default=0.0)
    return level


def critical_path_priorities(pipeline, seconds: Mapping[str, float]) -> dict[str, float]:
    """Dask priorities (higher runs first) for a pipeline's nodes: their bottom levels."""
    return bottom_levels(graph_of(pipeline), seconds) if pipeline.nodes else {}


def read_task_log(path: str | Path) -> dict[str, float]:
    """Each node's wall seconds in a task log of the Dask runner (finished tasks only; a node
    that ran twice counts its longer run)."""
    frame = pd.read_csv(path)
    if "status" in frame:
        frame = frame[frame["status"] == "done"]
    return {str(k): float(v) for k, v in frame.groupby("node")["wall_s"].max().items()}


def read_task_durations(folder: str | Path | None) -> dict[str, float]:
    """Each node's wall seconds in the newest task log of ``folder`` (``latest.csv``); empty
    when there is none yet."""
    if folder is None:
        return {}
    try:
        return read_task_log(Path(folder) / "latest.csv")
    except (OSError, ValueError):
        return {}


def expand_splits(graph: Mapping[str, set[str]], seconds: Mapping[str, float],
                  stages: Mapping[str, Sequence[int]]) -> tuple[dict[str, set[str]], dict[str, float]]:
    """The graph with each node of ``stages`` replaced by its splits, as the runner submits
    them (gtzan_kedro.cluster.map_tasks): one stage per protocol, one after another, the splits
    of a stage side by side, each an equal share of the node's time. ``stages`` maps a node to
    its protocols' split counts (``[5, 1, 3]``: 5 holdouts, then the fault-filtered split, then
    3 leaky ones). The node itself waits for its splits without holding a worker, so it drops
    out; the nodes after it wait for its last stage."""
    expanded: dict[str, set[str]] = {}
    times: dict[str, float] = {}
    last: dict[str, set[str]] = {}
    for n in _order(graph):
        deps = set().union(*(last.get(d, {d}) for d in graph[n]))
        counts = [int(c) for c in stages.get(n, ()) if int(c) > 0]
        if not counts:
            expanded[n], last[n] = deps, {n}
            times[n] = float(seconds.get(n, DEFAULT_SECONDS))
            continue
        share = float(seconds.get(n, DEFAULT_SECONDS)) / sum(counts)
        for p, count in enumerate(counts):
            names = {f"{n}#{p}.{k}" for k in range(count)}
            for name in names:
                expanded[name], times[name] = set(deps), share
            deps = names
        last[n] = deps
    return expanded, times


@dataclass(frozen=True)
class Scheduled:
    """One node's place in a simulated run."""

    node: str
    worker: int
    start: float
    end: float


def simulate_makespan(graph: Mapping[str, set[str]], seconds: Mapping[str, float],
                      workers: int) -> tuple[float, list[Scheduled]]:
    """List scheduling as the runner does it: whenever a worker is free, the ready node with
    the longest remaining chain starts on it. Returns the makespan and each node's slot."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    level = bottom_levels(graph, seconds)
    waiting = {n: set(d) for n, d in graph.items()}
    children = _children(graph)
    ready = [(-level[n], n) for n, d in waiting.items() if not d]
    heapq.heapify(ready)
    free = list(range(workers))
    running: list[tuple[float, int, str]] = []
    clock, slots = 0.0, []
    while ready or running:
        while ready and free:
            _, n = heapq.heappop(ready)
            worker = free.pop(0)
            end = clock + float(seconds.get(n, DEFAULT_SECONDS))
            heapq.heappush(running, (end, worker, n))
            slots.append(Scheduled(n, worker, clock, end))
        clock, worker, n = heapq.heappop(running)
        free.append(worker)
        free.sort()
        for c in children[n]:
            waiting[c].discard(n)
            if not waiting[c]:
                heapq.heappush(ready, (-level[c], c))
    return clock, slots
