"""End to end: `kedro run --pipeline ingest` on a tiny corpus with deliberately bad files."""

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from PIL import Image

from gtzan_kedro.audio.features import KAGGLE_COLUMNS

SR = 22050
GENRES = ("blues", "metal")


def _write_corpus(root, seconds=6.2):
    rng = np.random.default_rng(7)
    t = np.arange(int(seconds * SR)) / SR
    for g, genre in enumerate(GENRES):
        for i in range(2):
            folder = root / genre
            folder.mkdir(parents=True, exist_ok=True)
            y = 0.3 * np.sin(2 * np.pi * (110 * (g + 1) + 40 * i) * t) + 0.05 * rng.standard_normal(t.size)
            sf.write(folder / f"{genre}.0000{i}.wav", y, SR, subtype="PCM_16")
    jazz = root / "jazz"
    jazz.mkdir()
    (jazz / "jazz.00054.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt garbage")  # GTZAN's broken file
    sf.write(jazz / "jazz.00001.wav", np.zeros(SR * 4), SR)  # silent
    sf.write(jazz / "jazz.00002.wav", 0.2 * np.sin(2 * np.pi * 440 * t[: SR]), SR)  # too short


@pytest.mark.e2e
def test_ingest_end_to_end(kedro_project):
    raw = kedro_project.path / "data" / "01_raw" / "gtzan" / "genres_original"
    _write_corpus(raw)
    kedro_project.write_conf("local/parameters_ingest.yml", "ingest:\n  n_jobs: 2\n")
    kedro_project.run("--pipeline", "ingest")
    data = kedro_project.path / "data"

    t30 = pd.read_csv(data / "03_primary" / "features_30_sec.csv")
    t3 = pd.read_csv(data / "03_primary" / "features_3_sec.csv")
    assert list(t30.columns) == KAGGLE_COLUMNS and list(t3.columns) == KAGGLE_COLUMNS
    assert sorted(t30.filename) == ["blues.00000.wav", "blues.00001.wav", "metal.00000.wav", "metal.00001.wav"]
    assert len(t3) == 4 * 2 and "blues.00000.1.wav" in set(t3.filename)
    assert set(t30.label) == set(GENRES)
    assert t30.drop(columns=["filename", "label"]).notna().all().all()

    report = pd.read_csv(data / "08_reporting" / "ingest_report.csv")
    reasons = dict(zip(report.track_id, report.reason))
    assert set(reasons) == {"jazz.00054.wav", "jazz.00001.wav", "jazz.00002.wav"}
    assert "not a readable audio file" in reasons["jazz.00054.wav"]
    assert "silent" in reasons["jazz.00001.wav"]
    assert "too short" in reasons["jazz.00002.wav"]

    index = pd.read_csv(data / "02_intermediate" / "track_index.csv")
    assert len(index) == 7 and {"duration_s", "sample_rate", "channels", "status"} <= set(index.columns)

    tensors = np.load(data / "04_feature" / "segment_tensors" / "blues" / "blues.00000.npz")
    assert tensors["mel"].shape == (2, 128, 130)
    assert tensors["stft"].shape == (2, 513, 130)
    assert tensors["mfcc"].shape == (2, 20, 130)
    assert list(tensors["start_s"]) == [0.0, 3.0]
    assert str(tensors["label"][0]) == "blues"

    image = Image.open(data / "03_primary" / "images_original" / "metal" / "metal.00001.png")
    assert image.size == (432, 288)
    assert not (kedro_project.path / "data" / "04_feature" / "segment_tensors" / "jazz").exists()
    assert (kedro_project.path / "mlflow.db").exists()
