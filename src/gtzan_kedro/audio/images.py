"""Square images of audio for the image networks: the binned-FFT picture one report fed
VGG16, and PNG loading/resizing for mel-spectrogram images."""

from __future__ import annotations

import re

import numpy as np

from gtzan_kedro.audio.io import segment_bounds

# Kaggle's images_original names drop the dot before the track number: blues00000.png.
_KAGGLE_IMAGE_STEM = re.compile(r"^([a-z]+)\.?(\d{5})$")


def binned_fft_image(
    y: np.ndarray,
    sr: int,
    size: int = 224,
    colormap: str = "brg",
    spectrum_fraction: float = 0.5,
    dynamic_range_db: float = 80.0,
) -> np.ndarray:
    """A ``size`` x ``size`` x 3 uint8 picture of a clip: ``size`` equal time bins, each
    bin's FFT magnitude (lowest ``spectrum_fraction`` of the spectrum) averaged into
    ``size`` frequency bands, in dB, coloured with ``colormap`` (low frequencies at the bottom).
    """
    from matplotlib import colormaps

    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1 or y.size < size * 4:
        raise ValueError(f"binned_fft_image needs a mono signal of at least {size * 4} samples, "
                         f"got shape {y.shape}")
    bin_len = y.size // size
    frames = y[: bin_len * size].reshape(size, bin_len) * np.hanning(bin_len).astype(np.float32)
    magnitude = np.abs(np.fft.rfft(frames, axis=1))
    keep = max(2, int(magnitude.shape[1] * spectrum_fraction))
    magnitude = magnitude[:, :keep]
    if keep >= size:
        # Equal-width bands: average each band's FFT bins (reduceat handles uneven widths).
        edges = np.linspace(0, keep, size + 1).astype(int)
        bands = np.add.reduceat(magnitude, edges[:-1], axis=1) / np.diff(edges)
    else:  # a short clip has fewer FFT bins than bands: interpolate between them
        grid = np.linspace(0, keep - 1, size)
        bands = np.stack([np.interp(grid, np.arange(keep), row) for row in magnitude])
    db = 20.0 * np.log10(bands + 1e-10)
    scaled = np.clip((db - db.max() + dynamic_range_db) / dynamic_range_db, 0.0, 1.0)
    picture = scaled.T[::-1]  # rows are frequency bands, highest at the top
    return (colormaps[colormap](picture)[..., :3] * 255).round().astype(np.uint8)


def binned_fft_slices(
    y: np.ndarray, sr: int, slice_seconds: float = 30.0, min_fraction: float = 0.9, **image_kwargs
) -> list[np.ndarray]:
    """One binned-FFT image per ``slice_seconds`` slice of a song (a 29.9-s GTZAN clip gives
    one), so a full song can be classified by majority vote over its slices."""
    bounds = segment_bounds(y.size, sr, slice_seconds, min_fraction=min_fraction)
    if not bounds:  # shorter than one slice: the whole clip is the only slice
        bounds = [(0, y.size)]
    return [binned_fft_image(y[a:b], sr, **image_kwargs) for a, b in bounds]


def image_array(image, height: int, width: int) -> np.ndarray:
    """A PIL image (or array) as a (height, width, 3) uint8 array, resized with bilinear filtering."""
    from PIL import Image

    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    image = image.convert("RGB")
    if image.size != (width, height):
        image = image.resize((width, height), Image.BILINEAR)
    return np.asarray(image, dtype=np.uint8)


def image_track_id(partition_id: str) -> str:
    """The GTZAN track a PNG belongs to: ``blues/blues00000`` (Kaggle) and
    ``blues/blues.00000`` (ingest) both give ``blues.00000.wav``; slices ``..._s1`` too."""
    stem = partition_id.rsplit("/", 1)[-1]
    stem = stem.rsplit("_s", 1)[0] if re.search(r"_s\d+$", stem) else stem
    match = _KAGGLE_IMAGE_STEM.match(stem)
    if match:
        return f"{match.group(1)}.{match.group(2)}.wav"
    return f"{stem}.wav"
