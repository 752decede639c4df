"""Tiny, learnable inputs for the image_models and multimodal end-to-end runs: segment npz
partitions, mel PNGs, short WAVs, a valid_tracks table, a split file and 3-s feature rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gtzan_kedro.audio.features import FEATURE_COLUMNS

GENRES = ("blues", "rock")
TRACKS_PER_GENRE = 5
SEGMENTS = 3


def write_tiny_inputs(root: Path, sr: int = 22050) -> list[str]:
    """Write everything image_models/multimodal read into the data layers under ``root``;
    returns the track ids. Genre k has energy in band k, so one epoch can learn something."""
    import soundfile as sf
    from PIL import Image

    rng = np.random.default_rng(0)
    data = root / "data"
    rows_valid, rows_split, rows_3s, track_ids = [], [], [], []
    for g, genre in enumerate(GENRES):
        for n in range(TRACKS_PER_GENRE):
            stem = f"{genre}.{n:05d}"
            track_id = f"{stem}.wav"
            track_ids.append(track_id)
            tensors = {
                "mel": rng.normal(-40, 5, (SEGMENTS, 128, 130)),
                "stft": rng.normal(-40, 5, (SEGMENTS, 513, 130)),
                "mfcc": rng.normal(0, 1, (SEGMENTS, 20, 130)),
            }
            tensors["mel"][:, 20 + 40 * g: 40 + 40 * g] += 30
            tensors["stft"][:, 50 + 200 * g: 100 + 200 * g] += 30
            tensors["mfcc"][:, 2 + 8 * g: 6 + 8 * g] += 3 * np.sin(np.arange(130) / (3 + 5 * g))
            part = data / "04_feature" / "segment_tensors" / genre / f"{stem}.npz"
            part.parent.mkdir(parents=True, exist_ok=True)
            np.savez(part, mel=tensors["mel"].astype(np.float16), stft=tensors["stft"].astype(np.float16),
                     mfcc=tensors["mfcc"].astype(np.float32),
                     start_s=np.arange(SEGMENTS, dtype=np.float32) * 3,
                     label=np.array([genre]), track_id=np.array([track_id]))
            picture = rng.integers(0, 60, (288, 432, 3), dtype=np.uint8)
            picture[40 + 120 * g: 120 + 120 * g] += 150
            image = data / "03_primary" / "images_original" / genre / f"{stem}.png"
            image.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(picture).save(image)
            t = np.arange(int(3.2 * sr)) / sr
            wav = data / "01_raw" / "gtzan" / "genres_original" / genre / track_id
            wav.parent.mkdir(parents=True, exist_ok=True)
            tone = 0.3 * np.sin(2 * np.pi * (220 if g == 0 else 3000) * t) + 0.01 * rng.normal(size=t.size)
            sf.write(wav, tone.astype(np.float32), sr)
            rows_valid.append({"track_id": track_id, "genre": genre, "path": str(wav), "duration_s": 3.2,
                               "sample_rate": sr, "channels": 1, "status": "ok", "reason": ""})
            rows_split.append({"filename": track_id, "split": ["train", "train", "valid", "test", "test"][n]})
            for s in range(SEGMENTS):
                feats = rng.normal(g, 1.0, len(FEATURE_COLUMNS))
                rows_3s.append({"filename": f"{stem}.{s}.wav", "length": 66149,
                                **dict(zip(FEATURE_COLUMNS, feats)), "label": genre})
    for layer in ("02_intermediate", "03_primary"):
        (data / layer).mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows_valid).to_csv(data / "02_intermediate" / "valid_tracks.csv", index=False)
    pd.DataFrame(rows_split).to_csv(data / "01_raw" / "gtzan" / "fault_filtered_split.csv", index=False)
    pd.DataFrame(rows_3s).to_csv(data / "03_primary" / "features_3_sec.csv", index=False)
    return track_ids
