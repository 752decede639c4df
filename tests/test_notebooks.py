"""Notebooks are committed without outputs and their code runs against the catalog."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gtzan_kedro.audio.features import KAGGLE_COLUMNS

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))

# What `kedro jupyter` gives a notebook: `catalog` from a session on the project. Run in a
# subprocess so the session's MLflow and Kedro set-up stays out of the test process.
RUNNER = """
import json, sys
import matplotlib
matplotlib.use("Agg")
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
bootstrap_project(".")
with KedroSession.create(project_path=".") as session:
    namespace = {"catalog": session.load_context().catalog}
    for cell in json.load(open(sys.argv[1]))["cells"]:
        if cell["cell_type"] == "code":
            exec("".join(cell["source"]), namespace)
print(json.dumps({"tracks": len(namespace["features"]), "table": str(type(namespace["display_table"]).__name__)}))
"""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_outputs(path):
    cells = json.loads(path.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert code, f"{path.name} has no code"
    assert all(not c["outputs"] and c["execution_count"] is None for c in code)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_on_the_catalog(path, kedro_project, kaggle_30s):
    table = kaggle_30s.groupby("label").head(3)[KAGGLE_COLUMNS]
    table.to_csv(kedro_project.path / "data" / "03_primary" / "features_30_sec.csv", index=False)
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(path)], cwd=kedro_project.path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    # 3 tracks of each of 10 genres; no comparison table yet in a fresh project
    assert result == {"tracks": 30, "table": "str"}
