"""Scale-out: ingest on a dask.distributed cluster gives exactly the local run's outputs."""

import copy
import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import yaml

from gtzan_kedro.datasets import AudioFolderDataset, PartitionWritersDataset
from gtzan_kedro.pipelines.ingest.nodes import extract_tracks, index_tracks

distributed = pytest.importorskip("distributed")

SR = 22050
REPO = Path(__file__).resolve().parents[3]
PARAMS = yaml.safe_load((REPO / "conf/base/parameters_ingest.yml").read_text())["ingest"]
# Dask pins OMP_NUM_THREADS=1 in its workers while the local process may run multi-threaded
# BLAS, so float32 matrix products can round differently in the last bit: compare to 1e-5.
RTOL = 1e-5
TABLES = ("03_primary/features_30_sec.csv", "03_primary/features_3_sec.csv",
          "02_intermediate/valid_tracks.csv", "08_reporting/ingest_report.csv")


def assert_same_tensor(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    """Equal up to a last-bit float32 difference (one float16 step for the float16 tensors)."""
    assert actual.shape == expected.shape and actual.dtype == expected.dtype, what
    if expected.dtype.kind != "f":
        np.testing.assert_array_equal(actual, expected, err_msg=what)
        return
    rtol, atol = (2e-3, 1e-3) if expected.dtype == np.float16 else (RTOL, 1e-4)
    np.testing.assert_allclose(actual.astype(np.float64), expected.astype(np.float64),
                               rtol=rtol, atol=atol, err_msg=what)


def write_corpus(root: Path) -> None:
    rng = np.random.default_rng(11)
    t = np.arange(int(3.4 * SR)) / SR
    for i, genre in enumerate(("blues", "blues", "metal", "rock")):
        y = 0.3 * np.sin(2 * np.pi * (140 + 70 * i) * t) + 0.05 * rng.standard_normal(t.size)
        path = root / genre / f"{genre}.0000{i}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, y, SR, subtype="PCM_16")
    (root / "rock" / "rock.00009.wav").write_bytes(b"")  # quarantined on both backends


@pytest.fixture
def local_cluster():
    """Two single-threaded worker processes on 127.0.0.1, shut down after the test."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  silence_logs=logging.ERROR) as cluster:
        yield cluster


def writers(out: Path) -> dict:
    """Partition writers for tensors and images under ``out`` (the catalog's two entries)."""
    return PartitionWritersDataset({
        name: {"type": "gtzan_kedro.datasets.StreamedPartitionedDataset", "path": str(out / name),
               "dataset": {"type": dataset}, "filename_suffix": suffix}
        for name, dataset, suffix in (("segment_tensors", "gtzan_kedro.datasets.NpzDataset", ".npz"),
                                      ("mel_images", "pillow.ImageDataset", ".png"))}).load()


def test_node_on_own_local_cluster_equals_joblib(tmp_path):
    root = tmp_path / "genres_original"
    write_corpus(root)
    index = index_tracks(AudioFolderDataset(str(root)).load(), PARAMS)
    local = extract_tracks(index, {}, writers(tmp_path / "local"), {**copy.deepcopy(PARAMS), "n_jobs": 1})
    on_dask = extract_tracks(index, {}, writers(tmp_path / "dask"),
                             {**copy.deepcopy(PARAMS), "n_jobs": 2,
                              "executor": {"backend": "dask", "scheduler_address": None}})
    for ours, theirs in zip(local[:4], on_dask[:4]):
        pd.testing.assert_frame_equal(theirs, ours, check_exact=False, rtol=RTOL)
    assert sorted(on_dask[4]) == sorted(local[4]) == ["blues/blues.00000", "blues/blues.00001",
                                                     "metal/metal.00002", "rock/rock.00003"]
    for key, written in local[4].items():  # each worker wrote its own partitions
        theirs = on_dask[4][key]()
        assert (tmp_path / "dask" / "segment_tensors" / f"{key}.npz").exists()
        for name, array in written().items():
            assert_same_tensor(theirs[name], array, f"{key} {name}")
    assert on_dask[7].iloc[0].backend == "dask" and on_dask[7].iloc[0].tracks_extracted == 4


@pytest.mark.e2e
def test_kedro_ingest_on_local_cluster_equals_local_run(kedro_project, local_cluster, tmp_path):
    write_corpus(kedro_project.path / "data" / "01_raw" / "gtzan" / "genres_original")
    data = kedro_project.path / "data"
    kedro_project.write_conf("local/parameters_ingest.yml", "ingest:\n  n_jobs: 1\n")
    kedro_project.run("--pipeline", "ingest")
    local = tmp_path / "local"
    for table in TABLES:
        (local / table).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(data / table, local / table)
    shutil.copytree(data / "04_feature" / "segment_tensors", local / "segment_tensors")

    kedro_project.write_conf(
        "local/parameters_ingest.yml",
        "ingest:\n  incremental: false\n  executor:\n    backend: dask\n"
        f"    scheduler_address: {local_cluster.scheduler_address}\n",
    )
    kedro_project.run("--pipeline", "ingest")
    stats = pd.read_csv(data / "08_reporting" / "ingest_stats.csv").iloc[0]
    assert (stats.backend, stats.tracks_extracted) == ("dask", 4)
    assert len(local_cluster.scheduler_info["workers"]) == 2
    assert "process_track" in local_cluster.scheduler.task_prefixes  # the work ran on this cluster
    for table in TABLES:
        pd.testing.assert_frame_equal(pd.read_csv(data / table), pd.read_csv(local / table),
                                      check_exact=False, rtol=RTOL)
    local_npz = sorted((local / "segment_tensors").rglob("*.npz"))
    assert len(local_npz) == 4
    for path in local_npz:
        ours = np.load(path)
        theirs = np.load(data / "04_feature" / "segment_tensors" / path.relative_to(local / "segment_tensors"))
        for name in ("mel", "stft", "mfcc", "start_s", "label"):
            assert_same_tensor(theirs[name], ours[name], f"{path.name} {name}")
