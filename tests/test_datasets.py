"""The project's own Kedro datasets: audio folders, npz tensors, raw-data-safe CSVs."""

import numpy as np
import pandas as pd
import pytest
from kedro.io import DatasetError

from gtzan_kedro.datasets import (
    AudioFolderDataset,
    NpzDataset,
    PreferExistingCSVDataset,
    WriteIfAbsentCSVDataset,
)


def _clip(value=0.1):
    return np.full(2205, value, dtype=np.float32), 22050


def test_audio_folder_stem_keys_get_wav_and_load_indexes_genres(tmp_path):
    ds = AudioFolderDataset(str(tmp_path))
    ds.save({"blues/blues.00000": _clip(), "rock/rock.00001.wav": lambda: _clip(0.2)})
    table = ds.load()
    assert sorted(table.track_id) == ["blues.00000.wav", "rock.00001.wav"]
    assert dict(zip(table.track_id, table.genre)) == {"blues.00000.wav": "blues", "rock.00001.wav": "rock"}


def test_audio_folder_never_overwrites_or_mixes(tmp_path):
    real = tmp_path / "jazz" / "jazz.00000.wav"
    AudioFolderDataset(str(tmp_path)).save({"jazz/jazz.00000": _clip(0.5)})
    before = real.read_bytes()
    AudioFolderDataset(str(tmp_path)).save({"jazz/jazz.00000": _clip(0.1)})
    assert real.read_bytes() == before
    AudioFolderDataset(str(tmp_path), only_if_empty=True).save({"pop/pop.00000": _clip()})
    assert not (tmp_path / "pop").exists()


def test_npz_round_trip(tmp_path):
    ds = NpzDataset(str(tmp_path / "a" / "t.npz"))
    ds.save({"mel": np.arange(6, dtype=np.float16).reshape(2, 3), "label": np.array(["rock"])})
    out = ds.load()
    assert out["mel"].dtype == np.float16 and out["mel"].shape == (2, 3)
    assert str(out["label"][0]) == "rock"
    assert not list((tmp_path / "a").glob(".*tmp*"))


def test_write_if_absent_keeps_the_real_file(tmp_path):
    path = tmp_path / "split.csv"
    path.write_text("filename,split\nreal.wav,test\n")
    WriteIfAbsentCSVDataset(str(path)).save(pd.DataFrame({"filename": ["fake.wav"], "split": ["train"]}))
    assert path.read_text() == "filename,split\nreal.wav,test\n"


def test_prefer_existing_loads_kaggle_saves_elsewhere(tmp_path):
    kaggle, ours = tmp_path / "kaggle.csv", tmp_path / "ours.csv"
    ds = PreferExistingCSVDataset(str(ours), prefer_filepath=str(kaggle))
    with pytest.raises(DatasetError, match="kedro run --pipeline ingest"):
        ds.load()
    ds.save(pd.DataFrame({"x": [1]}))
    assert ds.load().x.tolist() == [1]
    kaggle.write_text("x\n2\n")
    assert ds.load().x.tolist() == [2]
    ds.save(pd.DataFrame({"x": [3]}))
    assert kaggle.read_text() == "x\n2\n"


def _tensor_partitions(path, **extra):
    from gtzan_kedro.datasets import StreamedPartitionedDataset

    return StreamedPartitionedDataset(path=str(path), dataset={"type": "gtzan_kedro.datasets.NpzDataset"},
                                      filename_suffix=".npz", **extra)


def test_streamed_partitions_write_one_at_a_time_and_skip_rewrites(tmp_path):
    import pickle

    ds = _tensor_partitions(tmp_path / "t")
    written = pickle.loads(pickle.dumps(ds)).write("blues/blues.00000", {"mel": np.ones(3)})  # as a worker
    target = tmp_path / "t" / "blues" / "blues.00000.npz"
    assert target.exists() and list(written()["mel"]) == [1.0, 1.0, 1.0]
    mtime = target.stat().st_mtime_ns
    ds.save({"blues/blues.00000": written, "rock/rock.00001": {"mel": np.zeros(2)}})
    assert target.stat().st_mtime_ns == mtime  # already on disk: not rewritten
    assert sorted(ds.load()) == ["blues/blues.00000", "rock/rock.00001"]
    _tensor_partitions(tmp_path / "copy").save({"blues/blues.00000": written})  # elsewhere: copied
    assert list(np.load(tmp_path / "copy" / "blues" / "blues.00000.npz")["mel"]) == [1.0, 1.0, 1.0]
    with pytest.raises(DatasetError, match="overwrite"):
        _tensor_partitions(tmp_path / "t", overwrite=True)


def test_partition_writers_come_from_catalog_configs_and_are_read_only(tmp_path):
    from gtzan_kedro.datasets import PartitionWritersDataset, StreamedPartitionedDataset

    config = {"type": "gtzan_kedro.datasets.StreamedPartitionedDataset", "path": str(tmp_path / "t"),
              "dataset": {"type": "gtzan_kedro.datasets.NpzDataset"}, "filename_suffix": ".npz"}
    writers = PartitionWritersDataset({"segment_tensors": config}).load()
    assert isinstance(writers["segment_tensors"], StreamedPartitionedDataset)
    assert writers["segment_tensors"].partition_path("a/b") == str(tmp_path / "t" / "a" / "b.npz")
    with pytest.raises(DatasetError, match="read-only"):
        PartitionWritersDataset({}).save({})
    plain = {**config, "type": "partitions.PartitionedDataset"}
    with pytest.raises(DatasetError, match="StreamedPartitionedDataset"):
        PartitionWritersDataset({"segment_tensors": plain}).load()
