"""Shared fixtures: the real data in ../shared/data and throwaway Kedro projects."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("GTZAN_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
DATA_LAYERS = (
    "01_raw",
    "02_intermediate",
    "03_primary",
    "04_feature",
    "05_model_input",
    "06_models",
    "07_model_output",
    "08_reporting",
)

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(autouse=True)
def _no_mlflow_run_leaks_into_the_next_test():
    """In-process Kedro runs and hook tests share one MLflow client per xdist worker: a run
    still active after a test (an in-process session that stopped early) would make the next
    test's ``mlflow.start_run()`` fail or nest under it, and an experiment set by
    ``mlflow.set_experiment`` stays the default for the next test's (other) tracking store."""
    experiment_before = os.environ.get("MLFLOW_EXPERIMENT_ID")
    yield
    mlflow = sys.modules.get("mlflow")
    if mlflow is not None:
        while mlflow.active_run() is not None:
            mlflow.end_run()
        # MLflow has no public reset of the fluent API's current experiment
        from mlflow.tracking import fluent

        fluent._active_experiment_id = None
        # set_experiment also exports its id through the environment
        if experiment_before is None:
            os.environ.pop("MLFLOW_EXPERIMENT_ID", None)
        else:
            os.environ["MLFLOW_EXPERIMENT_ID"] = experiment_before


def pytest_configure(config):
    """Compile numba's cached kernels once in the controller, before xdist workers start
    (workers filling an empty cache at the same time can segfault)."""
    if not hasattr(config, "workerinput"):
        from gtzan_kedro.audio.warmup import warm_numba_cache

        warm_numba_cache()


def _shared_file(relative: str) -> Path:
    path = SHARED_DATA / relative
    if not path.exists():
        if os.environ.get("REQUIRE_SHARED_DATA") == "1":
            pytest.fail(f"REQUIRE_SHARED_DATA=1 but {path} is missing")
        pytest.skip(f"real data not available: {path}")
    return path


@pytest.fixture(scope="session")
def shared_data():
    """Return a function mapping a path under ../shared/data to a Path.

    Skips the test when the file is absent, unless REQUIRE_SHARED_DATA=1 (CI), where it fails.
    """
    return _shared_file


@pytest.fixture(scope="session")
def kaggle_30s(shared_data):
    """Kaggle's real features_30_sec.csv as a DataFrame."""
    import pandas as pd

    return pd.read_csv(shared_data("gtzan/features_30_sec.csv"))


@dataclass
class KedroProject:
    """A throwaway copy of this project's conf in a temp dir, run with `kedro run`."""

    path: Path

    def write_conf(self, relative: str, text: str) -> Path:
        """Write a config file (e.g. ``local/parameters_x.yml``) under conf/."""
        target = self.path / "conf" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        return target

    def run(
        self, *args: str, env: str | None = None, check: bool = True, timeout: int = 900
    ) -> subprocess.CompletedProcess:
        """Run ``kedro run ARGS`` in the project; fail with its output when it fails."""
        cmd = [sys.executable, "-m", "kedro", "run", *args]
        if env:
            cmd += ["--env", env]
        return self.kedro(*cmd[3:], check=check, timeout=timeout)

    def kedro(self, *args: str, check: bool = True, timeout: int = 900):
        """Run any ``kedro`` command in the project."""
        cmd = [sys.executable, "-m", "kedro", *args]
        proc = subprocess.run(
            cmd,
            cwd=self.path,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "COLUMNS": "200"},
        )
        if check and proc.returncode != 0:
            pytest.fail(
                f"`kedro {' '.join(args)}` exited {proc.returncode}\n"
                f"--- stdout ---\n{proc.stdout[-6000:]}\n--- stderr ---\n{proc.stderr[-8000:]}"
            )
        return proc


def make_project(root: Path) -> KedroProject:
    """Copy conf/, pyproject.toml and .telemetry into ``root`` with empty data layers."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO_ROOT / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir(exist_ok=True)
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy(REPO_ROOT / name, root / name)
    (root / "src").mkdir(exist_ok=True)
    for layer in DATA_LAYERS:
        (root / "data" / layer).mkdir(parents=True, exist_ok=True)
    return KedroProject(root)


@pytest.fixture
def kedro_project(tmp_path) -> KedroProject:
    """A fresh project directory for end-to-end `kedro run`s."""
    return make_project(tmp_path / "project")
