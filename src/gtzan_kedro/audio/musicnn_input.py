"""musicnn's input: 16 kHz mono log-mel spectrograms cut into 3-s patches of 187 frames.

Follows ``musicnn/extractor.py:batch_data`` of the musicnn 0.1.0 wheel, including its
float16 rounding of the mel power, but without its float16 overflow (see :func:`log_mel`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SR = 16000
N_FFT = 512
HOP = 256
N_MELS = 96
# librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1, as musicnn computes it
PATCH_FRAMES = 187
PATCH_SECONDS = PATCH_FRAMES * HOP / SR


def log_mel(y: np.ndarray, sr: int = SR) -> np.ndarray:
    """(frames, 96) log10(10000 x + 1) mel power spectrogram of a 16 kHz mono signal."""
    import librosa

    if sr != SR:
        raise ValueError(f"musicnn's input is {SR} Hz audio, got {sr} Hz; resample first")
    # pad_mode="reflect" is librosa 0.7's default, the version musicnn was trained with
    # (0.10 changed it to "constant"; only the first and last two frames differ).
    mel = librosa.feature.melspectrogram(y=np.asarray(y, dtype=np.float32), sr=SR, n_fft=N_FFT,
                                         hop_length=HOP, n_mels=N_MELS, pad_mode="reflect").T
    # musicnn's extractor rounds the mel power to float16 and then computes the log in
    # float16 too, where 10000 x overflows to inf for x > 6.55 (about 1 % of the bins of a
    # GTZAN track): we keep the rounding but take the log in float32 (docs/embeddings.md).
    mel = mel.astype(np.float16).astype(np.float32)
    return np.log10(10000 * mel + 1)


def patch_starts(n_frames: int, patch_frames: int = PATCH_FRAMES, hop_frames: int | None = None) -> list[int]:
    """First frame of each patch; musicnn drops a final partial patch."""
    hop_frames = hop_frames or patch_frames
    return list(range(0, n_frames - patch_frames + 1, hop_frames))


def to_patches(spectrogram: np.ndarray, patch_frames: int = PATCH_FRAMES,
               hop_frames: int | None = None) -> np.ndarray:
    """(n_patches, patch_frames, 96) non-overlapping patches of a (frames, 96) spectrogram.

    A clip shorter than one patch is repeated up to one patch (musicnn's training used
    "repeat-pad" for short clips), so every non-empty clip gives at least one patch.
    """
    spectrogram = np.asarray(spectrogram, dtype=np.float32)
    if spectrogram.ndim != 2 or spectrogram.shape[0] == 0:
        raise ValueError(f"expected a (frames, mels) spectrogram, got shape {spectrogram.shape}")
    if spectrogram.shape[0] < patch_frames:
        reps = int(np.ceil(patch_frames / spectrogram.shape[0]))
        spectrogram = np.tile(spectrogram, (reps, 1))[:patch_frames]
    starts = patch_starts(spectrogram.shape[0], patch_frames, hop_frames)
    return np.stack([spectrogram[s:s + patch_frames] for s in starts])


def signal_patches(y: np.ndarray, sr: int = SR) -> np.ndarray:
    """musicnn input patches of a 16 kHz mono signal."""
    return to_patches(log_mel(y, sr))


def file_patches(path: str | Path) -> np.ndarray:
    """musicnn input patches of any audio file (any format, rate, channels).

    Raises gtzan_kedro.audio.io.AudioError for files that cannot be used.
    """
    from gtzan_kedro.audio.io import load_audio

    y, sr = load_audio(path, sr=SR)
    return signal_patches(y, sr)
