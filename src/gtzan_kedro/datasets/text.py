"""A text file written atomically (report.html): a browser open on it never reads half a page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset

from gtzan_kedro.fileio import atomic_path


class AtomicTextDataset(AbstractDataset[str, str]):
    """A UTF-8 text file; ``save`` writes a temp file beside it and renames it over the target
    (kedro-datasets' ``text.TextDataset`` writes in place)."""

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None):
        self._filepath = Path(filepath)
        self.metadata = metadata

    def load(self) -> str:
        return self._filepath.read_text(encoding="utf-8")

    def save(self, data: str) -> None:
        with atomic_path(self._filepath) as tmp:
            tmp.write_text(data, encoding="utf-8")  # not the locale's: the page holds ± and –
            tmp.chmod(0o644)  # mkstemp's 0600 would hide a page meant to be read by others

    def _exists(self) -> bool:
        return self._filepath.exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
