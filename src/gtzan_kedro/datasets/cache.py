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

    ``requires`` lists the files a successfully extracted track leaves behind, as patterns with
    ``{partition}`` (e.g. ``data/04_feature/segment_tensors/{partition}.npz``) or as the
    partitioned catalog entries themselves (their ``path`` and ``filename_suffix``): an entry
    whose file was deleted also loads as ``None``, so the next run extracts that track again.
    """

    def __init__(self, path: str, requires: list[str | dict[str, Any]] | None = None,
                 metadata: dict[str, Any] | None = None):
        self._path = Path(path)
        self._requires = [_pattern(required) for required in requires or []]
        self.metadata = metadata

    def _partition_path(self, partition_id: str) -> Path:
        target = (self._path / f"{partition_id}.pkl").resolve()
        if self._path.resolve() not in target.parents:
            raise ValueError(f"cache partition {partition_id!r} escapes {self._path}")
        return target

    def load(self) -> dict[str, Callable[[], Any]]:
        if not self._path.is_dir():
            return {}
        entries = {}
        for path in sorted(self._path.rglob("*.pkl")):
            if path.name.startswith("."):
                continue
            partition_id = path.relative_to(self._path).with_suffix("").as_posix()
            required = [Path(pattern.format(partition=partition_id)) for pattern in self._requires]
            entries[partition_id] = _loader(path, required)
        return entries

    def save(self, data: dict[str, Any]) -> None:
        for partition_id, entry in data.items():
            with atomic_path(self._partition_path(partition_id)) as tmp:
                tmp.write_bytes(pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL))

    def _exists(self) -> bool:
        return self._path.is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path), "requires": self._requires}


def _pattern(required: str | dict[str, Any]) -> str:
    """A ``{partition}`` file pattern from a pattern or a partitioned dataset's config."""
    if isinstance(required, str):
        return required
    if "path" not in required:
        raise ValueError(f"TrackCacheDataset requires entry {required!r} has no path: give a "
                         "pattern with {partition} or a partitioned dataset's config")
    folder = str(required["path"]).rstrip("/").replace("{", "{{").replace("}", "}}")  # literal braces
    return f"{folder}/{{partition}}{required.get('filename_suffix', '')}"


def _loader(path: Path, required: list[Path]) -> Callable[[], Any]:
    def load_entry() -> Any:
        try:
            entry = pickle.loads(path.read_bytes())
        except Exception as exc:  # a damaged entry costs one re-extraction, not the run
            logger.warning("ignoring unreadable ingest cache entry %s (%s)", path, exc)
            return None
        missing = [str(p) for p in required if not p.exists()]
        if missing and isinstance(entry, dict) and entry.get("error") is None:
            logger.info("re-extracting %s: %s is missing", path.stem, ", ".join(missing))
            return None
        return entry

    return load_entry
