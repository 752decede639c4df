"""`gtzan predict`: table/json/csv on real and synthetic audio, one clear error per bad file."""

from __future__ import annotations

import io
import json
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from gtzan_kedro.cli import main

BLUES = "gtzan/audio_sample/blues.00099.mp3"


def _invoke(*args):
    result = CliRunner().invoke(main, ["predict", *map(str, args)])
    assert "Traceback" not in result.output + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.mark.shared_data
def test_table_on_real_gtzan_mp3(shared_data, model_30s):
    result = _invoke(shared_data(BLUES), "--model", model_30s)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "blues.00099.mp3" in out and "1 segment(s) of 30 s" in out
    first = next(line for line in out.splitlines() if line.strip().startswith("1."))
    assert first.split()[1] == "blues"  # the model was fitted on this track's published row
    assert "majority vote: blues (1 of 1 segments)" in out
    assert "logreg on 30s features" in result.stderr


@pytest.mark.shared_data
def test_json_folder_recursive_with_real_and_synthetic(shared_data, model_3s, clip, tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    shutil.copy(shared_data(BLUES), inbox / "blues.00099.mp3")
    clip(inbox / "sub" / "tune.flac", seconds=7.0, sr=44100, channels=2)
    (inbox / "sub" / "readme.txt").write_text("not picked up: not an audio extension")
    result = _invoke(inbox, "--model", model_3s, "--format", "json")
    assert result.exit_code == 0, result.stderr
    records = json.loads(result.stdout)
    assert [r["file"].rsplit("/", 1)[1] for r in records] == ["blues.00099.mp3", "tune.flac"]
    blues, tune = records
    assert blues["n_segments"] == 10 and tune["n_segments"] == 2
    assert [s["start_s"] for s in tune["segments"]] == [0.0, 3.0]
    for record in records:
        probs = [t["probability"] for t in record["top"]]
        assert len(probs) == 3 and probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-9
        assert record["genre"] == record["top"][0]["genre"]
        assert record["vote"]["of"] == record["n_segments"]
        assert 1 <= record["vote"]["votes"] <= record["n_segments"]
        assert all(0 < s["probability"] <= 1 for s in record["segments"])
    # the song's vote is the most frequent segment genre
    genres = [s["genre"] for s in blues["segments"]]
    assert genres.count(blues["vote"]["genre"]) == max(genres.count(g) for g in genres)


def test_csv_song_and_segment_rows(model_3s, clip, tmp_path):
    path = clip(tmp_path / "tune.wav", seconds=9.2)
    result = _invoke(path, "--model", model_3s, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(io.StringIO(result.stdout))
    assert list(table["level"]) == ["song", "segment", "segment", "segment"]
    assert list(table.loc[table.level == "segment", "start_s"]) == [0.0, 3.0, 6.0]
    song = table.iloc[0]
    assert song["n_segments"] == 3 and song["genre"] != song["genre_2"] != song["genre_3"]
    assert result.stdout.splitlines()[1].split(",")[11] == "3"  # a count, not "3.0"
    assert song["probability"] >= song["probability_2"] >= song["probability_3"]
    assert table["error"].isna().all()


def _truncated_wav(path, clip):
    clip(path, seconds=6.0)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


BAD_FILES = {
    "not_audio": (lambda p, clip: p.write_text("hello, I am a text file"), "not a readable audio file"),
    "empty": (lambda p, clip: p.write_bytes(b""), "empty file"),
    "truncated": (_truncated_wav, "truncated"),
    "too_short": (lambda p, clip: clip(p, seconds=1.0), "too short"),
    "silent": (lambda p, clip: clip(p, seconds=6.0, silent=True), "silent"),
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_file_is_an_error_record_and_the_batch_goes_on(kind, model_3s, clip, tmp_path):
    make, reason = BAD_FILES[kind]
    bad = tmp_path / f"{kind}.wav"
    make(bad, clip)
    good = clip(tmp_path / "good.wav", seconds=3.0)
    result = _invoke(bad, good, "--model", model_3s, "--format", "json")
    assert result.exit_code == 1
    records = json.loads(result.stdout)
    assert len(records) == 2
    assert set(records[0]) == {"file", "error"}
    assert f"{kind}.wav" in records[0]["error"] and reason in records[0]["error"]
    assert records[1]["n_segments"] == 1 and "error" not in records[1]
    assert f"{kind}.wav" in result.stderr and "1 of 2 file(s) failed" in result.stderr


def test_bad_file_in_table_format(model_3s, tmp_path):
    bad = tmp_path / "empty.mp3"
    bad.write_bytes(b"")
    result = _invoke(bad, "--model", model_3s)
    assert result.exit_code == 1
    assert "empty.mp3" in result.stdout and "error: " in result.stdout and "empty file" in result.stdout


def test_no_audio_found(tmp_path, model_3s):
    result = _invoke(tmp_path, "--model", model_3s)
    assert result.exit_code == 2 and "no audio files found" in result.stderr


def test_missing_model_file_is_a_clear_error(clip, tmp_path):
    path = clip(tmp_path / "tune.wav", seconds=3.0)
    result = _invoke(path, "--model", tmp_path / "nope.pkl")
    assert result.exit_code == 2 and "nope.pkl: no such model file" in result.stderr


def test_no_trained_model_says_how_to_train(kedro_project, clip, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(kedro_project.path)
    path = clip(kedro_project.path / "tune.wav", seconds=3.0)
    result = _invoke(path)
    assert result.exit_code == 2
    assert "no trained genre model found" in result.stderr and "make run" in result.stderr
    assert not (kedro_project.path / "mlflow.db").exists()  # looking must not create a store
