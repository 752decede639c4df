"""The ingest pipeline in-process (SequentialRunner on a DataCatalog of tiny clips), and the
bound on what it holds in memory: each track's tensors and image are written as it finishes."""

from __future__ import annotations

import copy
import gc
import weakref
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from PIL import Image

from gtzan_kedro.datasets import (
    AudioFolderDataset,
    PartitionWritersDataset,
    StreamedPartitionedDataset,
    TrackCacheDataset,
    WrittenPartition,
)
from gtzan_kedro.pipelines.ingest import create_pipeline, nodes
from gtzan_kedro.pipelines.ingest.nodes import extract_tracks, index_tracks

from .clips import PARAMS, write_clip


def write_corpus(root: Path, n_per_genre: int = 2) -> list[str]:
    """``n_per_genre`` short clips of blues and metal and one unreadable jazz file."""
    keys = []
    for g, genre in enumerate(("blues", "metal")):
        for i in range(n_per_genre):
            write_clip(root / genre / f"{genre}.{i:05d}.wav", 150 + 90 * g + 20 * i, seed=10 * g + i)
            keys.append(f"{genre}/{genre}.{i:05d}")
    (root / "jazz").mkdir(parents=True, exist_ok=True)
    (root / "jazz" / "jazz.00054.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt garbage")
    return keys


def partition_configs(data: Path) -> dict[str, dict]:
    """The two partitioned entries of conf/base/catalog.yml, rooted at ``data``."""
    return {
        "segment_tensors": {"type": "gtzan_kedro.datasets.StreamedPartitionedDataset",
                            "path": str(data / "segment_tensors"),
                            "dataset": {"type": "gtzan_kedro.datasets.NpzDataset"},
                            "filename_suffix": ".npz"},
        "mel_images": {"type": "gtzan_kedro.datasets.StreamedPartitionedDataset",
                       "path": str(data / "images_original"),
                       "dataset": {"type": "pillow.ImageDataset"}, "filename_suffix": ".png"},
    }


def make_catalog(raw: Path, data: Path, params: dict) -> DataCatalog:
    """The ingest entries of the project catalog on temp folders (tables in memory)."""
    configs = partition_configs(data)
    catalog = DataCatalog({
        "genres_original": AudioFolderDataset(str(raw)),
        "ingest_cache": TrackCacheDataset(str(data / "cache"), requires=list(configs.values())),
        "ingest_cache_updates": TrackCacheDataset(str(data / "cache")),
        "ingest_writers": PartitionWritersDataset(configs),
        "segment_tensors": StreamedPartitionedDataset(**{k: v for k, v in configs["segment_tensors"].items()
                                                         if k != "type"}),
        "mel_images": StreamedPartitionedDataset(**{k: v for k, v in configs["mel_images"].items()
                                                    if k != "type"}),
    })
    catalog["params:ingest"] = params
    for name in ("track_index", "features_30_sec", "features_3_sec", "valid_tracks",
                 "extraction_failures", "ingest_report", "ingest_stats"):
        catalog[name] = MemoryDataset()
    return catalog


@pytest.fixture
def params():
    return {**copy.deepcopy(PARAMS), "n_jobs": 1}


def test_pipeline_in_process_writes_every_output_and_reuses_the_cache(tmp_path, params):
    raw, data = tmp_path / "raw", tmp_path / "data"
    keys = write_corpus(raw)
    catalog = make_catalog(raw, data, params)
    SequentialRunner().run(create_pipeline(), catalog)

    t30, t3 = catalog.load("features_30_sec"), catalog.load("features_3_sec")
    assert sorted(t30.filename) == [f"{k.split('/')[1]}.wav" for k in keys]
    assert len(t3) == len(keys)  # one 3-s segment per 3.3-s clip
    assert list(catalog.load("ingest_report").track_id) == ["jazz.00054.wav"]
    tensors = catalog.load("segment_tensors")  # what image_models reads
    assert sorted(tensors) == keys
    blues = tensors["blues/blues.00000"]()
    assert blues["mel"].shape == (1, 128, 130) and str(blues["label"][0]) == "blues"
    assert sorted(catalog.load("mel_images")) == keys
    assert Image.open(data / "images_original" / "metal" / "metal.00001.png").size == (432, 288)
    assert catalog.load("ingest_stats").iloc[0].tracks_extracted == len(keys)

    before = {p: p.stat().st_mtime_ns for p in (data / "segment_tensors").rglob("*.npz")}
    SequentialRunner().run(create_pipeline(), catalog)
    stats = catalog.load("ingest_stats").iloc[0]
    assert (stats.tracks_extracted, stats.tracks_cached) == (0, len(keys))
    pd.testing.assert_frame_equal(catalog.load("features_3_sec"), t3)
    assert {p: p.stat().st_mtime_ns for p in before} == before  # nothing rewritten


def test_node_returns_handles_to_what_the_workers_wrote(tmp_path, params):
    raw, data = tmp_path / "raw", tmp_path / "data"
    keys = write_corpus(raw)
    writers = PartitionWritersDataset(partition_configs(data)).load()
    index = index_tracks(AudioFolderDataset(str(raw)).load(), params)
    _, _, _, failures, tensors, images, updates, _ = extract_tracks(index, {}, writers, params)
    assert sorted(tensors) == sorted(images) == keys
    assert all(isinstance(v, WrittenPartition) for v in [*tensors.values(), *images.values()])
    direct = nodes.extract_track(str(raw / "metal" / "metal.00001.wav"), "metal.00001.wav", "metal", params)
    written = tensors["metal/metal.00001"]()
    assert set(written) == set(direct.tensors)
    for name, array in direct.tensors.items():
        np.testing.assert_array_equal(written[name], array)
    np.testing.assert_array_equal(np.asarray(images["metal/metal.00001"]()), np.asarray(direct.image))
    assert list(failures.track_id) == [] and len(updates) == len(keys)


def test_ingest_holds_a_bounded_number_of_tracks_in_memory(tmp_path, params, monkeypatch):
    """Count the tensors of earlier tracks still alive while each track is extracted: with
    per-track writes it stays bounded, however many tracks the corpus has."""
    raw, data = tmp_path / "raw", tmp_path / "data"
    keys = write_corpus(raw, n_per_genre=3)
    extracted, alive_before, written_before = [], [], []
    real = nodes.segment_tensors

    def instrumented(y, sr, **kwargs):
        gc.collect()
        alive_before.append(sum(ref() is not None for ref in extracted))
        written_before.append(len(list((data / "segment_tensors").rglob("*.npz"))))
        tensors = real(y, sr, **kwargs)
        extracted.append(weakref.ref(tensors["stft"]))  # the largest array of a track
        return tensors

    monkeypatch.setattr(nodes, "segment_tensors", instrumented)  # n_jobs 1 runs in this process
    writers = PartitionWritersDataset(partition_configs(data)).load()
    index = index_tracks(AudioFolderDataset(str(raw)).load(), params)
    result = extract_tracks(index, {}, writers, params)

    assert len(extracted) == len(keys) == 6
    assert max(alive_before) <= 1, f"earlier tracks' tensors still in memory: {alive_before}"
    assert written_before == list(range(len(keys)))  # each track on disk before the next starts
    gc.collect()
    assert sum(ref() is not None for ref in extracted) <= 1  # nor held in what the node returns
    assert sorted(result[4]) == keys


def test_a_failed_write_quarantines_the_track_and_is_retried_next_run(tmp_path, params):
    raw, data = tmp_path / "raw", tmp_path / "data"
    write_corpus(raw, n_per_genre=1)
    (data / "segment_tensors" / "metal").mkdir(parents=True)
    (data / "segment_tensors" / "metal" / "metal.00000.npz").mkdir()  # a directory where the file goes
    writers = PartitionWritersDataset(partition_configs(data)).load()
    index = index_tracks(AudioFolderDataset(str(raw)).load(), params)
    _, _, valid, failures, tensors, _, updates, _ = extract_tracks(index, {}, writers, params)
    assert list(failures.track_id) == ["metal.00000.wav"]
    assert "could not write outputs" in failures.reason.item()
    assert list(valid.track_id) == ["blues.00000.wav"] and sorted(tensors) == ["blues/blues.00000"]
    assert sorted(updates) == ["blues/blues.00000"]  # not cached: the next run tries it again
