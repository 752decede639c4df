"""What a model's training table was computed from, so `gtzan predict` can say when its genres
come from the synthetic sample corpus (a stand-in for GTZAN: its genres on real music mean
little)."""

from __future__ import annotations

import re

import pandas as pd

# The DataFrame.attrs key PreferExistingCSVDataset sets on a published table it loaded (e.g.
# Kaggle's), as against one ingest computed from the audio folder.
PUBLISHED_ATTR = "published_table"
_SEGMENT = re.compile(r"\.\d+(\.[A-Za-z0-9]+)$")  # blues.00000.3.wav -> blues.00000.wav


def training_corpus(table: pd.DataFrame, manifest: pd.DataFrame | None) -> str:
    """A short note when ``table``'s rows were extracted from the synthetic sample corpus
    (``manifest``: sample_corpus_manifest.csv, None when absent), else ``""``.

    A row counts as synthetic when its file (or, for a 3-s segment, its track) is listed in the
    manifest with ``synthetic`` true. A table loaded from a published file (Kaggle's) is real
    whatever the audio folder holds."""
    if manifest is None or manifest.empty or table.attrs.get(PUBLISHED_ATTR):
        return ""
    if "filename" not in manifest or "filename" not in table:
        return ""
    flags = manifest.get("synthetic", pd.Series(True, index=manifest.index))
    synthetic = set(manifest.loc[flags.astype(str).str.lower().isin(["true", "1"]), "filename"].astype(str))
    tracks = {_SEGMENT.sub(r"\1", name) if name not in synthetic else name
              for name in table["filename"].astype(str)}
    n_synthetic = len(tracks & synthetic)
    if not n_synthetic:
        return ""
    if n_synthetic == len(tracks):
        return (f"trained on the synthetic sample corpus ({n_synthetic} generated tracks), not on "
                "GTZAN: its genres for real music are not meaningful")
    return (f"trained partly on the synthetic sample corpus ({n_synthetic} of {len(tracks)} "
            "tracks generated): its genres for real music may not be meaningful")
