"""The model comparison table: every model pipeline upserts its rows into one CSV (+ Markdown)."""

from __future__ import annotations

import fcntl
import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from kedro.io import AbstractDataset

from gtzan_kedro.evaluation.runner import COMPARISON_COLUMNS
from gtzan_kedro.fileio import atomic_path, atomic_write_text

logger = logging.getLogger(__name__)

KEY = ["model", "features", "protocol"]


@contextmanager
def _locked(path: Path):
    """Serialise read-modify-write of the table across pipelines running at the same time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def to_markdown(frame: pd.DataFrame, digits: int = 3) -> str:
    """A GitHub-flavoured Markdown table (written by hand: pandas needs tabulate for this)."""
    def cell(value: Any) -> str:
        if isinstance(value, float | np.floating):
            return "" if np.isnan(value) else f"{value:.{digits}f}"
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |",
             "| " + " | ".join("---" for _ in frame.columns) + " |"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"


class ComparisonTableDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """CSV whose ``save`` upserts rows by (model, features, protocol) instead of overwriting.

    Each model pipeline has its own catalog entry pointing at the same file, so rows accumulate
    across pipelines; a re-run replaces its own rows and keeps the others. A Markdown copy is
    written beside the CSV (same stem, ``.md``). ``load`` of a missing file is an empty table.
    """

    def __init__(self, filepath: str, markdown_filepath: str | None = None,
                 metadata: dict[str, Any] | None = None):
        self._filepath = Path(filepath)
        self._markdown = Path(markdown_filepath) if markdown_filepath else self._filepath.with_suffix(".md")
        self.metadata = metadata

    def _read(self) -> pd.DataFrame:
        if not self._filepath.exists():
            return pd.DataFrame(columns=COMPARISON_COLUMNS)
        try:
            return pd.read_csv(self._filepath)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise ValueError(f"{self._filepath} is not a readable CSV ({exc}); move it away and "
                             "re-run the model pipelines to rebuild it") from exc

    def load(self) -> pd.DataFrame:
        return self._read()

    def save(self, data: pd.DataFrame) -> None:
        data = pd.DataFrame(data)
        missing = [c for c in COMPARISON_COLUMNS if c not in data.columns]
        if missing:
            raise ValueError(f"rows for {self._filepath} lack columns {missing}")
        if data.duplicated(KEY).any():
            raise ValueError(f"rows for {self._filepath} repeat a (model, features, protocol) key: "
                             f"{data.loc[data.duplicated(KEY, keep=False), KEY].values.tolist()}")
        with _locked(self._filepath):
            existing = self._read()
            if not existing.empty:
                keys = pd.MultiIndex.from_frame(data[KEY].astype(str))
                stale = pd.MultiIndex.from_frame(existing[KEY].astype(str)).isin(keys)
                existing = existing.loc[~stale]
            frames = [f for f in (existing, data) if not f.empty]
            table = pd.concat(frames, ignore_index=True) if frames else data
            extras = [c for c in table.columns if c not in COMPARISON_COLUMNS]
            table = table[COMPARISON_COLUMNS + extras]
            table = table.sort_values(["features", "protocol", "accuracy_mean"],
                                      ascending=[True, True, False], kind="stable")
            with atomic_path(self._filepath) as tmp:
                table.to_csv(tmp, index=False)
            atomic_write_text(self._markdown, to_markdown(table[COMPARISON_COLUMNS]))
        logger.info("%s: upserted %d rows (%d in total)", self._filepath, len(data), len(table))

    def _exists(self) -> bool:
        return self._filepath.exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "markdown_filepath": str(self._markdown)}
