"""Model inputs for the Keras evaluation: a SampleSet (inputs, one label and one track per
sample) and loaders that stack the catalog's partitions (segment-tensor npz files, PNG images)
into one. A partition that cannot be read is logged with its id and skipped."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from gtzan_kedro.audio.images import image_array, image_track_id

logger = logging.getLogger(__name__)


@dataclass
class SampleSet:
    """Model inputs (one array, or a list for multi-input models) with one label and one
    track per sample (a 3-s segment or a 30-s slice)."""

    inputs: np.ndarray | list[np.ndarray]
    labels: np.ndarray
    track_ids: np.ndarray
    classes: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.labels = np.asarray(self.labels, dtype=object)
        self.track_ids = np.asarray(self.track_ids, dtype=object)
        if not self.classes:
            self.classes = sorted(set(self.labels))
        n = len(self.labels)
        for arr in self.input_list:
            if len(arr) != n:
                raise ValueError(f"inputs have {len(arr)} samples but there are {n} labels")

    @property
    def input_list(self) -> list[np.ndarray]:
        return self.inputs if isinstance(self.inputs, list) else [self.inputs]

    @property
    def codes(self) -> np.ndarray:
        lookup = {c: i for i, c in enumerate(self.classes)}
        return np.array([lookup[v] for v in self.labels], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.labels)


TENSOR_KEYS = ("mel", "stft", "mfcc")
# Above this many bytes the stacked tensors live in a memory-mapped temp file, not in RAM: the
# STFT tensors of 1000 tracks are 10,000 x 513 x 130 float32 = 2.7 GB, and stacking a list of
# per-track arrays in memory held them twice.
MEMMAP_BYTES = 256 * 2**20


class FileBackedArray(np.memmap):
    """A memory-mapped stack that pickles as its file's path, offset and shape, not as its
    data: a split task on another worker maps the same file (the page cache is shared on one
    machine) instead of receiving a copy of the corpus (cnn_stft's 2.7 GB) per worker. The
    file must be where the worker can open it: on several machines set ``GTZAN_MEMMAP_DIR``
    to a folder of the shared filesystem. A view that is not one contiguous run of the file
    pickles as its data, as any array does."""

    # as np.memmap does for itself (it leaves subclasses alone): what is computed from the
    # array or copied out of it is a plain in-memory ndarray, not a memmap without a file
    def __array_wrap__(self, arr, context=None, return_scalar=False):
        arr = super().__array_wrap__(arr, context, return_scalar)
        if self is arr:
            return arr
        return arr[()] if return_scalar else arr.view(np.ndarray)

    def __getitem__(self, index):
        res = super().__getitem__(index)
        if isinstance(res, FileBackedArray) and res._mmap is None:
            return res.view(np.ndarray)
        return res

    def __reduce_ex__(self, protocol):
        start = _file_offset(self)
        if start is None:
            return np.asarray(self).__reduce_ex__(protocol)
        return _reopen, (str(self.filename), self.dtype.str, self.shape, start)


def _file_offset(arr: np.memmap) -> int | None:
    """Where ``arr``'s first byte lies in its file, or None if it is not one C-contiguous run."""
    root = arr
    while isinstance(getattr(root, "base", None), np.memmap):
        root = root.base
    if not arr.flags.c_contiguous or getattr(root, "filename", None) is None:
        return None
    return int(root.offset) + (arr.__array_interface__["data"][0] - root.__array_interface__["data"][0])


def _reopen(path: str, dtype: str, shape: tuple[int, ...], offset: int) -> FileBackedArray:
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"{path}: the memory-mapped model inputs are not on this worker's filesystem; on "
            f"several machines set GTZAN_MEMMAP_DIR to a folder every worker shares")
    # copy-on-write, as the original: in-place changes stay in this process
    return FileBackedArray(path, dtype=np.dtype(dtype), mode="c", shape=shape, offset=offset)


class _DiskStack:
    """Per-track arrays appended to a temp file, read back as one memory-mapped array (pages
    the OS can drop), so stacking costs one track of RAM, not two corpora. The file has a name
    (split tasks on other workers map it, :class:`FileBackedArray`) and is deleted when the
    array and every view of it are gone."""

    def __init__(self, directory: str | None = None):
        self._file = tempfile.NamedTemporaryFile(
            prefix="gtzan-memmap-", suffix=".f32", dir=directory or os.environ.get("GTZAN_MEMMAP_DIR"))
        self.shape: tuple[int, ...] | None = None
        self.rows = 0

    def append(self, values: np.ndarray) -> None:
        self.shape = values.shape[1:]
        self.rows += len(values)
        self._file.write(np.ascontiguousarray(values, dtype=np.float32).tobytes())

    def array(self) -> np.ndarray:
        self._file.flush()
        # copy-on-write: a caller that normalises in place changes its pages, never the file
        arr = FileBackedArray(self._file.name, dtype=np.float32, mode="c",
                              shape=(self.rows, *self.shape))
        arr.keep_file = self._file   # the file lives (and stays named) as long as the array
        return arr


def _stack(arrays_or_disk: list[np.ndarray] | _DiskStack) -> np.ndarray:
    if isinstance(arrays_or_disk, _DiskStack):
        return arrays_or_disk.array()
    return np.concatenate(arrays_or_disk)


def load_segment_samples(
    segment_tensors: dict[str, Callable[[], dict]], tensor: str, cmvn_window: int | None = None,
    max_tracks: int | None = None,
) -> SampleSet:
    """Stack one tensor kind of every track's npz into (segments, bins, frames) samples.

    A partition that cannot be read or lacks the tensor is logged with its id and skipped;
    ``cmvn_window`` applies sliding cepstral mean/variance normalisation (for MFCCs).
    """
    from gtzan_kedro.models.cnn import sliding_cmvn

    if tensor not in TENSOR_KEYS:
        raise ValueError(f"tensor must be one of {TENSOR_KEYS}, got {tensor!r}")
    arrays, labels, tracks, skipped = [], [], [], []
    keys = sorted(segment_tensors)[: max_tracks or None]
    disk: _DiskStack | None = None
    first_shape: tuple[int, ...] | None = None
    for key in tqdm(keys, desc=f"load {tensor}", unit="track"):
        try:
            data = segment_tensors[key]()
            values = np.asarray(data[tensor], dtype=np.float32)
            label, track_id = str(data["label"].reshape(-1)[0]), str(data["track_id"].reshape(-1)[0])
            if values.ndim != 3 or len(values) == 0:
                raise ValueError(f"'{tensor}' has shape {values.shape}, expected (segments, bins, frames)")
            if first_shape is not None and values.shape[1:] != first_shape:
                raise ValueError(f"'{tensor}' segments are {values.shape[1:]}, the others "
                                 f"{first_shape}")
        except Exception as exc:  # one unreadable partition must not cost the others
            logger.error("segment_tensors partition %s skipped: %s", key, exc)
            skipped.append(key)
            continue
        if cmvn_window:
            values = sliding_cmvn(values, window=int(cmvn_window))
        first_shape = values.shape[1:]
        if disk is None and values.nbytes * len(keys) > MEMMAP_BYTES:
            disk = _DiskStack()
            for earlier in arrays:
                disk.append(earlier)
            arrays = []
        if disk is not None:
            disk.append(values)
        else:
            arrays.append(values)
        labels += [label] * len(values)
        tracks += [track_id] * len(values)
    if not labels:
        raise ValueError("no usable segment_tensors partitions: run `kedro run --pipeline ingest` first")
    if skipped:
        logger.warning("%d segment_tensors partitions skipped (see errors above)", len(skipped))
    return SampleSet(_stack(disk if disk is not None else arrays)[..., np.newaxis], labels, tracks)


def load_image_samples(
    images: dict[str, Callable[[], Any]], height: int, width: int,
    valid_tracks: pd.DataFrame | None = None, max_tracks: int | None = None,
) -> SampleSet:
    """Every PNG partition (``<genre>/<name>``) resized to (height, width, 3) uint8, with its
    genre (the folder) and GTZAN track id (from the name; Kaggle's and ingest's names both work).

    With ``valid_tracks``, images of tracks the ingest quarantined are left out (and counted).
    """
    arrays, labels, tracks = [], [], []
    keys = sorted(images)
    if valid_tracks is not None:
        valid = set(valid_tracks["track_id"].astype(str))
        dropped = [k for k in keys if image_track_id(k) not in valid]
        if dropped:
            logger.warning("%d image(s) left out: their track is not in valid_tracks (e.g. %s)",
                           len(dropped), dropped[:3])
        keys = [k for k in keys if image_track_id(k) in valid]
    if max_tracks:
        kept = set(sorted({image_track_id(k) for k in keys})[:max_tracks])
        keys = [k for k in keys if image_track_id(k) in kept]
    for key in tqdm(keys, desc="load images", unit="image"):
        if "/" not in key:
            logger.error("image %s skipped: not inside a <genre>/ folder, so it has no label", key)
            continue
        try:
            arrays.append(image_array(images[key](), height, width))
        except Exception as exc:  # a corrupt PNG must not cost the others
            logger.error("image %s skipped: %s", key, exc)
            continue
        labels.append(key.split("/", 1)[0])
        tracks.append(image_track_id(key))
    if not arrays:
        raise ValueError("no usable images found: run the ingest pipeline (mel images) or check "
                         "the image folder in the catalog")
    return SampleSet(np.stack(arrays), labels, tracks)
