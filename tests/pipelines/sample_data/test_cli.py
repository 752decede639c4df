"""The sample_data pipeline end to end through the CLI: `kedro run --pipeline sample_data`."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
import soundfile as sf

PRSA_COLUMNS = ["No", "year", "month", "day", "hour", "pm2.5", "DEWP", "TEMP", "PRES", "cbwd",
                "Iws", "Is", "Ir"]


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
