"""CSV tables with the two policies raw data needs: never overwrite it, and prefer it."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset

from gtzan_kedro.fileio import atomic_path
from gtzan_kedro.inference.provenance import PUBLISHED_ATTR

logger = logging.getLogger(__name__)


def _write_csv(frame: pd.DataFrame, filepath: Path, save_args: dict) -> None:
    with atomic_path(filepath) as tmp:
        frame.to_csv(tmp, **{"index": False, **save_args})


class WriteIfAbsentCSVDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """A CSV that ``save`` writes only when no file is there yet (a synthetic sample must
    never replace the real file a user placed at the same path)."""

    def __init__(self, filepath: str, load_args: dict | None = None, save_args: dict | None = None,
                 metadata: dict[str, Any] | None = None):
        self._filepath = Path(filepath)
        self._load_args = load_args or {}
        self._save_args = save_args or {}
        self.metadata = metadata

    def load(self) -> pd.DataFrame:
        return pd.read_csv(self._filepath, **self._load_args)

    def save(self, data: pd.DataFrame) -> None:
        if self._filepath.exists():
            logger.info("%s exists: keeping it, the synthetic sample is not written", self._filepath)
            return
        _write_csv(data, self._filepath, self._save_args)

    def _exists(self) -> bool:
        return self._filepath.exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}


class PreferExistingCSVDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """Load ``prefer_filepath`` (e.g. Kaggle's published table) when it exists, else
    ``filepath``; save always goes to ``filepath``, so the preferred file is never touched."""

    def __init__(self, filepath: str, prefer_filepath: str, load_args: dict | None = None,
                 save_args: dict | None = None, metadata: dict[str, Any] | None = None):
        self._filepath = Path(filepath)
        self._prefer = Path(prefer_filepath)
        self._load_args = load_args or {}
        self._save_args = save_args or {}
        self.metadata = metadata

    def load(self) -> pd.DataFrame:
        source = self._prefer if self._prefer.exists() else self._filepath
        if not source.exists():
            raise FileNotFoundError(
                f"neither {self._prefer} nor {self._filepath} exists: place Kaggle's table at "
                f"{self._prefer} or run `kedro run --pipeline ingest` to extract it"
            )
        logger.info("loading feature table %s", source)
        frame = pd.read_csv(source, **self._load_args)
        # a best-model bundle records whether its rows came from the (maybe synthetic) audio
        frame.attrs[PUBLISHED_ATTR] = source == self._prefer
        return frame

    def save(self, data: pd.DataFrame) -> None:
        _write_csv(data, self._filepath, self._save_args)

    def _exists(self) -> bool:
        return self._prefer.exists() or self._filepath.exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "prefer_filepath": str(self._prefer)}
