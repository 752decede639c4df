"""Nodes of the ingest pipeline: each track is decoded once and every output computed from it."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from gtzan_kedro.audio.features import feature_rows, rows_to_table
from gtzan_kedro.audio.io import AudioError, load_audio, probe
from gtzan_kedro.audio.spectrograms import mel_image, segment_tensors
from gtzan_kedro.audio.warmup import warm_numba_cache
from gtzan_kedro.cluster import SPLIT_PRIORITY, cluster_workers
from gtzan_kedro.datasets.partitions import StreamedPartitionedDataset, WrittenPartition

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
    """Everything ingest derives from one decoded track, or why it could not (once written,
    ``tensors`` and ``image`` are :class:`WrittenPartition` handles instead of the data)."""

    track_id: str
    rows_30s: list[dict] = field(default_factory=list)
    rows_3s: list[dict] = field(default_factory=list)
    tensors: dict[str, np.ndarray] | WrittenPartition | None = None
    image: Any = None
    error: str | None = None
    transient: bool = False  # the failure was the machine's, not the file's: not cached


def extract_track(path: str, track_id: str, genre: str, params: dict[str, Any]) -> TrackResult:
    """Decode ``path`` once and compute its 30-s row, 3-s rows, tensors and mel image.

    Errors come back in ``TrackResult.error`` instead of raising, so one bad file never
    stops a parallel batch.
    """
    try:
        extractor = params.get("extractor", "fast")
        y, sr = load_audio(path, sr=params["sample_rate"], min_duration_s=params["min_duration_s"])
        rows_30s = feature_rows(y, sr, track_id, genre, extractor=extractor)
        rows_3s = feature_rows(y, sr, track_id, genre, segment_seconds=params["segment_seconds"],
                               extractor=extractor)
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


def process_track(path: str, track_id: str, genre: str, params: dict[str, Any],
                  writers: dict[str, StreamedPartitionedDataset]) -> TrackResult:
    """Extract one track and write its tensors and image where it ran (a worker process).

    Only the small feature rows travel back: ``tensors`` and ``image`` hold the
    :class:`WrittenPartition` handles, so the caller never holds a track's arrays.
    """
    result = extract_track(path, track_id, genre, params)
    if result.error is not None:
        return result
    key = _partition_id(genre, track_id)
    try:
        result.tensors = writers["segment_tensors"].write(key, result.tensors)
        result.image = writers["mel_images"].write(key, result.image)
    except Exception as exc:  # a full disk or a bad path fails this track, not the batch
        return TrackResult(track_id, error=f"could not write outputs ({type(exc).__name__}: {exc}): "
                                           "free disk space or fix the folder's permissions; the "
                                           "next run tries this track again", transient=True)
    return result


def _partition_id(genre: str, track_id: str) -> str:
    return f"{genre}/{track_id.rsplit('.', 1)[0]}"


# Parameters that change how fast or where ingest runs, never what it computes.
RUNTIME_PARAMS = ("n_jobs", "executor", "incremental")
STATS_COLUMNS = ["tracks_indexed", "tracks_ok", "tracks_cached", "tracks_extracted",
                 "tracks_failed", "extractor", "backend", "workers", "extract_seconds",
                 "seconds_per_extracted_track", "params_fingerprint"]


def extraction_fingerprint(params: dict[str, Any]) -> str:
    """A short hash of every parameter that shapes ingest's outputs (runtime knobs excluded)."""
    relevant = {k: v for k, v in params.items() if k not in RUNTIME_PARAMS}
    text = json.dumps(relevant, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def file_fingerprint(path: str) -> dict[str, Any]:
    """What says a file changed: its path, size and modification time (like make)."""
    stat = os.stat(path)
    return {"path": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _is_current(entry: Any, fingerprint: dict[str, Any], params_fp: str) -> bool:
    return (isinstance(entry, dict) and entry.get("params") == params_fp
            and entry.get("file") == fingerprint)


def _executor_settings(params: dict[str, Any]) -> tuple[str, str | None, int]:
    executor = params.get("executor") or {}
    backend = executor.get("backend", "joblib")
    if backend not in ("joblib", "dask"):
        raise ValueError(f"ingest.executor.backend must be 'joblib' or 'dask', got {backend!r}")
    n_jobs = int(params.get("n_jobs", 2))
    workers = n_jobs if n_jobs > 0 else (os.cpu_count() or 1)
    return backend, executor.get("scheduler_address"), workers


def _run_joblib(tasks: list, params: dict[str, Any], writers: dict[str, StreamedPartitionedDataset],
                workers: int) -> Iterator[tuple[Any, TrackResult]]:
    jobs = (delayed(process_track)(t.path, t.track_id, t.genre, params, writers) for t in tasks)
    yield from zip(tasks, Parallel(n_jobs=workers, return_as="generator")(jobs))


def _run_dask(tasks: list, params: dict[str, Any], writers: dict[str, StreamedPartitionedDataset],
              address: str | None, workers: int) -> Iterator[tuple[Any, TrackResult]]:
    """Submit one task per track to a dask.distributed cluster (a LocalCluster of
    ``workers`` processes when no scheduler address is given); results as they finish.

    Each worker writes its track's tensors and image itself, so the folders (like the
    audio) must be on a file system the workers share with this process."""
    from distributed import Client, LocalCluster

    from gtzan_kedro.cluster import workers_as_this_process
    from gtzan_kedro.worker_exit import exit_workers_without_teardown

    cluster = None
    if address:
        client = Client(address, timeout="30s")
    else:
        workers_as_this_process()   # set up as the Dask runner's workers are
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
        exit_workers_without_teardown(client)
    try:
        yield from _dask_results(client, tasks, params, writers)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _run_on_this_cluster(tasks: list, params: dict[str, Any],
                         writers: dict[str, StreamedPartitionedDataset]) -> Iterator[tuple[Any, TrackResult]]:
    """One task per track on the Dask cluster this node itself runs on (the Dask runner's)."""
    from distributed import worker_client

    with worker_client(separate_thread=True) as client:
        yield from _dask_results(client, tasks, params, writers)


def _dask_results(client, tasks: list, params: dict[str, Any],
                  writers: dict[str, StreamedPartitionedDataset]) -> Iterator[tuple[Any, TrackResult]]:
    """One task per track on ``client``'s cluster; results as they finish."""
    from distributed import as_completed

    logger.info("extracting on dask scheduler %s (%d workers)", client.scheduler.address,
                len(client.scheduler_info()["workers"]))
    futures = client.map(process_track, [t.path for t in tasks],
                         [t.track_id for t in tasks], [t.genre for t in tasks],
                         params=params, writers=writers, pure=False, priority=SPLIT_PRIORITY)
    task_of = dict(zip((f.key for f in futures), tasks))
    for future in as_completed(futures):
        task = task_of[future.key]
        try:
            yield task, future.result()
        except Exception as exc:  # a lost worker fails its tasks, not the whole ingest
            yield task, TrackResult(task.track_id, error=f"dask task failed: {type(exc).__name__}: {exc}",
                                    transient=True)
        future.release()


def _cached_entries(ok: pd.DataFrame, fingerprints: dict[str, dict], ingest_cache: dict[str, Callable[[], Any]],
                    params_fp: str, incremental: bool) -> tuple[dict[str, dict], list]:
    """Split the ``ok`` tracks into cache entries still current and the tracks to extract."""
    entries: dict[str, dict] = {}
    todo = []
    for track in ok.itertuples():
        key = _partition_id(track.genre, track.track_id)
        entry = ingest_cache[key]() if incremental and key in ingest_cache else None
        if _is_current(entry, fingerprints[key], params_fp):
            entries[key] = entry
        else:
            todo.append(track)
    return entries, todo


def _extract_new(todo: list, fingerprints: dict[str, dict], params_fp: str, params: dict[str, Any],
                 writers: dict[str, StreamedPartitionedDataset]) -> tuple[dict, dict, dict, dict]:
    """Extract ``todo`` on the configured executor, each worker writing its own partitions.

    Returns the new cache entries of every finished track, the subset worth caching (not
    transient failures) and the written tensor and image partitions (handles, not arrays).
    """
    backend, address, workers = _executor_settings(params)
    on_cluster = cluster_workers() >= 2  # run by the Dask runner: the tracks go to its cluster
    if workers != 1 or backend == "dask" or on_cluster:
        warm_numba_cache()  # compile once here: workers compiling at once can crash
    if on_cluster:
        results = _run_on_this_cluster(todo, params, writers)
    elif backend == "dask":
        results = _run_dask(todo, params, writers, address, workers)
    else:
        results = _run_joblib(todo, params, writers, workers)
    entries, updates, tensors, images = {}, {}, {}, {}
    for track, result in tqdm(results, total=len(todo), desc="extract", unit="track"):
        key = _partition_id(track.genre, track.track_id)
        entries[key] = {"file": fingerprints[key], "params": params_fp, "rows_30s": result.rows_30s,
                        "rows_3s": result.rows_3s, "error": result.error}
        if not result.transient:  # a lost worker or a full disk is retried on the next run
            updates[key] = entries[key]
        if result.error is None:
            tensors[key], images[key] = result.tensors, result.image
    return entries, updates, tensors, images


def _collect_rows(ok: pd.DataFrame, entries: dict[str, dict]) -> tuple[list, list, list, list]:
    """The 30-s rows, 3-s rows, failure rows and index labels of the kept tracks, in index order."""
    rows_30s, rows_3s, failures, valid = [], [], [], []
    for track in ok.itertuples():  # index order, whatever order the workers finished in
        entry = entries[_partition_id(track.genre, track.track_id)]
        if entry["error"]:
            logger.warning("quarantined %s: %s", track.path, entry["error"])
            failures.append({"track_id": track.track_id, "genre": track.genre,
                             "path": track.path, "stage": "decode", "reason": entry["error"]})
            continue
        rows_30s += entry["rows_30s"]
        rows_3s += entry["rows_3s"]
        valid.append(track.Index)
    return rows_30s, rows_3s, failures, valid


def _run_summary(track_index: pd.DataFrame, n_ok: int, n_extracted: int, n_failed: int,
                 elapsed: float, params: dict[str, Any], params_fp: str) -> pd.DataFrame:
    """The one-row ``ingest_stats`` table of a run."""
    backend, _, workers = _executor_settings(params)
    return pd.DataFrame([{
        "tracks_indexed": len(track_index), "tracks_ok": n_ok, "tracks_cached": n_ok - n_extracted,
        "tracks_extracted": n_extracted, "tracks_failed": n_failed,
        "extractor": params.get("extractor", "fast"), "backend": backend, "workers": workers,
        "extract_seconds": round(elapsed, 3),
        "seconds_per_extracted_track": round(elapsed / n_extracted, 3) if n_extracted else np.nan,
        "params_fingerprint": params_fp,
    }], columns=STATS_COLUMNS)


def extract_tracks(
    track_index: pd.DataFrame, ingest_cache: dict[str, Callable[[], Any]],
    ingest_writers: dict[str, StreamedPartitionedDataset], params: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, dict, dict, dict, pd.DataFrame]:
    """Featurise every ``ok`` track: new or changed files are decoded on the configured
    executor, the rest (same file size and mtime, same extraction parameters) come from
    the per-track cache. Each worker writes its track's tensors and image through
    ``ingest_writers`` as it finishes, so memory does not grow with the corpus.

    Returns the 30-s and 3-s Kaggle tables, the tracks that made it (valid_tracks), the
    decode/feature failures, the tensor and image partitions written in this run (lazy
    handles), their cache entries, and a one-row run summary (ingest_stats).
    """
    params_fp = extraction_fingerprint(params)
    ok = track_index[track_index.status == "ok"]
    fingerprints = {_partition_id(t.genre, t.track_id): file_fingerprint(t.path) for t in ok.itertuples()}
    entries, todo = _cached_entries(ok, fingerprints, ingest_cache, params_fp,
                                    incremental=bool(params.get("incremental", True)))
    logger.info("ingest: %d tracks to extract (%s extractor, %s backend), %d unchanged from the cache",
                len(todo), params.get("extractor", "fast"), _executor_settings(params)[0], len(entries))

    started = time.perf_counter()
    new_entries, updates, tensors, images = (_extract_new(todo, fingerprints, params_fp, params, ingest_writers)
                                             if todo else ({}, {}, {}, {}))
    elapsed = time.perf_counter() - started
    if todo:
        logger.info("extracted %d tracks in %.1f s (%.2f tracks/s, %.2f s per track)",
                    len(todo), elapsed, len(todo) / elapsed, elapsed / len(todo))

    rows_30s, rows_3s, failures, valid = _collect_rows(ok, {**entries, **new_entries})
    stats = _run_summary(track_index, len(ok), len(todo), len(failures), elapsed, params, params_fp)
    return (
        rows_to_table(rows_30s),
        rows_to_table(rows_3s),
        track_index.loc[valid].reset_index(drop=True),
        pd.DataFrame(failures, columns=REPORT_COLUMNS),
        tensors,
        images,
        updates,
        stats,
    )


def build_ingest_report(track_index: pd.DataFrame, extraction_failures: pd.DataFrame) -> pd.DataFrame:
    """One row per quarantined file with the stage that rejected it and why."""
    probed = track_index[track_index.status != "ok"].assign(stage="probe")[REPORT_COLUMNS]
    report = pd.concat([probed, extraction_failures[REPORT_COLUMNS]], ignore_index=True)
    if len(report):
        logger.warning("%d file(s) quarantined (data/08_reporting/ingest_report.csv)", len(report))
    return report


