"""The per-track extraction cache behind incremental ingest, as a Kedro dataset."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset

from gtzan_kedro.fileio import atomic_path

logger = logging.getLogger(__name__)


class TrackCacheDataset(AbstractDataset[dict[str, Any], dict[str, Callable[[], Any]]]):
    """One pickle per track (``<genre>/<stem>.pkl``) holding its feature rows and fingerprint.

    Unlike ``partitions.PartitionedDataset`` it loads as an empty dict before the first run,
    writes each entry atomically, and an unreadable entry loads as ``None`` (that track is
    simply extracted again). Loading is lazy: ``{partition_id: loader}``.
    """

    def __init__(self, path: str, metadata: dict[str, Any] | None = None):
        self._path = Path(path)
        self.metadata = metadata

    def _partition_path(self, partition_id: str) -> Path:
        target = (self._path / f"{partition_id}.pkl").resolve()
        if self._path.resolve() not in target.parents:
            raise ValueError(f"cache partition {partition_id!r} escapes {self._path}")
        return target

    def load(self) -> dict[str, Callable[[], Any]]:
        if not self._path.is_dir():
            return {}
        return {
            path.relative_to(self._path).with_suffix("").as_posix(): _loader(path)
            for path in sorted(self._path.rglob("*.pkl"))
            if not path.name.startswith(".")
        }

    def save(self, data: dict[str, Any]) -> None:
        for partition_id, entry in data.items():
            with atomic_path(self._partition_path(partition_id)) as tmp:
                tmp.write_bytes(pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL))

    def _exists(self) -> bool:
        return self._path.is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}


def _loader(path: Path) -> Callable[[], Any]:
    def load_entry() -> Any:
        try:
            return pickle.loads(path.read_bytes())
        except Exception as exc:  # a damaged entry costs one re-extraction, not the run
            logger.warning("ignoring unreadable ingest cache entry %s (%s)", path, exc)
            return None

    return load_entry
