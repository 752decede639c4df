"""The fast extractor: an exact median filter, librosa's HPSS, and parity with the reference."""

import numpy as np
import pandas as pd
import pytest
from scipy.ndimage import median_filter

from gtzan_kedro.audio.features import (
    FEATURE_COLUMNS,
    fast_features,
    fast_hpss,
    feature_rows,
    file_feature_rows,
    get_extractor,
    median_filter_1d,
    reference_features,
)

SR = 22050
NEAR_ZERO = ("harmony_mean", "perceptr_mean")


def assert_parity(reference_rows: list[dict], fast_rows: list[dict]) -> None:
    """Every column within 1e-3 relative (1e-7 absolute for the near-zero means), tempo equal."""
    ref = pd.DataFrame(reference_rows)[FEATURE_COLUMNS].astype(float)
    fast = pd.DataFrame(fast_rows)[FEATURE_COLUMNS].astype(float)
    assert ref.shape == fast.shape
    diff = (fast - ref).abs()
    near = diff[list(NEAR_ZERO)].max()
    assert (near <= 1e-7).all(), f"near-zero means differ by more than 1e-7:\n{near}"
    relative = (diff / ref.abs()).drop(columns=list(NEAR_ZERO)).fillna(0.0).max()
    assert (relative <= 1e-3).all(), f"columns off by more than 1e-3:\n{relative.nlargest(5)}"
    assert (ref.tempo == fast.tempo).all(), f"tempo differs: {list(ref.tempo)} vs {list(fast.tempo)}"


def sample_clip(seconds: float, index: int = 0) -> np.ndarray:
    """A few seconds of the synthetic sample corpus (or a chirp in noise without it)."""
    try:
        from gtzan_kedro.audio.synth import GENRES, clip_rng, synthesize_clip
    except ImportError:
        import librosa

        rng = np.random.default_rng(index)
        y = 0.3 * librosa.chirp(fmin=110, fmax=3000, sr=SR, duration=seconds)
        return (y + 0.05 * rng.standard_normal(y.size)).astype(np.float32)
    genre = GENRES[index % len(GENRES)]
    y, _ = synthesize_clip(genre, clip_rng(0, genre, index), duration_s=seconds, sr=SR)
    return np.asarray(y, dtype=np.float32)


@pytest.mark.parametrize("shape, axis", [((40, 300), -1), ((300, 40), 0), ((3, 50, 60), -2),
                                         ((3, 50, 60), -1), ((4, 2), -1), ((4, 12), -1)])
def test_median_filter_equals_scipy_reflect(shape, axis):
    rng = np.random.default_rng(3)
    data = {"noise": rng.random(shape).astype(np.float32),
            "ties": rng.integers(0, 3, shape).astype(np.float32)}
    for name, values in data.items():
        size = [1] * len(shape)
        size[axis] = 31
        expected = median_filter(values, size=size, mode="reflect")
        np.testing.assert_array_equal(median_filter_1d(values, 31, axis), expected, err_msg=name)


def test_median_filter_rejects_even_window():
    with pytest.raises(ValueError, match="odd"):
        median_filter_1d(np.ones((4, 40), np.float32), 30, -1)


def test_fast_hpss_matches_librosa():
    import librosa

    D = librosa.stft(sample_clip(3.0, index=4))
    harm, perc = librosa.decompose.hpss(D)
    fast_harm, fast_perc = fast_hpss(D)
    scale = np.abs(D).max()
    np.testing.assert_allclose(fast_harm, harm, rtol=0, atol=1e-5 * scale)
    np.testing.assert_allclose(fast_perc, perc, rtol=0, atol=1e-5 * scale)


def test_fast_matches_reference_on_sample_clips():
    for index in (0, 6):  # a blues-like and a metal-like clip
        y = sample_clip(6.7, index)
        for seconds in (None, 3.0):
            assert_parity(feature_rows(y, SR, "clip.wav", segment_seconds=seconds),
                          feature_rows(y, SR, "clip.wav", segment_seconds=seconds, extractor="fast"))


def test_fast_batches_segments_of_unequal_length():
    y = sample_clip(8.8, index=3)  # two full 3-s segments and a 2.8-s tail
    rows = feature_rows(y, SR, "x.wav", segment_seconds=3.0, extractor=fast_features)
    assert [r["length"] for r in rows] == [66150, 66150, y.size - 2 * 66150]
    assert_parity([reference_features(y[2 * 66150:], SR)], [rows[2]])


@pytest.mark.filterwarnings("ignore:Trying to estimate tuning")
def test_silence_gives_zero_tempo_like_reference():
    y = np.zeros(3 * SR, dtype=np.float32)  # no onsets: beat_track's early return
    assert fast_features(y, SR)["tempo"] == reference_features(y, SR)["tempo"] == 0.0


def test_unknown_extractor_is_named():
    with pytest.raises(ValueError, match="'slow'.*fast"):
        get_extractor("slow")


@pytest.mark.shared_data
def test_fast_matches_reference_on_real_gtzan_mp3(shared_data):
    path = shared_data("gtzan/audio_sample/blues.00099.mp3")
    for seconds in (None, 3.0):
        assert_parity(file_feature_rows(path, "blues", seconds, extractor="reference"),
                      file_feature_rows(path, "blues", seconds, extractor="fast"))
