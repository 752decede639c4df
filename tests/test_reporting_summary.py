"""`python -m gtzan_kedro.reporting_summary` / `gtzan report`: the top rows of the comparison
table by accuracy and where report.html is, or what to run when they are not there yet."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from gtzan_kedro import reporting_summary

SRC = Path(__file__).resolve().parents[1] / "src"


def write_table(root: Path, n: int = 14) -> pd.DataFrame:
    rows = pd.DataFrame({"model": [f"model_{i:02d}" for i in range(n)], "features": "30s",
                         "protocol": ["holdout"] * (n - 1) + ["leaky_segments"], "n_splits": 5,
                         "accuracy_mean": [0.30 + 0.04 * ((i * 5) % n) for i in range(n)],
                         "accuracy_std": 0.01, "auroc_mean": 0.9, "auprc_mean": 0.7})
    path = root / "data/08_reporting/model_comparison.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows.sample(frac=1, random_state=0).to_csv(path, index=False)
    return rows


def printed_models(text: str) -> list[str]:
    return [line.split()[1] for line in text.splitlines() if line.strip()[:1].isdigit()]


def test_module_prints_the_ten_most_accurate_rows_and_the_report_path(tmp_path):
    rows = write_table(tmp_path)
    (tmp_path / "data/08_reporting/report.html").write_text("<html></html>")
    done = subprocess.run([sys.executable, "-m", "gtzan_kedro.reporting_summary"], cwd=tmp_path,
                          capture_output=True, text=True, env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    expected = rows.sort_values("accuracy_mean", ascending=False)["model"].head(10).tolist()
    assert printed_models(done.stdout) == expected
    assert "Top 10 of 14 rows" in done.stdout
    assert (tmp_path / "data/08_reporting/report.html").resolve().as_uri() in done.stdout
    best = rows.loc[rows["accuracy_mean"].idxmax()]
    assert f"{best.accuracy_mean:.3f} ± 0.010" in done.stdout


def test_protocol_filter_and_inflated_rows_are_marked(tmp_path, capsys):
    rows = write_table(tmp_path)
    table = tmp_path / "data/08_reporting/model_comparison.csv"
    assert reporting_summary.main(["--table", str(table), "--top", "3", "--protocol", "holdout"]) == 0
    out = capsys.readouterr().out
    holdout = rows[rows["protocol"] == "holdout"].sort_values("accuracy_mean", ascending=False)
    assert printed_models(out) == holdout["model"].head(3).tolist()
    assert "leaky_segments" not in out and "not written yet" in out
    reporting_summary.main(["--table", str(table), "--top", "14"])
    assert "leaky_segments*" in capsys.readouterr().out


def test_a_missing_table_says_what_to_run(tmp_path, monkeypatch):
    from gtzan_kedro.cli import main

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["report"])
    assert result.exit_code == 0, result.output
    assert "model_comparison.csv does not exist yet" in result.output
    assert "kedro run --pipeline audio_models_30s" in result.output
    assert "report.html not written yet" in result.output
    write_table(tmp_path)
    result = CliRunner().invoke(main, ["report", "--top", "2"])
    assert len(printed_models(result.output)) == 2


def test_one_protocol_counts_and_shows_only_its_rows(tmp_path):
    """What `make run` prints (--protocol holdout): the inflated leaky_segments row is neither
    shown nor counted."""
    rows = write_table(tmp_path)
    done = subprocess.run([sys.executable, "-m", "gtzan_kedro.reporting_summary", "--protocol", "holdout"],
                          cwd=tmp_path, capture_output=True, text=True,
                          env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    holdout = rows[rows["protocol"] == "holdout"]
    assert "Top 10 of 13 holdout rows" in done.stdout
    assert printed_models(done.stdout) == holdout.sort_values(
        "accuracy_mean", ascending=False)["model"].head(10).tolist()
