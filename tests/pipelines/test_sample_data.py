"""The sample_data pipeline: the split helper, and an end-to-end `kedro run` on a tiny corpus."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
import soundfile as sf

from gtzan_kedro.audio.synth import GENRES
from gtzan_kedro.pipelines.sample_data.nodes import stratified_split, write_sample_corpus

FRACTIONS = {"train": 0.48, "valid": 0.21, "test": 0.31}
PRSA_COLUMNS = ["No", "year", "month", "day", "hour", "pm2.5", "DEWP", "TEMP", "PRES", "cbwd",
                "Iws", "Is", "Ir"]


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


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.e2e
def test_sample_data_run_writes_the_corpus_and_never_overwrites(kedro_project):
    kedro_project.write_conf("local/parameters_sample_data.yml", """
sample_data:
  n_per_genre: 2
  duration_s: 4.0
  genres: [blues, classical, hiphop, metal]
  prsa:
    end: "2010-02-28"
""")
    raw = kedro_project.path / "data" / "01_raw"
    # A real-looking split a user placed before running: it must stay untouched.
    real_split = raw / "gtzan" / "fault_filtered_split.csv"
    real_split.parent.mkdir(parents=True, exist_ok=True)
    real_split.write_text("filename,split\nblues.00029.wav,train\njazz.00054.wav,test\n")
    placed = _digest(real_split)

    result = kedro_project.run("--pipeline", "sample_data")
    assert "SYNTHETIC" in result.stdout + result.stderr

    wavs = sorted((raw / "gtzan" / "genres_original").rglob("*.wav"))
    expected = [f"{g}/{g}.{i:05d}.wav" for g in ("blues", "classical", "hiphop", "metal") for i in range(2)]
    assert [str(p.relative_to(raw / "gtzan" / "genres_original")) for p in wavs] == expected
    for path in wavs:
        info = sf.info(path)
        assert (info.samplerate, info.channels, info.subtype, info.frames) == (22050, 1, "PCM_16", 4 * 22050)

    manifest = pd.read_csv(raw / "gtzan" / "sample_corpus_manifest.csv")
    assert list(manifest.filename) == [p.name for p in wavs]
    assert manifest.synthetic.all() and (manifest.seed == 42).all()
    assert manifest.tempo_bpm.between(40, 220).all()

    assert _digest(real_split) == placed

    prsa = pd.read_csv(raw / "pm25" / "PRSA_data_2010.1.1-2014.12.31.csv")
    assert list(prsa.columns) == PRSA_COLUMNS
    assert len(prsa) == (31 + 28) * 24
    assert set(prsa.cbwd.dropna()) <= {"NE", "NW", "SE", "cv"}
    prsa_text = (raw / "pm25" / "PRSA_data_2010.1.1-2014.12.31.csv").read_text()
    assert prsa["pm2.5"].isna().sum() == prsa_text.count(",NA,") > 0  # gaps written as the UCI file does

    # A second run keeps every existing file: same bytes, never rewritten (same mtime).
    kept = [*wavs, raw / "pm25" / "PRSA_data_2010.1.1-2014.12.31.csv", real_split]
    before = {p: (_digest(p), p.stat().st_mtime_ns) for p in kept}
    kedro_project.run("--pipeline", "sample_data")
    assert {p: (_digest(p), p.stat().st_mtime_ns) for p in kept} == before
    assert _digest(real_split) == placed
