"""A best-model bundle says when its rows came from the synthetic sample corpus."""

from __future__ import annotations

import joblib
import pandas as pd

from gtzan_kedro.inference.provenance import PUBLISHED_ATTR, training_corpus

MANIFEST = pd.DataFrame({"filename": ["blues.00000.wav", "jazz.00001.wav"], "synthetic": [True, True]})


def _segments(*tracks: str) -> pd.DataFrame:
    """A 3-s table's filename column: each track cut into two segments."""
    return pd.DataFrame({"filename": [f"{t}.{i}.wav" for t in tracks for i in range(2)]})


def test_a_table_of_sample_clips_is_named_synthetic():
    note = training_corpus(_segments("blues.00000", "jazz.00001"), MANIFEST)
    assert note.startswith("trained on the synthetic sample corpus (2 generated tracks)")


def test_real_tables_get_no_note():
    table = _segments("blues.00000", "jazz.00001")
    assert training_corpus(table, None) == ""  # no sample corpus in data/01_raw
    assert training_corpus(_segments("rock.00007"), MANIFEST) == ""  # tracks not in the manifest
    table.attrs[PUBLISHED_ATTR] = True  # Kaggle's table, whatever the audio folder holds
    assert training_corpus(table, MANIFEST) == ""
    flagged = MANIFEST.assign(synthetic=[False, False])
    assert training_corpus(_segments("blues.00000"), flagged) == ""


def test_a_mixed_table_says_how_much_was_generated():
    table = pd.concat([_segments("blues.00000"), pd.DataFrame({"filename": ["rock.00007.wav"]})])
    note = training_corpus(table, MANIFEST)
    assert "partly" in note and "1 of 2 tracks" in note


def test_predict_says_the_model_was_trained_on_the_synthetic_corpus(model_3s, clip, tmp_path):
    from click.testing import CliRunner

    from gtzan_kedro.cli import main

    path = tmp_path / "best.pkl"
    note = training_corpus(_segments("blues.00000", "jazz.00001"), MANIFEST)
    joblib.dump({**joblib.load(model_3s), "training_note": note}, path)
    song = clip(tmp_path / "tune.wav", seconds=3.5)
    result = CliRunner().invoke(main, ["predict", str(song), "--model", str(path)])
    assert result.exit_code == 0, result.stderr
    assert "note: this model was trained on the synthetic sample corpus" in result.stderr
    result = CliRunner().invoke(main, ["predict", str(song), "--model", str(model_3s)])
    assert result.exit_code == 0 and "note:" not in result.stderr
