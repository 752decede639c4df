"""Loading, validation and segmentation of audio files."""

import numpy as np
import pytest
import soundfile as sf

from gtzan_kedro.audio.io import (
    AudioError,
    find_audio_files,
    load_audio,
    probe,
    segment,
    segment_bounds,
)


def _tone(seconds, sr=22050, freq=440.0, channels=1):
    t = np.arange(int(seconds * sr)) / sr
    y = 0.3 * np.sin(2 * np.pi * freq * t)
    return np.stack([y] * channels, axis=1) if channels > 1 else y


def test_load_resamples_to_22050_mono(tmp_path):
    path = tmp_path / "stereo44k.flac"
    sf.write(path, _tone(2.0, sr=44100, channels=2), 44100)
    y, sr = load_audio(path)
    assert sr == 22050
    assert y.ndim == 1
    assert abs(y.size - 2 * 22050) <= 2
    assert y.dtype == np.float32


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda p: p.write_bytes(b""), "empty file"),
        (lambda p: p.write_bytes(b"RIFF\x00\x00not really a wave file"), "not a readable audio file"),
        (lambda p: sf.write(p, np.zeros(22050 * 4), 22050), "silent"),
        (lambda p: sf.write(p, _tone(1.0), 22050), "too short"),
    ],
)
def test_bad_files_raise_audio_error_naming_file(tmp_path, make, reason):
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises(AudioError) as err:
        load_audio(path, min_duration_s=3.0)
    assert reason in err.value.reason
    assert str(path) in str(err.value)


def test_truncated_wav_is_detected(tmp_path):
    path = tmp_path / "cut.wav"
    sf.write(path, _tone(5.0), 22050)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])  # header still promises 5 s
    with pytest.raises(AudioError):
        load_audio(path)


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="file not found"):
        probe(tmp_path / "nope.wav")


def test_segment_bounds_keep_nearly_full_tail():
    sr = 22050
    # a 29.93-s GTZAN clip still yields Kaggle's ten 3-s segments
    bounds = segment_bounds(int(29.93 * sr), sr, 3.0)
    assert len(bounds) == 10
    assert bounds[0] == (0, 66150)
    assert all(b - a == 66150 for a, b in bounds[:-1])
    # a 7-s clip: two full segments, the 1-s tail is dropped
    assert len(segment(np.zeros(7 * sr), sr, 3.0)) == 2


def test_find_audio_files_recurses_and_filters(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/x.wav", "a/b/y.MP3", "a/notes.txt", "z.au"):
        (tmp_path / name).write_bytes(b"x")
    found = {p.name for p in find_audio_files([tmp_path])}
    assert found == {"x.wav", "y.MP3", "z.au"}
