"""A folder of audio files in GTZAN's ``<genre>/<genre>.NNNNN.wav`` layout."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from kedro.io import AbstractDataset

from gtzan_kedro.audio.io import SUPPORTED_EXTENSIONS
from gtzan_kedro.fileio import atomic_path

logger = logging.getLogger(__name__)

# kedro-datasets has no audio dataset; soundfile writes, and the index is a plain DataFrame.


class AudioFolderDataset(AbstractDataset[dict, pd.DataFrame]):
    """Load: a table of the audio files under ``path`` (one row a file, genre = sub-folder).

    Save: a dict ``{"<genre>/<name>": (y, sr)}`` (or a callable returning it) written as
    16-bit PCM WAV files. Existing files are never overwritten unless ``overwrite`` is
    set, and with ``only_if_empty`` nothing is written into a folder that already holds
    audio, so real GTZAN audio is never mixed with the synthetic sample corpus.
    """

    def __init__(self, path: str, overwrite: bool = False, only_if_empty: bool = False,
                 subtype: str = "PCM_16", metadata: dict[str, Any] | None = None):
        self._path = Path(path)
        self._overwrite = overwrite
        self._only_if_empty = only_if_empty
        self._subtype = subtype
        self.metadata = metadata

    def load(self) -> pd.DataFrame:
        files = sorted(
            p for p in self._path.rglob("*")
            if p.is_file() and p.suffix.lower() in SUPPORTED_EXTENSIONS
        ) if self._path.exists() else []
        return pd.DataFrame(
            {
                "track_id": [p.name for p in files],
                "genre": [p.parent.name if p.parent != self._path else "" for p in files],
                "path": [str(p) for p in files],
            },
            columns=["track_id", "genre", "path"],
        ).astype({"track_id": object, "genre": object, "path": object})

    def save(self, data: dict[str, tuple[np.ndarray, int] | Callable]) -> None:
        import soundfile as sf

        if self._only_if_empty and len(self.load()):
            logger.info("%s already holds audio: no synthetic clips written", self._path)
            return
        written = kept = 0
        for key, value in data.items():
            has_ext = Path(key).suffix.lower() in SUPPORTED_EXTENSIONS  # "blues.00000" is a stem
            target = self._path / (key if has_ext else f"{key}.wav")
            if target.exists() and not self._overwrite:
                kept += 1
                continue
            y, sr = value() if callable(value) else value
            with atomic_path(target) as tmp:
                sf.write(str(tmp), np.asarray(y), int(sr), subtype=self._subtype, format="WAV")
            written += 1
        logger.info("%s: wrote %d audio files, kept %d existing ones", self._path, written, kept)

    def _exists(self) -> bool:
        return self._path.exists() and any(self._path.rglob("*.*"))

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path), "overwrite": self._overwrite}
