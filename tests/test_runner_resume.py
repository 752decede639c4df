"""`kedro run --only-missing-outputs` on the Dask runner: the resume fingerprints are written by
the workers (ResumeHook restored there from the driver's state), so a second run skips every
node that finished, a deleted output re-runs only its node, and a changed parameter re-runs the
nodes that read it, as with the sequential runner (tests/test_resume.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NODES = ["pm25_forecast.clean_pm25", "pm25_forecast.build_pm25_features",
         "pm25_forecast.split_pm25", "pm25_forecast.baselines.baseline_forecasts"]


def _project(root: Path) -> Path:
    """A project root of its own: conf (without conf/local), pyproject.toml, the package."""
    root.mkdir()
    shutil.copytree(REPO / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    (root / "pyproject.toml").symlink_to(REPO / "pyproject.toml")
    (root / "src").mkdir()
    (root / "src" / "gtzan_kedro").symlink_to(REPO / "src" / "gtzan_kedro")
    return root


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_only_missing_outputs_skips_what_the_dask_workers_finished(tmp_path: Path) -> None:
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1",
           "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore"}
    for name in ("DASK_SCHEDULER_ADDRESS", "MLFLOW_TRACKING_URI", "KEDRO_ENV"):
        env.pop(name, None)
    root = _project(tmp_path / "project")
    kedro = [str(BIN / "kedro"), "run"]
    subprocess.run([*kedro, "--pipeline", "sample_data", "--nodes", "write_sample_prsa"], cwd=root,
                   env=env, check=True, timeout=300, capture_output=True)
    tasks = root / "data" / "09_logs" / "tasks"

    def run(*extra: str) -> set[str]:
        """One `kedro run` of NODES on 2 Dask workers; the nodes it ran (its task log)."""
        before = set(tasks.glob("*.csv")) if tasks.is_dir() else set()
        done = subprocess.run([*kedro, "--pipeline", "pm25_forecast", "--nodes", ",".join(NODES),
                               "--runner", "gtzan_kedro.runners.DaskRunner",
                               "--runner-params", "n_workers=2", *extra],
                              cwd=root, env=env, timeout=600, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        new = set(tasks.glob("*.csv")) - before - {tasks / "latest.csv"}
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
