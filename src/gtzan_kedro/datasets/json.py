"""Datasets whose absence is an answer, not an error: an optional JSON and an optional wrapper.

``OptionalJSONDataset`` holds ``selected_features`` (data/05_model_input/selected_features.json),
written by the ``feature_selection`` pipeline and read by ``audio_models``: ``load`` returns
``None`` when the file is absent, so a model pipeline can take it as an input whether or not
feature selection has been run. The JSON form is::

    {"features": [...selected feature names, best first...],
     "selector": {...keyword arguments of gtzan_kedro.selection.transformers.FeatureSelector...},
     "fitted_on": "...which rows the selection saw...",
     "method": "...one line describing the selection..."}

``OptionalDataset`` wraps any Kedro dataset config and loads ``None`` when the wrapped data
does not exist (e.g. the 3-s table or the fault-filtered split on a machine without them).
Both write nothing when given ``None`` or a ``Skipped`` marker (a node whose input was absent).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset
from kedro.io.core import parse_dataset_definition

from gtzan_kedro.fileio import atomic_write_text

logger = logging.getLogger(__name__)


class Skipped:
    """What a node returns for a skipped analysis: Kedro refuses to save ``None`` anywhere (even
    in memory), so the optional datasets here write nothing when they receive this marker."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "Skipped()"


def is_absent(data: Any) -> bool:
    """True for ``None`` (an optional input that is not there) and for a ``Skipped`` marker."""
    return data is None or isinstance(data, Skipped)


class OptionalJSONDataset(AbstractDataset[Any, Any]):
    """A JSON file whose ``load`` returns ``None`` when it does not exist yet."""

    def __init__(self, filepath: str, save_args: dict | None = None,
                 metadata: dict[str, Any] | None = None):
        self._filepath = Path(filepath)
        self._save_args = {"indent": 2, **(save_args or {})}
        self.metadata = metadata

    def load(self) -> Any:
        if not self._filepath.exists():
            logger.info("%s does not exist: loading None", self._filepath)
            return None
        try:
            return json.loads(self._filepath.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{self._filepath} is not valid JSON ({exc}); delete it or re-run "
                             "the pipeline that writes it") from exc

    def save(self, data: Any) -> None:
        atomic_write_text(self._filepath, json.dumps(data, **self._save_args) + "\n")

    def _exists(self) -> bool:
        return self._filepath.exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}


class OptionalDataset(AbstractDataset[Any, Any]):
    """Wrap the dataset described by ``dataset`` (a catalog-style dict); ``load`` returns
    ``None`` when the wrapped dataset does not exist, and ``save(None)`` writes nothing."""

    def __init__(self, dataset: dict[str, Any] | str, metadata: dict[str, Any] | None = None):
        config = {"type": dataset} if isinstance(dataset, str) else dict(dataset)
        dataset_class, kwargs = parse_dataset_definition(config)
        self._dataset = dataset_class(**kwargs)
        self.metadata = metadata

    def load(self) -> Any:
        self._dataset.release()  # a PartitionedDataset keeps its first listing: look again
        if not self._dataset.exists():
            logger.info("%s does not exist: loading None", self._dataset)
            return None
        return self._dataset.load()

    def save(self, data: Any) -> None:
        self._dataset.save(data)

    def _exists(self) -> bool:
        return self._dataset.exists()

    def _describe(self) -> dict[str, Any]:
        return {"dataset": str(self._dataset)}


def _allow_none(save):
    """Make ``save(None)`` and ``save(Skipped())`` write nothing instead of Kedro's error."""
    def save_unless_none(self, data: Any) -> None:
        if is_absent(data):
            logger.info("nothing to save to %s: its producer was skipped", self)
            return
        save(self, data)
    save_unless_none.__doc__ = save.__doc__
    return save_unless_none


# Assigned after the class bodies because AbstractDataset wraps every ``save`` defined in a
# class body with a check that refuses None.
OptionalJSONDataset.save = _allow_none(OptionalJSONDataset.save)
OptionalDataset.save = _allow_none(OptionalDataset.save)
