"""The sample_data pipeline in-process (SequentialRunner on a DataCatalog of temp folders),
and its split helper."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
import soundfile as sf
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from gtzan_kedro.audio.synth import GENRES
from gtzan_kedro.datasets import AudioFolderDataset, WriteIfAbsentCSVDataset
from gtzan_kedro.pipelines.sample_data import create_pipeline
from gtzan_kedro.pipelines.sample_data.nodes import stratified_split, write_sample_corpus

FRACTIONS = {"train": 0.48, "valid": 0.21, "test": 0.31}
PARAMS = {"n_per_genre": 2, "duration_s": 1.0, "sample_rate": 22050, "seed": 42,
          "genres": ["blues", "metal"], "split_fractions": FRACTIONS,
          "prsa": {"seed": 42, "start": "2010-01-01", "end": "2010-01-03"}}


def make_catalog(root) -> DataCatalog:
    """The sample_data entries of conf/base/catalog.yml on a temp folder."""
    catalog = DataCatalog({
        "genres_original": AudioFolderDataset(str(root / "genres_original"), only_if_empty=True),
        "fault_filtered_split": WriteIfAbsentCSVDataset(str(root / "fault_filtered_split.csv")),
        "pm25_raw": WriteIfAbsentCSVDataset(str(root / "prsa.csv"), save_args={"na_rep": "NA"}),
        "sample_corpus_manifest": MemoryDataset(),
    })
    catalog["params:sample_data"] = PARAMS
    return catalog


def test_pipeline_in_process_writes_the_corpus_once(tmp_path):
    catalog = make_catalog(tmp_path)
    SequentialRunner().run(create_pipeline(), catalog)
    wavs = sorted((tmp_path / "genres_original").rglob("*.wav"))
    assert [p.relative_to(tmp_path / "genres_original").as_posix() for p in wavs] == [
        f"{g}/{g}.{i:05d}.wav" for g in ("blues", "metal") for i in range(2)]
    assert all(sf.info(p).frames == 22050 for p in wavs)
    manifest = catalog.load("sample_corpus_manifest")
    assert list(manifest.filename) == [p.name for p in wavs] and manifest.synthetic.all()
    split = pd.read_csv(tmp_path / "fault_filtered_split.csv")
    assert set(split.filename) == set(manifest.filename) and set(split.split) <= {"train", "valid", "test"}
    assert len(pd.read_csv(tmp_path / "prsa.csv")) == 3 * 24

    digests = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in wavs}
    SequentialRunner().run(create_pipeline(), make_catalog(tmp_path))  # a second run keeps every file
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in wavs} == digests


def _manifest(n_per_genre: int) -> pd.DataFrame:
    return pd.DataFrame({
        "filename": [f"{g}.{i:05d}.wav" for g in GENRES for i in range(n_per_genre)],
        "genre": [g for g in GENRES for _ in range(n_per_genre)],
    })


def test_split_is_stratified_with_the_real_proportions():
    split = stratified_split(_manifest(100), FRACTIONS, seed=0)
    assert list(split.columns) == ["filename", "split"]
    assert len(split) == 1000 and split.filename.is_unique
    genre = split.filename.str.split(".").str[0]
    counts = pd.crosstab(genre, split.split)
    assert (counts["train"] == 48).all() and (counts["valid"] == 21).all() and (counts["test"] == 31).all()
    assert stratified_split(_manifest(100), FRACTIONS, seed=0).equals(split)
    assert not stratified_split(_manifest(100), FRACTIONS, seed=1).equals(split)


@pytest.mark.parametrize("fractions", [{"train": 0.5, "valid": 0.5}, {"train": 0.6, "valid": 0.3, "test": 0.3}])
def test_split_rejects_bad_fractions(fractions):
    with pytest.raises(ValueError, match="split_fractions"):
        stratified_split(_manifest(3), fractions, seed=0)


def test_node_is_lazy_and_its_manifest_describes_every_clip():
    params = {"n_per_genre": 3, "duration_s": 1.0, "sample_rate": 22050, "seed": 1,
              "genres": ["blues", "metal"], "split_fractions": FRACTIONS}
    clips, manifest, split = write_sample_corpus(params)
    assert sorted(clips) == [f"{g}/{g}.{i:05d}.wav" for g in ("blues", "metal") for i in range(3)]
    assert all(callable(v) for v in clips.values())
    y, sr = clips["metal/metal.00002.wav"]()
    assert sr == 22050 and y.shape == (22050,)
    assert list(manifest.filename) == [k.split("/")[1] for k in sorted(clips)]
    assert manifest.synthetic.all() and {"tempo_bpm", "key", "groove", "instruments"} <= set(manifest.columns)
    assert set(split.filename) == set(manifest.filename)
    with pytest.raises(ValueError, match="unknown genres"):
        write_sample_corpus({**params, "genres": ["polka"]})


