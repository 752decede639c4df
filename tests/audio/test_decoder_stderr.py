"""A cut mp3: the project's error line reaches the user, mpg123's own C-level stderr warnings
("Xing stream size off by more than 1%...") go to the log at DEBUG instead of the terminal."""

import logging

import pytest
from click.testing import CliRunner

from gtzan_kedro.audio.io import AudioError, load_audio
from gtzan_kedro.cli import main
from gtzan_kedro.inference.stream import stream_segments

XING = "Xing stream size off by more than 1%"


@pytest.fixture
def truncated_mp3(shared_data, tmp_path):
    """The real blues.00099.mp3 cut to its first 100 kB (10 of its 30 s), like `head -c`."""
    path = tmp_path / "trunc.mp3"
    path.write_bytes(shared_data("gtzan/audio_sample/blues.00099.mp3").read_bytes()[:100_000])
    return path


@pytest.mark.shared_data
def test_features_on_a_cut_mp3_prints_the_error_line_only(truncated_mp3, capfd, caplog):
    caplog.set_level(logging.DEBUG, logger="gtzan_kedro.audio.io")
    result = CliRunner().invoke(main, ["features", str(truncated_mp3)])
    terminal = capfd.readouterr().err
    assert result.exit_code == 1
    assert "trunc.mp3: truncated: header says 30.01 s, decoded 10.11 s" in result.stderr
    assert XING not in terminal + result.stderr
    assert XING in caplog.text and "trunc.mp3: decoder messages" in caplog.text


@pytest.mark.shared_data
def test_the_streaming_decoder_keeps_it_out_too(truncated_mp3, capfd):
    with pytest.raises(AudioError, match="truncated"):
        list(stream_segments(truncated_mp3, 22050, 3.0))
    with pytest.raises(AudioError, match="truncated"):
        load_audio(truncated_mp3)
    assert XING not in capfd.readouterr().err


def test_stderr_is_restored_after_a_decode(tmp_path, capfd):
    import os

    import numpy as np
    import soundfile as sf

    path = tmp_path / "ok.wav"
    sf.write(path, 0.1 * np.sin(np.arange(22050) / 5.0), 22050)
    load_audio(path)
    os.write(2, b"after the decode\n")
    assert "after the decode" in capfd.readouterr().err
