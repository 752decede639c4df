"""Linear probes on the embedding tables: the audio_models template run in-process on tiny
tables (rows under features = musicnn_msd_maxpool[_3s]), the best probe's bundle, the reporting
pipeline's inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from gtzan_kedro.models.baselines import build_estimator
from gtzan_kedro.pipelines.embeddings.nodes import probe_embedding, select_best_probe
from gtzan_kedro.pipelines.embeddings.pipeline import create_pipeline, probe_namespaces

GENRES = ("blues", "metal", "pop")
DIM = 24
EVALUATION = {"n_splits": 2, "test_size": 0.25, "val_size": 0.2, "random_state": 0,
              "permutation_repeats": 0, "log_models": False}
MODELS = {
    "logistic_regression": {"kind": "logistic_regression", "grid": {"model__C": [1]}, "cv": 2, "grouped": True},
    "svm": {"kind": "svm", "grid": {"model__C": [1]}, "cv": 2, "grouped": True},
    "pca_svm": {"kind": "pca_svm", "grid": {"model__C": [1, 10]}, "cv": 2, "grouped": True},
    "soft_vote": {"kind": "soft_vote", "members": {"pca_svm": {"model__C": 10},
                                                   "logistic_regression": {"model__C": 0.1}}},
}
SETS = {"musicnn_msd_maxpool": {"table": "musicnn_msd_maxpool", "columns": "numeric",
                                "protocols": ["holdout", "fault_filtered"]},
        "musicnn_msd_maxpool_3s": {"table": "musicnn_msd_maxpool_3s", "columns": "numeric",
                                   "protocols": ["holdout", "fault_filtered", "leaky_segments"]}}


def embedding_tables(tracks_per_genre: int = 8, patches: int = 3, dim: int = DIM, seed: int = 0):
    """Track- and patch-level tables as the embeddings node writes them, genres separable."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (len(GENRES), dim))
    names, labels, rows, pnames, plabels, prows = [], [], [], [], [], []
    for g, genre in enumerate(GENRES):
        for k in range(tracks_per_genre):
            track = f"{genre}.{k:05d}.wav"
            values = centres[g] + rng.normal(0, 0.8, (patches, dim))
            names.append(track)
            labels.append(genre)
            rows.append(values.mean(axis=0))
            pnames += [f"{genre}.{k:05d}.{i}.wav" for i in range(patches)]
            plabels += [genre] * patches
            prows.append(values)
    columns = [f"emb_{i}" for i in range(dim)]

    def frame(n, lab, values):
        return pd.concat([pd.DataFrame({"filename": n, "label": lab}),
                          pd.DataFrame(np.asarray(values, dtype=np.float32), columns=columns)], axis=1)

    return frame(names, labels, rows), frame(pnames, plabels, np.concatenate(prows))


def split_table(tracks: pd.DataFrame) -> pd.DataFrame:
    """A fault-filtered-like split file (filename, split) over the tiny tracks."""
    split = np.where(np.arange(len(tracks)) % 4 == 0, "test", "train")
    return pd.DataFrame({"filename": tracks.filename, "split": split})


def test_probe_pipeline_is_one_embeddings_group_with_the_parameters_probes():
    pipe = create_pipeline()
    namespaces = {n.namespace for n in pipe.nodes}
    assert all(ns.startswith("embeddings") for ns in namespaces)
    expected = {f"embeddings.{fs}.{m}" for fs, m in probe_namespaces()}
    assert ("musicnn_msd_maxpool", "pca_svm") in probe_namespaces()
    assert ("musicnn_msd_maxpool_3s", "soft_vote") in probe_namespaces()
    assert expected <= namespaces
    # the probes read the tables the extraction node writes (one pipeline, ordered by Kedro)
    assert "musicnn_msd_maxpool" not in pipe.inputs() and "best_embedding_probe" in pipe.outputs()
    # no dependency on feature_selection's Kaggle-column selector
    assert "selected_features" not in pipe.inputs()


def test_reporting_reads_the_probes_rows():
    from gtzan_kedro.pipelines.reporting.pipeline import create_pipeline as reporting

    inputs = reporting().inputs()
    assert {f"embeddings.{fs}.{m}.comparison_rows" for fs, m in probe_namespaces()} <= inputs


def test_probes_run_in_process_and_write_comparison_rows():
    tracks, patches = embedding_tables()
    pipe = create_pipeline().filter(node_namespaces=[f"embeddings.{fs}.{m}" for fs in SETS for m in MODELS]) \
        + create_pipeline().filter(node_names=["embeddings.select_best_embedding_probe"])
    params = {"embedding_probes.evaluation": EVALUATION, "embedding_probes.models": MODELS,
              **{f"embedding_probes.models.{m}": spec for m, spec in MODELS.items()},
              **{f"embedding_probes.feature_sets.{f}": spec for f, spec in SETS.items()}}
    catalog = DataCatalog({"musicnn_msd_maxpool": MemoryDataset(tracks),
                           "musicnn_msd_maxpool_3s": MemoryDataset(patches),
                           "audio_models_fault_filtered_split": MemoryDataset(split_table(tracks)),
                           # the tracks are the sample corpus's: the bundle must say so
                           "sample_corpus_manifest": MemoryDataset(tracks[["filename"]].assign(synthetic=True)),
                           **{f"params:{k}": MemoryDataset(v) for k, v in params.items()},
                           **{name: MemoryDataset() for name in pipe.outputs()}})
    assert pipe.inputs() <= set(catalog.filter()), pipe.inputs() - set(catalog.filter())
    SequentialRunner().run(pipe, catalog)
    rows = pd.concat([catalog.load(f"embeddings.{fs}.{m}.comparison_rows") for fs in SETS for m in MODELS])
    assert set(rows.model) == set(MODELS) and set(rows.features) == set(SETS)
    track_rows = rows[rows.features == "musicnn_msd_maxpool"]
    assert set(track_rows.protocol) == {"holdout", "fault_filtered"}
    patch_rows = rows[rows.features == "musicnn_msd_maxpool_3s"]
    assert set(patch_rows.protocol) == {"holdout", "fault_filtered", "leaky_segments"}
    # song-level aggregation over a track's patches, as for Kaggle's 3-s table
    assert patch_rows.song_accuracy_vote_mean.notna().all()
    assert rows.accuracy_mean.between(0, 1).all()
    # separable genres: the probes learn them (chance is 1/3)
    assert rows[rows.protocol == "holdout"].accuracy_mean.min() > 0.6
    bundle = catalog.load("best_embedding_probe")
    assert bundle["features"] in SETS and bundle["name"] in MODELS
    assert bundle["embedding"]["model"] == "MSD_musicnn" and bundle["embedding"]["output"] == "max_pool"
    assert bundle["feature_columns"] == [f"emb_{i}" for i in range(DIM)]
    proba = bundle["model"].predict_proba(tracks[bundle["feature_columns"]])
    assert proba.shape == (len(tracks), 3) and bundle["classes"] == list(GENRES)
    assert bundle["training_note"].startswith(f"trained on the synthetic sample corpus ({len(tracks)} generated")


def test_best_probe_is_the_best_holdout_score():
    tracks, patches = embedding_tables()
    per_split = pd.DataFrame({"split": [0, 1, 0, 1, 0], "accuracy": [0.5, 0.7, 0.9, 0.8, 1.0],
                              "model": ["svm", "svm", "pca_svm", "pca_svm", "svm"],
                              "features": ["musicnn_msd_maxpool"] * 4 + ["musicnn_msd_maxpool_3s"],
                              "protocol": ["holdout"] * 4 + ["leaky_segments"]})
    bundle = select_best_probe(MODELS, EVALUATION, {"musicnn_msd_maxpool": tracks,
                                                    "musicnn_msd_maxpool_3s": patches}, [per_split])
    # leaky_segments never chooses: pca_svm's holdout mean 0.85 beats svm's 0.6
    assert (bundle["name"], bundle["features"], bundle["segment_seconds"]) == ("pca_svm", "musicnn_msd_maxpool", 30.0)
    assert bundle["protocol_scores"] == {"holdout": pytest.approx(0.85)}
    with pytest.raises(ValueError, match="holdout"):
        select_best_probe(MODELS, EVALUATION, {"musicnn_msd_maxpool": tracks},
                          [per_split.assign(protocol="leaky_segments")])


def test_probe_embedding_names_the_musicnn_output():
    assert probe_embedding("musicnn_mtt_penultimate_3s") == {"model": "MTT_musicnn", "output": "penultimate",
                                                            "level": "patch"}
    assert probe_embedding("musicnn_msd_meanpool")["level"] == "track"
    with pytest.raises(ValueError, match="embedding_probes.feature_sets"):
        probe_embedding("musicnn_msd_sumpool")


def test_pca_svm_caps_its_components_at_the_training_rows():
    X = np.random.default_rng(0).normal(size=(30, 200))
    y = np.array(["a", "b", "c"] * 10)
    estimator = build_estimator({"kind": "pca_svm"}).fit(X, y)
    assert estimator["pca"].n_components_ == 30 and estimator["pca"].n_components == 128
    wide = build_estimator({"kind": "pca_svm"}).fit(np.tile(X, (6, 1)), np.tile(y, 6))
    assert wide["pca"].n_components_ == 128
    assert estimator.predict_proba(X).shape == (30, 3)
