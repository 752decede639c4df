"""Nodes of the sample_data pipeline: the synthetic corpus is planned here and rendered
lazily by the audio dataset, one clip at a time, so 100 clips never sit in memory."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from gtzan_kedro.audio.synth import GENRES, clip_rng, plan_clip, synthesize_clip, track_key

logger = logging.getLogger(__name__)

SPLITS = ("train", "valid", "test")


class _ClipRenderer:
    """Callables that render clips on demand and share one progress bar and throughput log."""

    def __init__(self, total: int, seed: int, duration_s: float, sr: int):
        self.total, self.seed, self.duration_s, self.sr = total, seed, duration_s, sr
        self.done = 0
        self._bar: tqdm | None = None
        self._started = 0.0

    def clip(self, genre: str, index: int) -> Callable[[], tuple[np.ndarray, int]]:
        def render() -> tuple[np.ndarray, int]:
            if self._bar is None:
                self._bar = tqdm(total=self.total, desc="synthesize clips", unit="clip")
                self._started = time.perf_counter()
            y, _ = synthesize_clip(genre, clip_rng(self.seed, genre, index), self.duration_s, self.sr)
            self.done += 1
            self._bar.update()
            if self.done == self.total:
                self._bar.close()
                elapsed = time.perf_counter() - self._started
                logger.info("synthesized %d SYNTHETIC clips in %.1f s (%.2f clips/s)",
                            self.done, elapsed, self.done / max(elapsed, 1e-9))
            return y, self.sr

        return render


def stratified_split(manifest: pd.DataFrame, fractions: dict[str, float], seed: int) -> pd.DataFrame:
    """A predefined ``filename,split`` table, stratified by genre, in the format of GTZAN's
    fault-filtered split file."""
    missing = set(SPLITS) - set(fractions)
    if missing or any(fractions[s] < 0 for s in SPLITS) or not np.isclose(sum(fractions[s] for s in SPLITS), 1.0):
        raise ValueError(f"sample_data.split_fractions must give non-negative train, valid and test "
                         f"fractions summing to 1, got {fractions}")
    rng = np.random.default_rng(seed)
    rows = []
    for genre, group in manifest.groupby("genre", sort=False):
        names = group["filename"].to_numpy(dtype=object)[rng.permutation(len(group))]
        n_train = int(round(fractions["train"] * len(names)))
        n_valid = int(round(fractions["valid"] * len(names)))
        n_valid = min(n_valid, len(names) - n_train)
        labels = ["train"] * n_train + ["valid"] * n_valid + ["test"] * (len(names) - n_train - n_valid)
        rows += list(zip(names, labels))
    split = pd.DataFrame(rows, columns=["filename", "split"]).sort_values("filename", kind="stable")
    return split.reset_index(drop=True)


def write_sample_corpus(params: dict[str, Any]) -> tuple[dict[str, Callable], pd.DataFrame, pd.DataFrame]:
    """The synthetic GTZAN-shaped corpus: lazy clips for ``genres_original``, a manifest of
    every clip's musical parameters, and a genre-stratified predefined split."""
    n_per_genre = int(params["n_per_genre"])
    duration_s = float(params["duration_s"])
    sr = int(params["sample_rate"])
    seed = int(params["seed"])
    genres = tuple(params.get("genres") or GENRES)
    if n_per_genre < 1:
        raise ValueError(f"sample_data.n_per_genre must be at least 1, got {n_per_genre}")
    unknown = sorted(set(genres) - set(GENRES))
    if unknown:
        raise ValueError(f"sample_data.genres has unknown genres {unknown}: use GTZAN's {list(GENRES)}")

    renderer = _ClipRenderer(n_per_genre * len(genres), seed, duration_s, sr)
    clips, rows = {}, []
    for genre in genres:
        for index in range(n_per_genre):
            key = track_key(genre, index)
            # ".wav" explicitly: "blues.00000" alone reads as a name with suffix ".00000".
            clips[f"{key}.wav"] = renderer.clip(genre, index)
            meta = plan_clip(genre, clip_rng(seed, genre, index), duration_s, sr).meta()
            rows.append({"filename": key.split("/")[1] + ".wav", **meta, "seed": seed, "synthetic": True})
    manifest = pd.DataFrame(rows)
    split = stratified_split(manifest, params["split_fractions"], seed)
    logger.warning(
        "sample_data writes a SYNTHETIC music corpus (%d genres x %d clips of %.0f s, seed %d), "
        "not GTZAN: place the real genres_original/ under data/01_raw/gtzan/ for real results",
        len(genres), n_per_genre, duration_s, seed,
    )
    return clips, manifest, split


def write_sample_prsa(params: dict[str, Any]) -> pd.DataFrame:
    """A SYNTHETIC hourly table in the UCI PRSA format for ``pm25_raw``."""
    from gtzan_kedro.pm25.synth import synthetic_prsa

    cfg = params.get("prsa", {})
    frame = synthetic_prsa(seed=int(cfg.get("seed", params["seed"])),
                           start=str(cfg.get("start", "2010-01-01")), end=str(cfg.get("end", "2014-12-31")))
    logger.warning("sample_data writes a SYNTHETIC PRSA-format PM2.5 table (%d hourly rows), not the "
                   "UCI Beijing data: place PRSA_data_2010.1.1-2014.12.31.csv under data/01_raw/pm25/ "
                   "for real results", len(frame))
    return frame
