"""What the `audio_models` piece's one node, the best-model refit, costs on a feature table.

The refit (``select_best_model``) fits the scikit-learn model with the best mean holdout
accuracy on every row of the 3-s table, so its cost depends on which model wins, and it can run
only after every model of both tables was scored. This times the node's own function once per
model it could pick (each in a fresh process: wall time, CPU seconds and peak RSS from
``os.wait4``), with the per-split metrics replaced by one row naming that model best: the
selection is a groupby, the refit is the cost. The node costs one of these rows.

    .venv/bin/python benchmarks/refit_cost.py --table data/rehearsal/data/03_primary/features_3_sec.csv \
        --env gtzan [--models svm random_forest]

Prints a Markdown table (model, wall, CPU, peak RSS) to stdout.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _params(env: str) -> dict:
    from kedro.config import OmegaConfigLoader

    from gtzan_kedro.settings import CONFIG_LOADER_ARGS

    return OmegaConfigLoader(str(ROOT / "conf"), env=env, **CONFIG_LOADER_ARGS)["parameters"]


def candidates(params: dict) -> list[str]:
    """The models ``select_best_model`` may refit."""
    from gtzan_kedro.templates.feature_models_nodes import refittable

    return [name for name, spec in params["audio_models"]["models"].items() if refittable(spec)]


def refit_one(table_path: str, env: str, model: str, features: str) -> None:
    """The node's function with ``model`` named best on ``features`` (the child process)."""
    import pandas as pd

    from gtzan_kedro.templates.feature_models_nodes import select_best_model

    params = _params(env)["audio_models"]
    table = pd.read_csv(table_path)
    per_split = [pd.DataFrame({"model": [model], "features": [features], "protocol": ["holdout"],
                               "accuracy": [1.0]})]
    start = time.monotonic()
    saved = select_best_model(per_split, {features: table}, params["models"], params["evaluation"])
    print(f"refitted {saved['name']} on {len(table)} rows in {time.monotonic() - start:.1f} s",
          file=sys.stderr, flush=True)  # stdout: the parent's table only


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", required=True, help="the feature table the refit reads")
    parser.add_argument("--features", default="3s", help="its feature set's name")
    parser.add_argument("--env", default="gtzan", help="the conf environment (budgets, grids)")
    parser.add_argument("--models", nargs="*", help="default: every model the node may pick")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not Path(args.table).is_file():
        parser.error(f"{args.table}: no such file (run the ingest piece first)")
    if args.child:
        refit_one(args.table, args.env, args.child, args.features)
        return
    names = args.models or candidates(_params(args.env))
    rows = []
    for name in names:
        command = [sys.executable, __file__, "--table", args.table, "--features", args.features,
                   "--env", args.env, "--child", name]
        start = time.monotonic()
        proc = subprocess.Popen(command)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own CPU time and peak RSS
        wall = time.monotonic() - start
        rc = os.waitstatus_to_exitcode(status)
        rows.append(f"| {name} | {wall:.0f} s | {usage.ru_utime + usage.ru_stime:.0f} s | "
                    f"{usage.ru_maxrss / 1024:.0f} MB |" + ("" if rc == 0 else f" exit {rc}"))
        print(rows[-1], file=sys.stderr, flush=True)
    print("| model refitted | wall | user+sys CPU | peak RSS |\n| --- | --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
