"""`gtzan features`: Kaggle rows on stdout, one clear stderr line per bad file."""

import io
import json

import numpy as np
import pandas as pd
import soundfile as sf
from click.testing import CliRunner

from gtzan_kedro.audio.features import KAGGLE_COLUMNS
from gtzan_kedro.cli import main


def _write_tone(path, seconds=6.5, sr=44100, channels=2):
    t = np.arange(int(seconds * sr)) / sr
    y = 0.2 * np.sin(2 * np.pi * 330 * t) + 0.02 * np.random.default_rng(1).standard_normal(t.size)
    sf.write(path, np.stack([y] * channels, axis=1), sr)


def test_features_csv_and_bad_file(tmp_path):
    good = tmp_path / "good.flac"
    _write_tone(good)
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF....nonsense")
    result = CliRunner().invoke(main, ["features", str(good), str(bad), "--segment-seconds", "3"])
    assert result.exit_code == 1
    table = pd.read_csv(io.StringIO(result.stdout))
    assert list(table.columns) == KAGGLE_COLUMNS
    assert list(table.filename) == ["good.0.flac", "good.1.flac"]
    assert "broken.wav" in result.stderr and "not a readable audio file" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_features_json_whole_file(tmp_path):
    path = tmp_path / "clip.wav"
    _write_tone(path, seconds=4.0, sr=22050, channels=1)
    result = CliRunner().invoke(main, ["features", str(tmp_path), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    records = json.loads(result.stdout)
    assert len(records) == 1 and records[0]["filename"] == "clip.wav"
    assert records[0]["length"] == 4 * 22050
    assert set(records[0]) == set(KAGGLE_COLUMNS)


def test_features_no_audio_found(tmp_path):
    result = CliRunner().invoke(main, ["features", str(tmp_path)])
    assert result.exit_code == 2
    assert "no audio files found" in result.stderr
