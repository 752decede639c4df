"""Per-segment spectrogram tensors for the CNNs and the per-track mel-spectrogram image."""

from __future__ import annotations

import numpy as np

from gtzan_kedro.audio.io import one_blas_thread, segment_bounds


def _fit_frames(matrix: np.ndarray, n_frames: int) -> np.ndarray:
    """Pad (edge) or cut the time axis to ``n_frames`` so every segment has one shape."""
    if matrix.shape[-1] >= n_frames:
        return matrix[..., :n_frames]
    pad = [(0, 0)] * (matrix.ndim - 1) + [(0, n_frames - matrix.shape[-1])]
    return np.pad(matrix, pad, mode="edge")


@one_blas_thread
def segment_tensors(
    y: np.ndarray,
    sr: int,
    segment_seconds: float = 3.0,
    n_fft: int = 2048,
    hop_length: int = 512,
    n_mels: int = 128,
    stft_n_fft: int = 1024,
    n_mfcc: int = 20,
) -> dict[str, np.ndarray]:
    """Log-mel, log-STFT-magnitude and MFCC tensors, one slice per ``segment_seconds``.

    Returns ``mel`` (n, n_mels, frames) float16 dB, ``stft`` (n, stft_n_fft//2+1, frames)
    float16 dB, ``mfcc`` (n, n_mfcc, frames) float32 and ``start_s`` (n,).
    """
    import librosa

    n_frames = 1 + int(round(segment_seconds * sr)) // hop_length
    mels, stfts, mfccs, starts = [], [], [], []
    for start, stop in segment_bounds(y.size, sr, segment_seconds):
        piece = y[start:stop]
        power = np.abs(librosa.stft(piece, n_fft=n_fft, hop_length=hop_length)) ** 2
        mel = librosa.feature.melspectrogram(S=power, sr=sr, n_mels=n_mels)
        mel_db = librosa.power_to_db(mel, ref=np.max)
        mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=n_mfcc)
        magnitude = np.abs(librosa.stft(piece, n_fft=stft_n_fft, hop_length=hop_length))
        stft_db = librosa.amplitude_to_db(magnitude, ref=np.max)
        mels.append(_fit_frames(mel_db, n_frames))
        mfccs.append(_fit_frames(mfcc, n_frames))
        stfts.append(_fit_frames(stft_db, n_frames))
        starts.append(start / sr)
    return {
        "mel": np.asarray(mels, dtype=np.float16).reshape(-1, n_mels, n_frames),
        "stft": np.asarray(stfts, dtype=np.float16).reshape(-1, stft_n_fft // 2 + 1, n_frames),
        "mfcc": np.asarray(mfccs, dtype=np.float32).reshape(-1, n_mfcc, n_frames),
        "start_s": np.asarray(starts, dtype=np.float32),
    }


@one_blas_thread
def mel_image(
    y: np.ndarray,
    sr: int,
    width: int = 432,
    height: int = 288,
    colormap: str = "magma",
    n_mels: int = 128,
    n_fft: int = 2048,
    hop_length: int = 512,
):
    """A ``width`` x ``height`` RGB PIL image of the clip's log-mel spectrogram (low
    frequencies at the bottom), the shape of Kaggle's images_original PNGs."""
    import librosa
    from matplotlib import colormaps
    from PIL import Image

    mel = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels)
    mel_db = librosa.power_to_db(mel, ref=np.max)
    scaled = np.clip((mel_db + 80.0) / 80.0, 0.0, 1.0)[::-1]
    rgb = (colormaps[colormap](scaled)[..., :3] * 255).astype(np.uint8)
    return Image.fromarray(rgb).resize((width, height), Image.BILINEAR)
