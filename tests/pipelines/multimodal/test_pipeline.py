"""multimodal end to end on tiny inputs (segment tensors joined with 3-s feature rows)."""

from __future__ import annotations

import pandas as pd
import pytest

from image_models_tiny import write_tiny_inputs


@pytest.mark.e2e
def test_multimodal_pipeline_one_epoch(kedro_project):
    write_tiny_inputs(kedro_project.path)
    kedro_project.write_conf("local/parameters_multimodal.yml", """
multimodal:
  evaluation: {protocols: [holdout, fault_filtered], n_holdouts: 1}
  models:
    multimodal: {on_mismatch: error, evaluation: {n_holdouts: 2}, fit: {epochs: 1, log_model: false}}
""")
    kedro_project.run("--pipeline", "multimodal")
    reporting = kedro_project.path / "data" / "08_reporting"
    table = pd.read_csv(reporting / "model_comparison.csv")
    assert table.model.unique().tolist() == ["multimodal"]
    assert sorted(table.protocol) == ["fault_filtered", "holdout"]
    assert table.set_index("protocol").n_splits.to_dict() == {"holdout": 2, "fault_filtered": 1}
    assert table.accuracy_mean.between(0, 1).all()
    assert table.song_accuracy_mean_proba_mean.between(0, 1).all()
    assert (reporting / "confusion_matrices" / "multimodal_holdout.png").stat().st_size > 1000


@pytest.mark.e2e
def test_multimodal_stops_on_a_missing_feature_row_when_strict(kedro_project):
    write_tiny_inputs(kedro_project.path)
    features = kedro_project.path / "data" / "03_primary" / "features_3_sec.csv"
    table = pd.read_csv(features)
    table[table.filename != "blues.00002.1.wav"].to_csv(features, index=False)
    kedro_project.write_conf("local/parameters_multimodal.yml",
                             "multimodal:\n  models:\n    multimodal: {on_mismatch: error}\n")
    proc = kedro_project.run("--pipeline", "multimodal", check=False)
    assert proc.returncode != 0
    assert "blues.00002.1.wav" in proc.stdout + proc.stderr
