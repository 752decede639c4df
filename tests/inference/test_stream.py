"""Long files decoded block by block: the same samples and genres as a whole-file decode."""

from __future__ import annotations

import numpy as np
import pytest

from gtzan_kedro.audio.io import SAMPLE_RATE, AudioError, load_audio, segment
from gtzan_kedro.inference.resolve import load_predictor
from gtzan_kedro.inference.stream import stream_segments


def test_blocks_give_the_whole_file_decode(clip, tmp_path):
    path = clip(tmp_path / "stereo.flac", seconds=10.0, sr=44100, channels=2)
    whole, _ = load_audio(path)
    expected = segment(whole, SAMPLE_RATE, 3.0)
    # 1.3-s blocks: block edges fall inside segments, and the resampler crosses them
    pieces = list(stream_segments(path, SAMPLE_RATE, 3.0, block_seconds=1.3))
    assert [p.size for p in pieces] == [e.size for e in expected] == [66150] * 3
    for piece, reference in zip(pieces, expected):
        assert np.max(np.abs(piece - reference)) < 1e-4
    assert len(list(stream_segments(path, SAMPLE_RATE, 3.0, max_segments=2))) == 2
    # the last piece counts from 90 % of a segment, as in segment_bounds: 3.2 s of 3.4 does,
    # 3 s of 3.5 does not
    for seconds, count in ((3.4, 3), (3.5, 2)):
        assert len(list(stream_segments(path, SAMPLE_RATE, seconds))) == count
        assert len(segment(whole, SAMPLE_RATE, seconds)) == count


def test_long_file_streamed_gives_the_same_song_genre(model_3s, clip, tmp_path):
    path = clip(tmp_path / "song.wav", seconds=12.0, sr=44100, channels=2)
    predictor = load_predictor(model_3s)
    whole = predictor.predict_file(path)
    predictor.long_file_seconds = 5.0  # anything longer is decoded in blocks
    streamed = predictor.predict_file(path)
    assert streamed["n_segments"] == whole["n_segments"] == 4
    assert [s["genre"] for s in streamed["segments"]] == [s["genre"] for s in whole["segments"]]
    assert streamed["probability"] == pytest.approx(whole["probability"], abs=1e-4)
    assert streamed["duration_s"] == whole["duration_s"] and "note" not in streamed


def test_streamed_silent_file_is_an_error(model_3s, clip, tmp_path):
    path = clip(tmp_path / "quiet.wav", seconds=7.0, silent=True)
    predictor = load_predictor(model_3s)
    predictor.long_file_seconds = 1.0
    with pytest.raises(AudioError, match="quiet.wav: silent"):
        predictor.predict_file(path)
