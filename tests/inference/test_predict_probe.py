"""`gtzan predict` with a probe on musicnn embeddings (the embeddings pipeline's
best_embedding_probe): it embeds the input audio with musicnn, never with Kaggle features."""

from __future__ import annotations

import json
import os

import joblib
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from musicnn_weights import musicnn_dir  # noqa: F401  (fixture)

from gtzan_kedro.cli import main
from gtzan_kedro.cli_resolve import BEST_PROBE_ENTRY, resolve_predictor
from gtzan_kedro.inference.predictor import EmbeddingGenrePredictor, as_predictor
from gtzan_kedro.inference.resolve import ModelNotFound
from gtzan_kedro.pipelines.embeddings import nodes

GENRES = ("blues", "classical", "metal")
TRAIN_PATCHES = 6  # of each real track's ten: the other four are never seen in training


def _invoke(*args, env=None):
    result = CliRunner(env=env).invoke(main, ["predict", *map(str, args)])
    assert "Traceback" not in result.output + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.fixture(scope="module")
def real_tables(shared_data, musicnn_dir):
    """The embeddings node's tables for three real GTZAN tracks (one per genre)."""
    tracks = pd.DataFrame([{"track_id": f"{g}.00000.wav", "genre": g, "status": "ok",
                            "path": str(shared_data(f"gtzan/audio_real/{g}.00000.wav"))} for g in GENRES])
    params = {"n_jobs": 1, "batch_size": 16, "weights_dir": str(musicnn_dir), "auto_fetch": False}
    return tracks, nodes.embed_tracks(tracks, {}, params)


def _probe(tables: dict, features: str, tmp_path, rows=None):
    """best_embedding_probe as the pipeline saves it: a logistic regression refitted on ``rows``."""
    models = {"logistic_regression": {"kind": "logistic_regression", "params": {"model__C": 1.0}}}
    per_split = pd.DataFrame({"split": [0], "accuracy": [1.0], "model": ["logistic_regression"],
                              "features": [features], "protocol": ["holdout"]})
    table = tables[features] if rows is None else rows
    bundle = nodes.select_best_probe(models, {}, {features: table}, [per_split])
    path = tmp_path / f"{features}.pkl"
    joblib.dump(bundle, path)
    return path


@pytest.mark.shared_data
def test_patch_probe_classifies_real_tracks_from_their_embeddings(real_tables, musicnn_dir, shared_data, tmp_path):
    tracks, tables = real_tables
    patches = tables["musicnn_msd_maxpool_3s"]
    index = patches.filename.str.extract(r"\.(\d+)\.wav$")[0].astype(int)
    model = _probe(tables, "musicnn_msd_maxpool_3s", tmp_path, patches[index < TRAIN_PATCHES])
    env = {"GTZAN_MUSICNN_DIR": str(musicnn_dir)}
    result = _invoke(*tracks.path, "--model", model, "--format", "json", env=env)
    assert result.exit_code == 0, result.stderr
    assert "musicnn MSD_musicnn max_pool embeddings per 3-s patch" in result.stderr
    out = json.loads(result.stdout)
    assert [r["genre"] for r in out] == list(GENRES)
    assert all(r["n_segments"] == 10 for r in out)
    # the held-out patches too: the predictor computes the embedding the probe was fitted on
    for r, genre in zip(out, GENRES):
        assert sum(s["genre"] == genre for s in r["segments"][TRAIN_PATCHES:]) >= 3, r["segments"]


@pytest.mark.shared_data
def test_track_probe_averages_the_patches(real_tables, musicnn_dir, tmp_path, monkeypatch):
    tracks, tables = real_tables
    monkeypatch.setenv("GTZAN_MUSICNN_DIR", str(musicnn_dir))
    predictor = resolve_predictor(str(_probe(tables, "musicnn_mtt_penultimate", tmp_path)))
    assert isinstance(predictor, EmbeddingGenrePredictor) and predictor.level == "track"
    result = predictor.predict_file(tracks.path[2])
    assert result["genre"] == "metal" and result["n_segments"] == 1
    # the same probe on Kaggle features would be meaningless: it reads emb_0 .. emb_199
    assert predictor.feature_columns == [f"emb_{i}" for i in range(200)]


def test_a_probe_without_weights_names_the_fetch_command(tmp_path, monkeypatch):
    from sklearn.linear_model import LogisticRegression

    columns = [f"emb_{i}" for i in range(4)]
    X = pd.DataFrame(np.random.default_rng(0).normal(size=(6, 4)), columns=columns)
    fitted = LogisticRegression().fit(X, ["a", "b"] * 3)
    path = tmp_path / "probe.pkl"
    joblib.dump({"model": fitted, "classes": ["a", "b"], "feature_columns": columns, "name": "svm",
                 "features": "musicnn_msd_maxpool",
                 "embedding": {"model": "MSD_musicnn", "output": "max_pool", "level": "track"}}, path)
    assert isinstance(as_predictor(joblib.load(path)), EmbeddingGenrePredictor)
    monkeypatch.setenv("GTZAN_MUSICNN_DIR", str(tmp_path / "no-weights"))
    with pytest.raises(ModelNotFound, match="gtzan fetch musicnn"):
        resolve_predictor(str(path))
    clip = tmp_path / "tune.wav"
    import soundfile as sf

    sf.write(clip, np.zeros(16000 * 4, dtype=np.float32) + 0.01, 16000)
    result = _invoke(clip, "--model", path, env={"GTZAN_MUSICNN_DIR": str(tmp_path / "no-weights")})
    assert result.exit_code == 2 and "gtzan fetch musicnn" in result.stderr


def test_best_embedding_probe_by_name_needs_a_trained_one(kedro_project, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(ModelNotFound, match="kedro run --pipeline embeddings"):
        resolve_predictor(BEST_PROBE_ENTRY, project_root=kedro_project.path)
    assert not os.path.exists(kedro_project.path / "data/06_models/best_embedding_probe.pkl")


def _fake_probe(path):
    from sklearn.linear_model import LogisticRegression

    columns = [f"emb_{i}" for i in range(4)]
    X = pd.DataFrame(np.random.default_rng(0).normal(size=(6, 4)), columns=columns)
    joblib.dump({"model": LogisticRegression().fit(X, ["blues", "rock"] * 3), "features": "musicnn_msd_maxpool",
                 "feature_columns": columns, "name": "pca_svm", "protocol_scores": {"holdout": 0.8},
                 "embedding": {"model": "MSD_musicnn", "output": "max_pool", "level": "track"}}, path)


def test_default_is_the_newest_of_best_audio_model_and_best_embedding_probe(kedro_project, model_3s,
                                                                            musicnn_dir, monkeypatch):
    """The same rule as before (newest wins), with the probe as one more candidate; a probe
    whose weights are absent is passed over for the next one."""
    import time

    from gtzan_kedro.cli_resolve import default_predictor

    root = kedro_project.path
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    models = root / "data" / "06_models"
    models.mkdir(parents=True, exist_ok=True)
    (models / "best_audio_model.pkl").write_bytes(model_3s.read_bytes())
    os.utime(models / "best_audio_model.pkl", (time.time() - 3600, time.time() - 3600))
    _fake_probe(models / "best_embedding_probe.pkl")  # newer
    monkeypatch.setenv("GTZAN_MUSICNN_DIR", str(musicnn_dir))
    newest = default_predictor(root)
    assert isinstance(newest, EmbeddingGenrePredictor) and "pca_svm" in newest.description
    monkeypatch.setenv("GTZAN_MUSICNN_DIR", str(root / "no-weights"))
    fallback = default_predictor(root)
    assert not isinstance(fallback, EmbeddingGenrePredictor) and fallback.segment_seconds == 3.0
    # by name, the probe is what was asked for: its missing weights are the error
    with pytest.raises(ModelNotFound, match="gtzan fetch musicnn"):
        resolve_predictor(BEST_PROBE_ENTRY, project_root=root)
    os.utime(models / "best_embedding_probe.pkl", (time.time() - 7200, time.time() - 7200))
    monkeypatch.setenv("GTZAN_MUSICNN_DIR", str(musicnn_dir))
    assert not isinstance(default_predictor(root), EmbeddingGenrePredictor)  # older: audio model wins
    assert isinstance(resolve_predictor(BEST_PROBE_ENTRY, project_root=root), EmbeddingGenrePredictor)


class _ConstantEmbedder:
    """Stands in for musicnn (no weights needed): the same 4-value embedding for every patch."""

    def patch_outputs(self, patches):
        return {"max_pool": np.tile([0.1, 0.2, 0.3, 0.4], (len(patches), 1))}


def test_track_probe_output_says_whole_track_and_its_real_length(clip, tmp_path, monkeypatch):
    """A track-level probe makes one prediction on the whole file: the table says so with
    the file's length, not "1 segment(s) of 30 s"."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 4)), np.repeat(list(GENRES), 10)
    bundle = {"model": LogisticRegression().fit(X, y), "classes": list(GENRES),
              "feature_columns": [f"emb_{i}" for i in range(4)], "name": "logistic_regression",
              "embedding": {"model": "MSD_musicnn", "output": "max_pool", "level": "track"}}
    joblib.dump(bundle, tmp_path / "probe.pkl")
    monkeypatch.setattr(EmbeddingGenrePredictor, "check_weights", lambda self: str(tmp_path))
    monkeypatch.setattr(EmbeddingGenrePredictor, "_embedder", lambda self: _ConstantEmbedder())
    song = clip(tmp_path / "song.wav", seconds=12.3)

    table = _invoke(song, "--model", tmp_path / "probe.pkl")
    assert table.exit_code == 0, table.stderr
    assert "song.wav  (whole track, 12.3 s)" in table.stdout
    assert "segment(s) of 30 s" not in table.stdout and "majority vote" not in table.stdout
    record = json.loads(_invoke(song, "--model", tmp_path / "probe.pkl", "--format", "json").stdout)[0]
    assert record["level"] == "track" and record["n_segments"] == 1
    assert record["segment_seconds"] == pytest.approx(12.3, abs=0.01)
