"""Kedro datasets this project needs and kedro-datasets lacks (audio folders, npz tensors, upserted tables)."""

from gtzan_kedro.datasets.audio import AudioFolderDataset
from gtzan_kedro.datasets.arrays import NpzDataset
from gtzan_kedro.datasets.comparison import ComparisonTableDataset
from gtzan_kedro.datasets.json import OptionalDataset, OptionalJSONDataset, Skipped, is_absent
from gtzan_kedro.datasets.tables import PreferExistingCSVDataset, WriteIfAbsentCSVDataset

__all__ = [
    "AudioFolderDataset",
    "ComparisonTableDataset",
    "NpzDataset",
    "OptionalDataset",
    "OptionalJSONDataset",
    "PreferExistingCSVDataset",
    "Skipped",
    "WriteIfAbsentCSVDataset",
    "is_absent",
]
