"""`kedro run --only-missing-outputs` on the Dask runner: the resume fingerprints are written by
the workers (ResumeHook restored there from the driver's state), so a second run skips every
node that finished, a deleted output re-runs only its node, and a changed parameter re-runs the
nodes that read it, as with the sequential runner (tests/test_resume.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

NODES = ["pm25_forecast.clean_pm25", "pm25_forecast.build_pm25_features",
         "pm25_forecast.split_pm25", "pm25_forecast.baselines.baseline_forecasts"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_only_missing_outputs_skips_what_the_dask_workers_finished(kedro_project) -> None:
    root = kedro_project.path
    kedro_project.run("--pipeline", "sample_data", "--nodes", "write_sample_prsa", timeout=300)
    tasks = root / "data" / "09_logs" / "tasks"

    def task_logs() -> set[Path]:  # not the runs' task streams (<run id>.stream.csv)
        return {p for p in tasks.glob("*.csv") if not p.name.endswith(".stream.csv")}

    def run(*extra: str) -> set[str]:
        """One `kedro run` of NODES on 2 Dask workers; the nodes it ran (its task log)."""
        before = task_logs() if tasks.is_dir() else set()
        kedro_project.run("--pipeline", "pm25_forecast", "--nodes", ",".join(NODES),
                          "--runner", "gtzan_kedro.runners.DaskRunner",
                          "--runner-params", "n_workers=2", *extra, timeout=600)
        new = task_logs() - before - {tasks / "latest.csv"}
        assert len(new) <= 1
        return set(pd.read_csv(new.pop())["node"]) if new else set()

    assert run() == set(NODES)
    fingerprints = root / "data" / "02_intermediate" / "node_fingerprints"
    assert set(NODES) <= {p.stem for p in fingerprints.glob("*.json")}  # written by the workers

    # nothing changed: nothing runs (without the workers' fingerprints every node would)
    assert run("--only-missing-outputs") == set()

    predictions = root / "data" / "07_model_output" / "pm25_baseline_predictions.parquet"
    predictions.unlink()
    assert run("--only-missing-outputs") == {"pm25_forecast.baselines.baseline_forecasts"}
    assert predictions.exists()

    # every output there, a parameter changed: only the fingerprints see it (clean_pm25 reads
    # params:pm25_forecast, and every other node is downstream of it)
    assert run("--only-missing-outputs", "--params", "pm25_forecast.gbm.max_iter=7") == set(NODES)
    assert run("--only-missing-outputs", "--params", "pm25_forecast.gbm.max_iter=7") == set()
