"""Kedro datasets this project needs and kedro-datasets lacks (audio folders, npz tensors,
streamed partitions, the ingest cache, upserted tables, atomically written text)."""

from gtzan_kedro.datasets.audio import AudioFolderDataset
from gtzan_kedro.datasets.arrays import NpzDataset
from gtzan_kedro.datasets.cache import TrackCacheDataset
from gtzan_kedro.datasets.comparison import ComparisonTableDataset
from gtzan_kedro.datasets.json import OptionalDataset, OptionalJSONDataset, Skipped, is_absent
from gtzan_kedro.datasets.partitions import (
    PartitionWritersDataset,
    StreamedPartitionedDataset,
    WrittenPartition,
)
from gtzan_kedro.datasets.tables import PreferExistingCSVDataset, WriteIfAbsentCSVDataset
from gtzan_kedro.datasets.text import AtomicTextDataset

__all__ = [
    "AtomicTextDataset",
    "AudioFolderDataset",
    "ComparisonTableDataset",
    "NpzDataset",
    "OptionalDataset",
    "OptionalJSONDataset",
    "PartitionWritersDataset",
    "PreferExistingCSVDataset",
    "Skipped",
    "StreamedPartitionedDataset",
    "TrackCacheDataset",
    "WriteIfAbsentCSVDataset",
    "WrittenPartition",
    "is_absent",
]
