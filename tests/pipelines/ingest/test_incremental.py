"""Incremental ingest: only new or changed files are extracted, unless the parameters change."""

import copy
import os
from pathlib import Path

import pandas as pd
import pytest

from gtzan_kedro.datasets import AudioFolderDataset, PartitionWritersDataset, TrackCacheDataset
from gtzan_kedro.pipelines.ingest.nodes import extract_tracks, index_tracks

from .clips import PARAMS, write_clip


def partition_configs(out: Path) -> dict[str, dict]:
    """Where the workers write tensors and images (the catalog's two partitioned entries)."""
    return {name: {"type": "gtzan_kedro.datasets.StreamedPartitionedDataset", "path": str(out / name),
                   "dataset": {"type": dataset}, "filename_suffix": suffix}
            for name, dataset, suffix in (("segment_tensors", "gtzan_kedro.datasets.NpzDataset", ".npz"),
                                          ("mel_images", "pillow.ImageDataset", ".png"))}


class Ingest:
    """index_tracks + extract_tracks on a folder, with the cache saved as Kedro would."""

    def __init__(self, root: Path, cache: Path):
        self.root, self.cache = root, TrackCacheDataset(str(cache))
        self.writers = PartitionWritersDataset(partition_configs(cache.parent / "out"))

    def run(self, params: dict) -> dict:
        index = index_tracks(AudioFolderDataset(str(self.root)).load(), params)
        t30, t3, valid, failures, tensors, images, updates, stats = extract_tracks(
            index, self.cache.load(), self.writers.load(), params)
        self.cache.save(updates)
        return {"t30": t30, "t3": t3, "valid": valid, "failures": failures, "tensors": tensors,
                "stats": stats.iloc[0]}


@pytest.fixture
def corpus(tmp_path):
    root = tmp_path / "genres_original"
    for i, genre in enumerate(("blues", "metal", "metal")):
        write_clip(root / genre / f"{genre}.0000{i}.wav", 150 + 90 * i, seed=i)
    (root / "jazz").mkdir()
    (root / "jazz" / "jazz.00054.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt garbage")
    return root


def test_rerun_extracts_only_new_or_changed_tracks(corpus, tmp_path):
    ingest = Ingest(corpus, tmp_path / "cache")
    params = {**copy.deepcopy(PARAMS), "n_jobs": 1}

    first = ingest.run(params)
    assert (first["stats"].tracks_extracted, first["stats"].tracks_cached) == (3, 0)
    assert len(first["t30"]) == 3 and len(first["tensors"]) == 3

    second = ingest.run(params)
    assert (second["stats"].tracks_extracted, second["stats"].tracks_cached) == (0, 3)
    assert second["tensors"] == {}  # nothing rewritten
    pd.testing.assert_frame_equal(second["t30"], first["t30"])
    pd.testing.assert_frame_equal(second["t3"], first["t3"])
    pd.testing.assert_frame_equal(second["valid"], first["valid"])

    touched = corpus / "metal" / "metal.00001.wav"
    stat = touched.stat()
    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    third = ingest.run(params)
    assert third["stats"].tracks_extracted == 1 and list(third["tensors"]) == ["metal/metal.00001"]

    write_clip(corpus / "blues" / "blues.00007.wav", 330, seed=7)
    fourth = ingest.run(params)
    assert fourth["stats"].tracks_extracted == 1 and list(fourth["tensors"]) == ["blues/blues.00007"]
    assert "blues.00007.wav" in set(fourth["t30"].filename) and len(fourth["t30"]) == 4

    runtime_only = {**params, "n_jobs": 2, "executor": {"backend": "joblib"}}
    assert ingest.run(runtime_only)["stats"].tracks_extracted == 0

    changed = copy.deepcopy(params)
    changed["image"]["width"] = 216
    fifth = ingest.run(changed)
    assert (fifth["stats"].tracks_extracted, fifth["stats"].tracks_cached) == (4, 0)
    assert fifth["stats"].params_fingerprint != fourth["stats"].params_fingerprint


def test_full_extraction_when_incremental_is_off(corpus, tmp_path):
    ingest = Ingest(corpus, tmp_path / "cache")
    params = {**copy.deepcopy(PARAMS), "n_jobs": 1}
    ingest.run(params)
    assert ingest.run({**params, "incremental": False})["stats"].tracks_extracted == 3


def test_damaged_cache_entry_is_re_extracted(corpus, tmp_path):
    ingest = Ingest(corpus, tmp_path / "cache")
    params = {**copy.deepcopy(PARAMS), "n_jobs": 1}
    ingest.run(params)
    (tmp_path / "cache" / "blues" / "blues.00000.pkl").write_bytes(b"not a pickle")
    again = ingest.run(params)
    assert again["stats"].tracks_extracted == 1 and list(again["tensors"]) == ["blues/blues.00000"]


def test_track_whose_outputs_were_deleted_is_re_extracted(corpus, tmp_path):
    configs = partition_configs(tmp_path / "out")
    tensors = tmp_path / "out" / "segment_tensors"
    ingest = Ingest(corpus, tmp_path / "cache")
    ingest.cache = TrackCacheDataset(str(tmp_path / "cache"), requires=[configs["segment_tensors"]])
    params = {**copy.deepcopy(PARAMS), "n_jobs": 1}
    assert sorted(ingest.run(params)["tensors"]) == sorted(
        p.relative_to(tensors).with_suffix("").as_posix() for p in tensors.rglob("*.npz"))
    assert ingest.run(params)["stats"].tracks_extracted == 0

    (tensors / "metal" / "metal.00002.npz").unlink()
    again = ingest.run(params)
    assert again["stats"].tracks_extracted == 1 and list(again["tensors"]) == ["metal/metal.00002"]
    assert again["stats"].tracks_cached == 2 and (tensors / "metal" / "metal.00002.npz").exists()


def test_requires_takes_patterns_or_partitioned_configs(tmp_path):
    cache = TrackCacheDataset(str(tmp_path / "cache"), requires=[
        str(tmp_path / "other") + "/{partition}.json", {"path": str(tmp_path / "t") + "/", "filename_suffix": ".npz"}])
    cache.save({"blues/blues.00000": {"error": None, "rows_30s": []}})
    assert cache.load()["blues/blues.00000"]() is None  # neither file exists
    (tmp_path / "other" / "blues").mkdir(parents=True)
    (tmp_path / "other" / "blues" / "blues.00000.json").write_text("{}")
    (tmp_path / "t" / "blues").mkdir(parents=True)
    (tmp_path / "t" / "blues" / "blues.00000.npz").write_bytes(b"npz")
    assert cache.load()["blues/blues.00000"]() == {"error": None, "rows_30s": []}
    with pytest.raises(ValueError, match="no path"):
        TrackCacheDataset(str(tmp_path), requires=[{"filename_suffix": ".npz"}])


@pytest.mark.e2e
def test_kedro_rerun_reuses_the_cache(kedro_project):
    raw = kedro_project.path / "data" / "01_raw" / "gtzan" / "genres_original"
    for i, genre in enumerate(("blues", "metal")):
        write_clip(raw / genre / f"{genre}.00000.wav", 200 + 100 * i, seed=i)
    (raw / "jazz").mkdir()
    (raw / "jazz" / "jazz.00054.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt garbage")
    kedro_project.write_conf("local/parameters_ingest.yml", "ingest:\n  n_jobs: 1\n")
    data = kedro_project.path / "data"

    kedro_project.run("--pipeline", "ingest")
    first = pd.read_csv(data / "03_primary" / "features_3_sec.csv")
    assert pd.read_csv(data / "08_reporting" / "ingest_stats.csv").tracks_extracted.item() == 2

    kedro_project.run("--pipeline", "ingest")
    stats = pd.read_csv(data / "08_reporting" / "ingest_stats.csv").iloc[0]
    assert (stats.tracks_extracted, stats.tracks_cached) == (0, 2)
    pd.testing.assert_frame_equal(pd.read_csv(data / "03_primary" / "features_3_sec.csv"), first)
    report = pd.read_csv(data / "08_reporting" / "ingest_report.csv")
    assert list(report.track_id) == ["jazz.00054.wav"]  # quarantine is reported on every run
    assert (data / "04_feature" / "segment_tensors" / "metal" / "metal.00000.npz").exists()

    image = data / "03_primary" / "images_original" / "metal" / "metal.00000.png"
    image.unlink()  # the catalog's `requires` makes the cache notice a deleted output
    kedro_project.run("--pipeline", "ingest")
    stats = pd.read_csv(data / "08_reporting" / "ingest_stats.csv").iloc[0]
    assert (stats.tracks_extracted, stats.tracks_cached) == (1, 1) and image.exists()
