"""Tiny test clips and conf/base's ingest parameters, shared by the ingest tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import yaml

SR = 22050
REPO = Path(__file__).resolve().parents[3]
PARAMS = yaml.safe_load((REPO / "conf/base/parameters_ingest.yml").read_text())["ingest"]


def write_clip(path: Path, freq: float, seconds: float = 3.3, seed: int = 0) -> None:
    """A noisy sine of ``seconds`` at SR, written as 16-bit WAV (parent folders made)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    y = 0.3 * np.sin(2 * np.pi * freq * t) + 0.05 * rng.standard_normal(t.size)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, y, SR, subtype="PCM_16")
