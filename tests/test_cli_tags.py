"""`gtzan tags`: musicnn's top tags per file, JSON/table, one stderr line per bad file."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from musicnn_weights import musicnn_dir  # noqa: F401  (fixture)

from gtzan_kedro.cli import main


def _write_noise(path, seconds=4.0, sr=44100, channels=2):
    y = 0.1 * np.random.default_rng(2).standard_normal((int(seconds * sr), channels))
    sf.write(path, y, sr)


def test_tags_json_with_a_bad_file(tmp_path, musicnn_dir):
    good = tmp_path / "noise.flac"
    _write_noise(good)
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF....nonsense")
    result = CliRunner().invoke(main, ["tags", str(good), str(bad), "--model", "mtt", "--top", "4",
                                       "--format", "json", "--weights-dir", str(musicnn_dir)])
    assert result.exit_code == 1
    records = json.loads(result.stdout)
    assert [r["file"] for r in records] == [str(good), str(bad)]
    assert records[0]["error"] is None and len(records[0]["tags"]) == 4
    probs = [t["probability"] for t in records[0]["tags"]]
    assert probs == sorted(probs, reverse=True) and all(0 < p < 1 for p in probs)
    assert set(records[0]["tags"][0]) == {"tag", "probability"}
    assert records[1]["tags"] == [] and "not a readable audio file" in records[1]["error"]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "broken.wav" in errors[0]
    assert "Traceback" not in result.output + result.stderr


@pytest.mark.shared_data
def test_tags_table_names_the_genre_of_real_tracks(tmp_path, musicnn_dir, shared_data):
    for genre in ("metal", "jazz"):
        shutil.copy(shared_data(f"gtzan/audio_real/{genre}.00000.wav"), tmp_path)
    result = CliRunner().invoke(main, ["tags", str(tmp_path), "--weights-dir", str(musicnn_dir)])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    assert "jazz.00000.wav\tjazz (" in lines[0] and "metal.00000.wav\tmetal (" in lines[1]


def test_tags_without_weights_names_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.delenv("GTZAN_MUSICNN_DIR", raising=False)
    clip = tmp_path / "clip.wav"
    _write_noise(clip, seconds=1.0, channels=1)
    result = CliRunner().invoke(main, ["tags", str(clip), "--weights-dir", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "run `gtzan fetch musicnn`" in result.stderr


def test_tags_no_audio_found(tmp_path):
    result = CliRunner().invoke(main, ["tags", str(tmp_path)])
    assert result.exit_code == 2 and "no audio files found" in result.stderr
