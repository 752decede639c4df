"""A real cluster on this machine: `dask scheduler` and two `dask worker` processes on
127.0.0.1 (separate processes, started from another folder, as on other machines) and an
`mlflow server` with its own backend store. The pm25 pipeline's first nodes run through them
with `kedro run --runner gtzan_kedro.runners.DaskRunner` and DASK_SCHEDULER_ADDRESS; the test
checks the outputs, the task log and the MLflow runs (the nested model run under its parent).
Everything started here is stopped at the end, each wait bounded."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NODES = ("pm25_forecast.clean_pm25,pm25_forecast.build_pm25_features,pm25_forecast.split_pm25,"
         "pm25_forecast.baselines.baseline_forecasts")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise TimeoutError(f"{what} not up after {timeout:.0f} s")


def _mlflow_up(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _project(root: Path, tracking_uri: str) -> Path:
    """A project root of its own: the repository's conf (copied, plus a conf/local naming the
    tracking server), pyproject.toml and package, and empty data folders."""
    root.mkdir()
    shutil.copytree(REPO / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    (root / "conf" / "local" / "mlflow.yml").write_text(
        f"server:\n  mlflow_tracking_uri: {tracking_uri}\n  mlflow_registry_uri: null\n"
        "  credentials: null\n  request_header_provider:\n    type: null\n"
        "    pass_context: False\n    init_kwargs: {}\n")
    (root / "pyproject.toml").symlink_to(REPO / "pyproject.toml")
    (root / "src").mkdir()
    (root / "src" / "gtzan_kedro").symlink_to(REPO / "src" / "gtzan_kedro")
    return root


@pytest.fixture
def processes():
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        process.terminate()
    for process in started:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_a_pipeline_runs_on_a_scheduler_two_workers_and_an_mlflow_server(tmp_path, processes):
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1",
           "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore"}
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    env.pop("MLFLOW_TRACKING_URI", None)
    logs = tmp_path / "logs"
    logs.mkdir()

    def start(name: str, args: list[str], cwd: Path) -> None:
        out = open(logs / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
        processes.append(subprocess.Popen(args, cwd=cwd, env=env, stdout=out,
                                          stderr=subprocess.STDOUT))

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    start("mlflow", [str(BIN / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
                     "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
                     "--default-artifact-root", str(tmp_path / "artifacts"), "--workers", "1"],
          tmp_path)
    scheduler_file = tmp_path / "scheduler.json"
    start("scheduler", [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                        "--no-dashboard", "--scheduler-file", str(scheduler_file)], tmp_path)
    _wait(scheduler_file.exists, "dask scheduler")
    elsewhere = tmp_path / "elsewhere"  # the workers start outside the project, as on other hosts
    elsewhere.mkdir()
    for name in ("w1", "w2"):
        start(name, [str(BIN / "dask"), "worker", "--scheduler-file", str(scheduler_file),
                     "--nthreads", "1", "--nworkers", "1", "--name", name, "--no-dashboard",
                     "--resources", "node=1"],
              elsewhere)
    address = json.loads(scheduler_file.read_text())["address"]

    from distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(2, timeout=90)
    _wait(lambda: _mlflow_up(url), "mlflow server")

    root = _project(tmp_path / "project", url)
    kedro = [str(BIN / "kedro"), "run"]
    subprocess.run([*kedro, "--pipeline", "sample_data", "--nodes", "write_sample_prsa"], cwd=root,
                   env=env, check=True, timeout=300, capture_output=True)
    run = subprocess.run([*kedro, "--pipeline", "pm25_forecast", "--nodes", NODES, "--runner",
                          "gtzan_kedro.runners.DaskRunner"], cwd=root, timeout=600,
                         env={**env, "DASK_SCHEDULER_ADDRESS": address}, capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    predictions = pd.read_parquet(root / "data" / "07_model_output" / "pm25_baseline_predictions.parquet")
    assert len(predictions) > 100
    tasks = pd.read_csv(root / "data" / "09_logs" / "tasks" / "latest.csv")
    assert sorted(tasks["node"]) == sorted(NODES.split(","))
    assert set(tasks["status"]) == {"done"} and set(tasks["worker"]) <= {"w1", "w2"}

    from mlflow.tracking import MlflowClient

    mlflow = MlflowClient(tracking_uri=url)
    experiment = mlflow.get_experiment_by_name("gtzan_kedro")
    assert experiment is not None
    runs = mlflow.search_runs([experiment.experiment_id])
    by_id = {r.info.run_id: r for r in runs}
    nested = [r for r in runs if r.info.run_name.startswith("pm25_forecast.baselines")]
    assert nested, ([r.info.run_name for r in runs], run.stdout[-6000:])
    parent = by_id[nested[0].data.tags["mlflow.parentRunId"]]  # the pm25 run's parent run
    assert "mlflow.parentRunId" not in parent.data.tags
    assert any(k.startswith("pm25_forecast.") for k in parent.data.params)
    assert all(r.info.status == "FINISHED" for r in runs)
    assert not (root / "mlflow.db").exists()  # nothing went to a local store
