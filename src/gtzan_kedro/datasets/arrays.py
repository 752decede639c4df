"""Numpy arrays in one ``.npz`` file (kedro-datasets has no numpy dataset)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from kedro.io import AbstractDataset

from gtzan_kedro.fileio import atomic_path


class NpzDataset(AbstractDataset[dict, dict]):
    """Load/save a dict of named arrays as a compressed (or plain) ``.npz``."""

    def __init__(self, filepath: str, compress: bool = False, metadata: dict[str, Any] | None = None):
        self._filepath = Path(filepath)
        self._compress = compress
        self.metadata = metadata

    def load(self) -> dict[str, np.ndarray]:
        with np.load(self._filepath, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}

    def save(self, data: dict[str, np.ndarray]) -> None:
        writer = np.savez_compressed if self._compress else np.savez
        with atomic_path(self._filepath) as tmp:
            with open(tmp, "wb") as handle:
                writer(handle, **{k: np.asarray(v) for k, v in data.items()})

    def _exists(self) -> bool:
        return self._filepath.exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "compress": self._compress}
