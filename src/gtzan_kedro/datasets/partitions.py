"""Partitioned folders a node fills one partition at a time while it runs."""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass
from typing import Any

from kedro.io import AbstractDataset, DatasetError
from kedro_datasets.partitions import PartitionedDataset


class StreamedPartitionedDataset(PartitionedDataset):
    """A ``partitions.PartitionedDataset`` (same layout, same lazy load) that a node may write
    partition by partition before it returns, so a corpus never sits in memory at once.

    ``write(partition_id, data)`` saves one partition and returns a :class:`WrittenPartition`,
    which loads it back lazily; saving a ``WrittenPartition`` of this folder again is a no-op.
    The dataset pickles, so a worker process can write the partitions it computed.
    """

    def __init__(self, **kwargs: Any):
        if kwargs.get("overwrite"):
            # overwrite would delete the folder after the node has already filled it
            raise DatasetError(f"StreamedPartitionedDataset at {kwargs.get('path')!r} cannot take "
                               "overwrite: true; delete the folder before the run instead")
        super().__init__(**kwargs)

    def partition_path(self, partition_id: str) -> str:
        """The file a partition id maps to (the folder, the id and the filename suffix)."""
        return self._partition_to_path(partition_id)

    def _partition_dataset(self, partition_id: str) -> AbstractDataset:
        kwargs = deepcopy(self._dataset_config)
        kwargs[self._filepath_arg] = self._join_protocol(self.partition_path(partition_id))
        return self._dataset_type(**kwargs)

    def write(self, partition_id: str, data: Any) -> WrittenPartition:
        """Save one partition now; the result stands for it in the node's output."""
        self._partition_dataset(partition_id).save(data)
        return WrittenPartition(self, partition_id)

    def load_partition(self, partition_id: str) -> Any:
        """Load one partition by id."""
        return self._partition_dataset(partition_id).load()

    def save(self, data: dict[str, Any]) -> None:
        pending = {key: value for key, value in data.items()
                   if not (isinstance(value, WrittenPartition) and value.is_in(self, key))}
        super().save(pending)


@dataclass(frozen=True)
class WrittenPartition:
    """A partition already on disk; calling it loads it (like a PartitionedDataset loader)."""

    dataset: StreamedPartitionedDataset
    partition_id: str

    def __call__(self) -> Any:
        return self.dataset.load_partition(self.partition_id)

    def is_in(self, dataset: StreamedPartitionedDataset, partition_id: str) -> bool:
        """Whether saving it as ``partition_id`` of ``dataset`` would rewrite the same file."""
        return dataset.partition_path(partition_id) == self.dataset.partition_path(self.partition_id)


class PartitionWritersDataset(AbstractDataset[None, dict[str, StreamedPartitionedDataset]]):
    """Read-only: hands a node ``{name: StreamedPartitionedDataset}`` built from the catalog
    entries it will write (given by YAML anchor, so each folder is configured once)."""

    def __init__(self, partitions: dict[str, dict[str, Any]], metadata: dict[str, Any] | None = None):
        self._partitions = deepcopy(partitions)
        self.metadata = metadata

    def load(self) -> dict[str, StreamedPartitionedDataset]:
        writers = {}
        for name, config in self._partitions.items():
            dataset = AbstractDataset.from_config(name, deepcopy(config))
            if not isinstance(dataset, StreamedPartitionedDataset):
                raise DatasetError(f"partition writer {name!r} has type {type(dataset).__name__}: give "
                                   "it type gtzan_kedro.datasets.StreamedPartitionedDataset")
            writers[name] = dataset
        return writers

    def save(self, data: Any) -> None:
        raise DatasetError("PartitionWritersDataset is read-only: a node writes through the "
                           "datasets it loads, its outputs are the partitioned entries themselves")

    def _describe(self) -> dict[str, Any]:
        return {"partitions": {name: config.get("path") for name, config in self._partitions.items()}}
