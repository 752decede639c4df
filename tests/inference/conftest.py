"""Fixtures for the inference tests: small genre models fitted on Kaggle's real 30-s table."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from gtzan_kedro.audio.features import FEATURE_COLUMNS


@pytest.fixture(scope="session")
def kaggle_estimator(kaggle_30s):
    """A scaled logistic regression fitted on all 1000 real tracks (string classes)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    y = np.asarray(kaggle_30s["label"], dtype=object)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    return model.fit(kaggle_30s[FEATURE_COLUMNS].astype(float), y)


def bundle(estimator, features: str) -> dict:
    """What audio_models' select_best_model saves as best_audio_model."""
    return {"model": estimator, "classes": [str(c) for c in estimator.classes_],
            "feature_columns": list(FEATURE_COLUMNS), "features": features, "name": "logreg",
            "protocol_scores": {"holdout": 0.7}}


@pytest.fixture(scope="session")
def model_30s(kaggle_estimator, tmp_path_factory):
    """A best_audio_model-style bundle for 30-s segments, saved with joblib."""
    import joblib

    path = tmp_path_factory.mktemp("models") / "best_30s.pkl"
    joblib.dump(bundle(kaggle_estimator, "30s"), path)
    return path


@pytest.fixture(scope="session")
def model_3s(kaggle_estimator, tmp_path_factory):
    """The same classifier applied to 3-s segments (cheap to run on short synthetic clips)."""
    import joblib

    path = tmp_path_factory.mktemp("models") / "best_3s.pkl"
    joblib.dump(bundle(kaggle_estimator, "3s"), path)
    return path


def write_clip(path, seconds: float, sr: int = 22050, channels: int = 1, silent: bool = False):
    """A synthetic clip: a decaying plucked-tone melody over noise (or digital silence)."""
    n = int(seconds * sr)
    if silent:
        y = np.zeros(n)
    else:
        t = np.arange(n) / sr
        rng = np.random.default_rng(0)
        notes = 220.0 * 2 ** (rng.integers(0, 12, size=int(seconds * 4) + 1) / 12)
        freq = notes[(t * 4).astype(int)]
        envelope = np.exp(-6 * (t * 4 % 1))
        y = 0.3 * envelope * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(n)
    data = np.stack([y] * channels, axis=1) if channels > 1 else y
    sf.write(path, data, sr)
    return path


@pytest.fixture(scope="session")
def clip():
    """``clip(path, seconds, ...)`` writes a synthetic audio file (see write_clip)."""
    return write_clip
