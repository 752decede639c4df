"""conf/base runs the feature-table models with `audio_models.evaluation.n_jobs: 2` (both cores
of a laptop for grid searches and forests): the comparison rows must be those of one core."""

from pathlib import Path

import pandas as pd
import pytest
import yaml

from gtzan_kedro.templates.feature_models_nodes import evaluate_model

CONF = Path(__file__).resolve().parents[3] / "conf" / "base"
SET_30S = {"table": "features_30_sec", "columns": "kaggle", "protocols": ["holdout"]}
MODELS = {
    "svm": {"kind": "svm", "grid": {"model__C": [1, 10]}, "cv": 3, "grouped": True},
    "random_forest": {"kind": "random_forest", "params": {"model__n_estimators": 30},
                      "grid": {"model__max_features": ["sqrt", 0.3]}, "cv": 3, "grouped": True},
}


def test_sample_scale_uses_both_cores():
    with open(CONF / "parameters_audio_models.yml") as handle:
        params = yaml.safe_load(handle)
    assert params["audio_models"]["evaluation"]["n_jobs"] == 2


@pytest.mark.parametrize("name", sorted(MODELS))
def test_two_jobs_give_the_rows_of_one(kaggle_30s, name):
    table = kaggle_30s.groupby("label").head(12).reset_index(drop=True)
    rows = {}
    for jobs in (1, 2):
        evaluation = {"n_splits": 2, "permutation_repeats": 0, "log_models": False, "n_jobs": jobs}
        rows[jobs] = evaluate_model(table, None, None, False, evaluation, SET_30S, MODELS[name],
                                    "30s", name)[0]
    scores = {jobs: frame.drop(columns=[c for c in frame if "seconds" in c]) for jobs, frame in rows.items()}
    pd.testing.assert_frame_equal(scores[1], scores[2])   # fit times differ, scores must not
