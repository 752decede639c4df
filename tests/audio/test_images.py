"""Binned-FFT images (the report's VGG16 input) and image helpers."""

import numpy as np
import pytest
from PIL import Image

from gtzan_kedro.audio.images import binned_fft_image, binned_fft_slices, image_array, image_track_id

SR = 22050


def _tone(freq, seconds=30.0):
    t = np.arange(int(seconds * SR)) / SR
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_binned_fft_image_is_224_square_rgb_in_byte_range():
    rng = np.random.default_rng(0)
    y = _tone(440) + 0.01 * rng.normal(size=30 * SR).astype(np.float32)
    picture = binned_fft_image(y, SR)
    assert picture.shape == (224, 224, 3) and picture.dtype == np.uint8
    assert picture.min() >= 0 and picture.max() <= 255
    assert len(np.unique(picture.reshape(-1, 3), axis=0)) > 10  # not a flat colour


def test_binned_fft_puts_a_tone_in_the_right_band():
    # lower half of the spectrum = 0..sr/4 over 224 bands; 1 kHz -> band 1000/(5512.5/224) ~ 40.6
    picture = binned_fft_image(_tone(1000.0), SR, colormap="gray")
    loudness = picture[..., 0].astype(float).mean(axis=1)[::-1]  # row 0 = lowest band
    assert abs(int(np.argmax(loudness)) - 40) <= 1


def test_binned_fft_time_bins_follow_the_signal():
    noise = np.random.default_rng(1).normal(0, 0.1, 15 * SR).astype(np.float32)
    y = np.concatenate([noise, np.zeros(15 * SR, np.float32)])
    picture = binned_fft_image(y, SR, colormap="gray")[..., 0].astype(float)
    assert picture[:, :100].mean() > 150  # broadband noise lights every band
    assert picture[:, 125:].max() == 0     # silence in the second half is the floor


def test_binned_fft_slices_one_per_30_s_and_short_clips():
    assert len(binned_fft_slices(_tone(440, 29.93), SR)) == 1
    assert len(binned_fft_slices(_tone(440, 61), SR, size=64)) == 2
    assert binned_fft_slices(_tone(440, 3), SR, size=64)[0].shape == (64, 64, 3)
    with pytest.raises(ValueError, match="mono signal"):
        binned_fft_image(np.zeros(100, np.float32), SR)


def test_image_array_resizes_and_drops_alpha():
    rgba = Image.fromarray(np.full((288, 432, 4), 200, np.uint8), mode="RGBA")
    out = image_array(rgba, 72, 108)
    assert out.shape == (72, 108, 3) and out.dtype == np.uint8 and out.max() == 200


@pytest.mark.parametrize("partition, track", [
    ("blues/blues00000", "blues.00000.wav"),      # Kaggle's images_original names
    ("blues/blues.00000", "blues.00000.wav"),     # the ingest's names
    ("hiphop/hiphop.00012_s1", "hiphop.00012.wav"),  # binned-FFT slice 1
    ("rock/my song", "my song.wav"),
])
def test_image_track_id(partition, track):
    assert image_track_id(partition) == track
