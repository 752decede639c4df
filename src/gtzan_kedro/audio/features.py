"""The Kaggle GTZAN feature recipe: 57 librosa features per clip, as mean and variance.

``reference_features`` is the per-feature recipe Kaggle's tables were made with (librosa
defaults at 22050 Hz: n_fft=2048, hop=512). It is the reference the fast extractor is
checked against.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gtzan_kedro.audio.io import SAMPLE_RATE, load_audio, segment_bounds

N_MFCC = 20
SPECTRAL_FEATURES = (
    "chroma_stft",
    "rms",
    "spectral_centroid",
    "spectral_bandwidth",
    "rolloff",
    "zero_crossing_rate",
    "harmony",
    "perceptr",
)
FEATURE_COLUMNS: list[str] = (
    [f"{name}_{stat}" for name in SPECTRAL_FEATURES for stat in ("mean", "var")]
    + ["tempo"]
    + [f"mfcc{i}_{stat}" for i in range(1, N_MFCC + 1) for stat in ("mean", "var")]
)
KAGGLE_COLUMNS: list[str] = ["filename", "length", *FEATURE_COLUMNS, "label"]
MFCC_COLUMNS: list[str] = [c for c in FEATURE_COLUMNS if c.startswith("mfcc")]


def _mean_var(values: np.ndarray) -> tuple[float, float]:
    return float(np.mean(values)), float(np.var(values))


def reference_features(y: np.ndarray, sr: int = SAMPLE_RATE) -> dict[str, float]:
    """The 57 Kaggle features of one clip, each librosa feature computed on its own."""
    import librosa

    feats: dict[str, float] = {}
    stats = {
        "chroma_stft": librosa.feature.chroma_stft(y=y, sr=sr),
        "rms": librosa.feature.rms(y=y),
        "spectral_centroid": librosa.feature.spectral_centroid(y=y, sr=sr),
        "spectral_bandwidth": librosa.feature.spectral_bandwidth(y=y, sr=sr),
        "rolloff": librosa.feature.spectral_rolloff(y=y, sr=sr),
        "zero_crossing_rate": librosa.feature.zero_crossing_rate(y),
    }
    harmonic, percussive = librosa.effects.hpss(y)
    stats["harmony"] = harmonic
    stats["perceptr"] = percussive
    for name in SPECTRAL_FEATURES:
        feats[f"{name}_mean"], feats[f"{name}_var"] = _mean_var(stats[name])
    tempo, _ = librosa.beat.beat_track(y=y, sr=sr)
    feats["tempo"] = float(np.atleast_1d(tempo)[0])
    mfcc = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=N_MFCC)
    for i in range(N_MFCC):
        feats[f"mfcc{i + 1}_mean"], feats[f"mfcc{i + 1}_var"] = _mean_var(mfcc[i])
    return {name: feats[name] for name in FEATURE_COLUMNS}


def segment_filename(filename: str, index: int) -> str:
    """Kaggle's 3-s naming: ``blues.00000.wav`` segment 3 -> ``blues.00000.3.wav``."""
    stem, dot, ext = filename.rpartition(".")
    if not dot:
        return f"{filename}.{index}"
    return f"{stem}.{index}.{ext}"


def feature_rows(
    y: np.ndarray,
    sr: int,
    filename: str,
    label: str | None = None,
    segment_seconds: float | None = None,
    extractor=reference_features,
) -> list[dict]:
    """Kaggle-column rows for a decoded clip: one for the whole clip, or one per segment."""
    if segment_seconds is None:
        pieces = [(filename, y)]
    else:
        pieces = [
            (segment_filename(filename, i), y[a:b])
            for i, (a, b) in enumerate(segment_bounds(y.size, sr, segment_seconds))
        ]
    rows = []
    for name, piece in pieces:
        row = {"filename": name, "length": int(piece.size)}
        row.update(extractor(piece, sr))
        row["label"] = label
        rows.append(row)
    return rows


def file_feature_rows(
    path: str | Path,
    label: str | None = None,
    segment_seconds: float | None = None,
    sr: int = SAMPLE_RATE,
    extractor=reference_features,
) -> list[dict]:
    """Decode ``path`` (any format, rate, channels) and return its Kaggle-column rows."""
    min_duration = segment_seconds or 0.5
    y, sr = load_audio(path, sr=sr, min_duration_s=min_duration * 0.9)
    filename = Path(path).name
    return feature_rows(y, sr, filename, label, segment_seconds, extractor)


def rows_to_table(rows: list[dict]) -> pd.DataFrame:
    """Rows in Kaggle's column order (``label`` as plain object strings)."""
    table = pd.DataFrame(rows, columns=KAGGLE_COLUMNS)
    table["label"] = table["label"].astype(object)
    return table
