"""What more Dask workers buy: the full run's makespan simulated from measured node times.

    python benchmarks/simulate_makespan.py                                  # the rehearsal record
    python benchmarks/simulate_makespan.py --tasks data/09_logs/tasks/latest.csv --env ""

Node times come from either the Dask runner's task log (``--tasks``: a CSV with ``node`` and
``wall_s``) or a rehearsal record's per-node tables (``--record``, the markdown that
``benchmarks/rehearsal_table.py`` writes: ``| piece | node | wall |`` rows; the first row of a
node wins, so list the newest data root first). Nodes the record leaves out ran under its
``--min-seconds`` (5 s) and count as ``--unlisted-seconds``. The graph is the registered
pipeline's (``--pipeline``, ``--env``), so the simulation schedules the real dependencies, with
the runner's own rule (the longest remaining chain first; gtzan_kedro.scheduling).

By default it schedules whole nodes. The runner spreads the splits of the feature-table models
(scikit-learn, MLPs, the tuned MLP, the embeddings probes) over the workers too
(gtzan_kedro.cluster), so whole nodes are an upper bound for those; ``--split-tasks`` schedules
their splits instead, as the runner submits them (all of a node's splits side by side), each an
equal share of the node's time; the split counts come from the env's parameters. A Keras
network's splits (the CNNs, the multimodal network) run in their node's process unless its
evaluation says ``splits_as_tasks: true``; ``--keras-splits`` schedules them as that would
(protocol after protocol).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RECORD = REPO / "benchmarks" / "results" / "2026-12-02-rehearsal-gtzan-full-size.md"
_UNITS = {"h": 3600.0, "min": 60.0, "s": 1.0}


def parse_duration(text: str) -> float | None:
    """``1 h 40 min``, ``4 min 20 s``, ``9.8 s`` (bold or not) in seconds; None otherwise."""
    parts = re.findall(r"([\d.]+)\s*(h|min|s)\b", text.replace("*", ""))
    return sum(float(v) * _UNITS[u] for v, u in parts) if parts else None


def record_seconds(path: Path) -> dict[str, float]:
    """``{node: wall seconds}`` from a rehearsal record's ``| piece | node | wall |`` rows."""
    seconds: dict[str, float] = {}
    for line in path.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or cells[1].startswith("(") or "." not in cells[1]:
            continue
        value = parse_duration(cells[2])
        if value is not None and " " not in cells[1]:
            seconds.setdefault(cells[1], value)
    return seconds


def pipeline_graph(name: str, env: str | None) -> dict[str, set[str]]:
    if env:
        os.environ["KEDRO_ENV"] = env
    from kedro.framework.project import pipelines
    from kedro.framework.startup import bootstrap_project

    from gtzan_kedro.scheduling import graph_of

    bootstrap_project(REPO)
    return graph_of(pipelines[name])


def _keras_counts(evaluation: dict, protocols: list[str]) -> list[int]:
    """Split counts per protocol of a Keras model (fault_filtered: its one fixed split)."""
    from gtzan_kedro.evaluation.keras import protocol_n_splits

    return [1 if p == "fault_filtered" else protocol_n_splits(evaluation, p) for p in protocols]


def split_stages(env: str | None, keras_splits: bool = False) -> dict[str, list[int]]:
    """``{node: split count per stage}`` of the model nodes whose splits the runner spreads over
    the workers: every model of the audio feature tables (MLPs and the tuned MLP too) and the
    embeddings probes, all protocols in one stage; with ``keras_splits`` (or where the model's
    evaluation says ``splits_as_tasks: true``) also the segment and image CNNs and the
    multimodal network, a stage per protocol (not the transfer models, whose frozen base's
    feature cache keeps their splits in the node's process)."""
    from kedro.framework.session import KedroSession

    from gtzan_kedro.evaluation.tabular import protocol_n_splits

    with KedroSession.create(project_path=REPO, env=env) as session:
        params = session.load_context().params
    stages: dict[str, list[int]] = {}
    for block, prefix in (("audio_models", "audio_models_{}"), ("embedding_probes", "embeddings.{}")):
        conf = params.get(block) or {}
        evaluation = conf.get("evaluation") or {}
        for feature_set, spec in (conf.get("feature_sets") or {}).items():
            counts = [1 if p == "fault_filtered" else protocol_n_splits(evaluation, p)
                      for p in spec.get("protocols", [])]
            for model in conf.get("models") or {}:
                # every protocol's splits at once (evaluation.runner.fit_splits)
                stages[f"{prefix.format(feature_set)}.{model}.evaluate"] = [sum(counts)]
    for block, default in (("image_models", ["holdout", "fault_filtered"]), ("multimodal", None)):
        conf = params.get(block) or {}
        for model, spec in (conf.get("models") or {}).items():
            evaluation = {**(conf.get("evaluation") or {}), **(spec.get("evaluation") or {})}
            if spec.get("kind") == "transfer" or not (keras_splits or evaluation.get("splits_as_tasks")):
                continue
            if spec.get("kind") == "image_cnn":
                protocols = spec.get("protocols", default)
            else:
                protocols = spec.get("protocols", evaluation.get("protocols", []))
            # protocol by protocol (evaluation.keras.evaluate_keras)
            stages[f"{block}.{model}.train_and_score"] = _keras_counts(evaluation, protocols)
    return stages


def hms(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", type=Path, default=RECORD)
    parser.add_argument("--tasks", type=Path, help="a task log of the Dask runner instead")
    parser.add_argument("--pipeline", default="__default__")
    parser.add_argument("--env", default="gtzan", help='the Kedro env of the graph ("" for base)')
    parser.add_argument("--without", nargs="*", default=[],
                        help="leave out nodes whose name starts with these (e.g. embeddings)")
    parser.add_argument("--unlisted-seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2, 4, 8, 16])
    parser.add_argument("--split-tasks", action="store_true",
                        help="schedule the models' splits as tasks, as the runner does")
    parser.add_argument("--keras-splits", action="store_true",
                        help="with --split-tasks: the CNNs' and the multimodal network's too, as "
                             "with splits_as_tasks: true in their evaluation block")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # Kedro's start-up lines and deprecation warnings: not figures

    from gtzan_kedro.scheduling import bottom_levels, expand_splits, read_task_log, simulate_makespan

    measured = read_task_log(args.tasks) if args.tasks else record_seconds(args.record)
    graph = pipeline_graph(args.pipeline, args.env or None)
    graph = {n: {d for d in deps if not d.startswith(tuple(args.without))}
             for n, deps in graph.items() if not n.startswith(tuple(args.without))} \
        if args.without else graph
    seconds = {n: measured.get(n, args.unlisted_seconds) for n in graph}
    unknown = sorted(set(measured) - set(graph))
    listed = sum(1 for n in graph if n in measured)
    total = sum(seconds.values())
    critical = max(bottom_levels(graph, seconds).values())
    print(f"{len(graph)} nodes, {listed} measured (the rest {args.unlisted_seconds:g} s each); "
          f"their sum {hms(total)}, the longest chain {hms(critical)}")
    if args.split_tasks:
        stages = {n: c for n, c in split_stages(args.env or None, args.keras_splits).items() if n in graph}
        graph, seconds = expand_splits(graph, seconds, stages)
        critical = max(bottom_levels(graph, seconds).values())
        print(f"{len(stages)} nodes' splits as tasks ({sum(map(sum, stages.values()))} splits): "
              f"{len(graph)} tasks, the longest chain {hms(critical)}")
    if unknown and args.pipeline == "__default__":  # a sub-pipeline leaves out the rest
        print(f"measured but not in the graph (renamed or another env?): {', '.join(unknown)}",
              file=sys.stderr)
    print("\n| workers | makespan | speed-up | busy |\n| --- | --- | --- | --- |")
    for k in args.workers:
        makespan, _ = simulate_makespan(graph, seconds, k)
        print(f"| {k} | {hms(makespan)} | {total / makespan:.2f}x | {total / makespan / k:.0%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
