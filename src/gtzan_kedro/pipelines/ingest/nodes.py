"""Nodes of the ingest pipeline: each track is decoded once and every output computed from it."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from gtzan_kedro.audio.features import feature_rows, rows_to_table
from gtzan_kedro.audio.io import AudioError, load_audio, probe
from gtzan_kedro.audio.spectrograms import mel_image, segment_tensors

logger = logging.getLogger(__name__)

INDEX_COLUMNS = ["track_id", "genre", "path", "duration_s", "sample_rate", "channels", "status", "reason"]
REPORT_COLUMNS = ["track_id", "genre", "path", "stage", "reason"]


def index_tracks(genres_original: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Probe every audio file's header; files that are unreadable, empty or too short are
    marked ``quarantined`` with the reason (the run goes on with the others)."""
    rows = []
    for track in tqdm(genres_original.itertuples(index=False), total=len(genres_original),
                      desc="index", unit="file"):
        row = {"track_id": track.track_id, "genre": track.genre, "path": track.path,
               "duration_s": np.nan, "sample_rate": np.nan, "channels": np.nan,
               "status": "ok", "reason": ""}
        try:
            info = probe(track.path)
            row.update(duration_s=round(info.duration_s, 3), sample_rate=info.sample_rate,
                       channels=info.channels)
            if info.duration_s < params["min_duration_s"]:
                raise AudioError(track.path, f"too short: {info.duration_s:.2f} s, at least "
                                             f"{params['min_duration_s']:.2f} s needed")
            if not track.genre:
                raise AudioError(track.path, "not inside a <genre>/ folder: no label")
        except AudioError as exc:
            row.update(status="quarantined", reason=exc.reason)
            logger.warning("quarantined %s", exc)
        rows.append(row)
    index = pd.DataFrame(rows, columns=INDEX_COLUMNS).astype(
        {"sample_rate": "Int64", "channels": "Int64"}
    )
    logger.info("indexed %d audio files: %d ok, %d quarantined", len(index),
                int((index.status == "ok").sum()), int((index.status != "ok").sum()))
    if index.empty:
        logger.warning("no audio files found: run `kedro run --pipeline sample_data` or place "
                       "GTZAN's genres_original/ under data/01_raw/gtzan/")
    return index


@dataclass
class TrackResult:
    """Everything ingest derives from one decoded track, or why it could not."""

    track_id: str
    rows_30s: list[dict] = field(default_factory=list)
    rows_3s: list[dict] = field(default_factory=list)
    tensors: dict[str, np.ndarray] | None = None
    image: Any = None
    error: str | None = None


def process_track(path: str, track_id: str, genre: str, params: dict[str, Any]) -> TrackResult:
    """Decode ``path`` once and compute its 30-s row, 3-s rows, tensors and mel image.

    Errors come back in ``TrackResult.error`` instead of raising, so one bad file never
    stops a parallel batch.
    """
    try:
        y, sr = load_audio(path, sr=params["sample_rate"], min_duration_s=params["min_duration_s"])
        rows_30s = feature_rows(y, sr, track_id, genre)
        rows_3s = feature_rows(y, sr, track_id, genre, segment_seconds=params["segment_seconds"])
        tensors = segment_tensors(y, sr, segment_seconds=params["segment_seconds"],
                                  **params["spectrograms"])
        tensors["label"] = np.array([genre])
        tensors["track_id"] = np.array([track_id])
        image = mel_image(y, sr, **params["image"])
        return TrackResult(track_id, rows_30s, rows_3s, tensors, image)
    except AudioError as exc:
        return TrackResult(track_id, error=exc.reason)
    except Exception as exc:  # a bug or an odd file must not cost the other tracks
        return TrackResult(track_id, error=f"{type(exc).__name__}: {exc}")


def _partition_id(genre: str, track_id: str) -> str:
    return f"{genre}/{track_id.rsplit('.', 1)[0]}"


def extract_tracks(
    track_index: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, dict, dict]:
    """Decode and featurise every ``ok`` track on ``n_jobs`` cores.

    Returns the 30-s and 3-s Kaggle tables, the tracks that made it (valid_tracks), the
    decode/feature failures, and the tensor and image partitions.
    """
    todo = track_index[track_index.status == "ok"]
    started = time.perf_counter()
    jobs = (delayed(process_track)(t.path, t.track_id, t.genre, params) for t in todo.itertuples())
    results = Parallel(n_jobs=params.get("n_jobs", 2), return_as="generator")(jobs)
    rows_30s, rows_3s, failures, tensors, images, valid = [], [], [], {}, {}, []
    for track, result in tqdm(zip(todo.itertuples(), results), total=len(todo),
                              desc="extract", unit="track"):
        if result.error:
            logger.warning("quarantined %s: %s", track.path, result.error)
            failures.append({"track_id": track.track_id, "genre": track.genre,
                             "path": track.path, "stage": "decode", "reason": result.error})
            continue
        rows_30s += result.rows_30s
        rows_3s += result.rows_3s
        key = _partition_id(track.genre, track.track_id)
        tensors[key] = result.tensors
        images[key] = result.image
        valid.append(track.Index)
    elapsed = time.perf_counter() - started
    if len(todo):
        logger.info("extracted %d tracks in %.1f s (%.2f tracks/s, %.2f s per track)",
                    len(valid), elapsed, len(todo) / elapsed, elapsed / len(todo))
    return (
        rows_to_table(rows_30s),
        rows_to_table(rows_3s),
        track_index.loc[valid].reset_index(drop=True),
        pd.DataFrame(failures, columns=REPORT_COLUMNS),
        tensors,
        images,
    )


def build_ingest_report(track_index: pd.DataFrame, extraction_failures: pd.DataFrame) -> pd.DataFrame:
    """One row per quarantined file with the stage that rejected it and why."""
    probed = track_index[track_index.status != "ok"].assign(stage="probe")[REPORT_COLUMNS]
    report = pd.concat([probed, extraction_failures[REPORT_COLUMNS]], ignore_index=True)
    if len(report):
        logger.warning("%d file(s) quarantined (data/08_reporting/ingest_report.csv)", len(report))
    return report


