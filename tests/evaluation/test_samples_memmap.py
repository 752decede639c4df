"""Stacking the segment tensors: above MEMMAP_BYTES they go to a memory-mapped temp file (RAM
does not hold the corpus twice), with the same values, labels and tracks as in memory."""

import numpy as np
import pytest

from gtzan_kedro.evaluation import samples


def _partitions(n_tracks: int = 4):
    rng = np.random.default_rng(0)
    parts = {}
    for k in range(n_tracks):
        data = {"mfcc": rng.normal(size=(3, 5, 7)).astype(np.float32),
                "label": np.array([f"g{k % 2}"]), "track_id": np.array([f"t{k}"])}
        parts[f"g{k % 2}/t{k}"] = (lambda d=data: d)
    parts["broken"] = lambda: {"label": np.array(["x"])}   # skipped, logged
    return parts


@pytest.mark.parametrize("cmvn", [None, 3])
def test_memory_mapped_stack_equals_the_in_memory_one(monkeypatch, cmvn):
    in_memory = samples.load_segment_samples(_partitions(), "mfcc", cmvn)
    monkeypatch.setattr(samples, "MEMMAP_BYTES", 0)
    mapped = samples.load_segment_samples(_partitions(), "mfcc", cmvn)
    assert isinstance(mapped.inputs.base, np.memmap) or isinstance(mapped.inputs, np.memmap)
    assert not isinstance(in_memory.inputs, np.memmap)
    assert mapped.inputs.shape == in_memory.inputs.shape == (12, 5, 7, 1)
    np.testing.assert_array_equal(np.asarray(mapped.inputs), in_memory.inputs)
    assert list(mapped.track_ids) == list(in_memory.track_ids)
    assert list(mapped.labels) == list(in_memory.labels)
    mapped.inputs[0] = 0.0   # copy-on-write: callers may normalise in place


def test_mismatched_shapes_are_still_skipped(monkeypatch):
    monkeypatch.setattr(samples, "MEMMAP_BYTES", 0)
    parts = _partitions(2)
    parts["g9/odd"] = lambda: {"mfcc": np.zeros((3, 4, 7), np.float32), "label": np.array(["g0"]),
                               "track_id": np.array(["odd"])}
    out = samples.load_segment_samples(parts, "mfcc")
    assert "odd" not in set(out.track_ids) and len(out) == 6


def test_a_memory_mapped_stack_travels_as_its_file_not_its_data(monkeypatch, tmp_path):
    # a split task on another worker maps the node's file: cnn_stft's 2.7 GB are not copied
    import pickle

    monkeypatch.setenv("GTZAN_MEMMAP_DIR", str(tmp_path))
    monkeypatch.setattr(samples, "MEMMAP_BYTES", 0)
    big = {f"g{k % 2}/t{k}": (lambda k=k: {"mfcc": np.full((50, 20, 30), k, np.float32),
                                            "label": np.array([f"g{k % 2}"]),
                                            "track_id": np.array([f"t{k}"])}) for k in range(4)}
    mapped = samples.load_segment_samples(big, "mfcc").inputs
    [path] = list(tmp_path.iterdir())   # the stack's named file, in GTZAN_MEMMAP_DIR
    for view in (mapped, mapped[100:150]):
        payload = pickle.dumps(view, protocol=5)
        assert len(payload) < 1000 < view.nbytes
        again = pickle.loads(payload)
        np.testing.assert_array_equal(np.asarray(again), np.asarray(view))
    scattered = mapped[:, 3]   # not one run of the file: its data travels
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(scattered)), scattered)
    assert type(mapped[[0, 5]]) is np.ndarray and type(mapped * 2) is np.ndarray

    payload = pickle.dumps(mapped)
    del mapped, view, again, scattered
    import gc

    gc.collect()
    assert not path.exists()   # gone with the node's arrays
    with pytest.raises(FileNotFoundError, match="GTZAN_MEMMAP_DIR"):
        pickle.loads(payload)
