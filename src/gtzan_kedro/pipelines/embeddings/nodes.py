"""Nodes of the embeddings pipeline: pretrained musicnn embeddings of every valid track."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

logger = logging.getLogger(__name__)

# Feature-set names: musicnn_<tag set>_<pooling> (track level) and ..._3s (one row per patch).
TAG_SETS = {"msd": "MSD_musicnn", "mtt": "MTT_musicnn"}
POOLINGS = {"meanpool": "mean_pool", "maxpool": "max_pool", "penultimate": "penultimate"}
FEATURE_SETS = tuple(f"musicnn_{t}_{p}" for t in TAG_SETS for p in POOLINGS)
# Parameters that change how fast or where the embeddings are computed, never their values.
RUNTIME_PARAMS = ("n_jobs", "batch_size", "incremental", "weights_dir", "auto_fetch")
# Bump when the port or its input changes the numbers for the same weights and parameters.
PORT_VERSION = 1
STATS_COLUMNS = ["tracks_valid", "tracks_cached", "tracks_embedded", "tracks_failed", "workers",
                 "embed_seconds", "seconds_per_embedded_track", "params_fingerprint"]


def embedding_fingerprint(params: dict[str, Any], wheel_sha256: str) -> str:
    """A short hash of the weights and every parameter that shapes the embeddings."""
    relevant = {k: v for k, v in params.items() if k not in RUNTIME_PARAMS}
    text = json.dumps({"params": relevant, "weights": wheel_sha256, "port": PORT_VERSION},
                      sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def file_fingerprint(path: str) -> dict[str, Any]:
    """What says a file changed: its path, size and modification time (as ingest does)."""
    stat = os.stat(path)
    return {"path": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def weights_dir(params: dict[str, Any]):
    """The unpacked musicnn weights; fetched with pip first when absent and ``auto_fetch`` is on."""
    from gtzan_kedro import fetch

    try:
        return fetch.musicnn_weights_dir(params.get("weights_dir"))
    except fetch.FetchError:
        if not params.get("auto_fetch", False):
            raise
        target = params.get("weights_dir") or os.environ.get(fetch.MUSICNN_CACHE_ENV) or fetch.MUSICNN_CACHE_DIR
        logger.info("musicnn weights not found: fetching them into %s (pip download musicnn==%s)",
                    target, fetch.MUSICNN_VERSION)
        return fetch.fetch_musicnn(target)


@lru_cache(maxsize=4)
def _extractor(model_name: str, weights: str, batch_size: int, threads: int):
    """One loaded model per worker process (joblib's workers are reused across tracks)."""
    import tensorflow as tf

    from gtzan_kedro.models.musicnn import MusicnnExtractor

    if threads:
        try:  # only possible before TF's first op in this process
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:
            pass
    return MusicnnExtractor(model_name, weights, batch_size=batch_size)


def embed_track(path: str, model_names: tuple[str, ...], weights: str, batch_size: int,
                threads: int = 0) -> dict[str, Any]:
    """Per-patch embeddings of one file for each model, or the reason it failed (never raises)."""
    from gtzan_kedro.audio.io import AudioError
    from gtzan_kedro.audio.musicnn_input import file_patches

    try:
        patches = file_patches(path)
        outputs = {}
        for name in model_names:
            out = _extractor(name, weights, batch_size, threads).patch_outputs(patches)
            outputs[name] = {k: v.astype(np.float32) for k, v in out.items() if k != "tags"}
        return {"outputs": outputs, "error": None}
    except AudioError as exc:
        return {"outputs": None, "error": exc.reason}
    except Exception as exc:  # an odd file must not cost the other tracks
        return {"outputs": None, "error": f"{type(exc).__name__}: {exc}"}


def _partition_id(genre: str, track_id: str) -> str:
    return f"{genre}/{track_id.rsplit('.', 1)[0]}"


def _patch_name(track_id: str, index: int) -> str:
    """Kaggle's 3-s row name: blues.00000.wav -> blues.00000.3.wav."""
    stem, _, ext = track_id.rpartition(".")
    return f"{stem}.{index}.{ext}" if stem else f"{track_id}.{index}"


def embedding_tables(tracks: list[tuple[str, str]], entries: dict[str, dict]) -> dict[str, pd.DataFrame]:
    """Feature tables ``musicnn_<set>_<pooling>`` (one row per track: mean over patches) and
    ``..._3s`` (one row per 3-s patch), columns filename, label, emb_0 .. emb_<d-1>."""
    tables = {}
    for tag_set, model_name in TAG_SETS.items():
        for pooling, output in POOLINGS.items():
            names, labels, track_rows, patch_names, patch_labels, patch_rows = [], [], [], [], [], []
            for track_id, genre in tracks:
                values = entries[_partition_id(genre, track_id)]["outputs"][model_name][output]
                names.append(track_id)
                labels.append(genre)
                track_rows.append(values.mean(axis=0))
                patch_names += [_patch_name(track_id, i) for i in range(len(values))]
                patch_labels += [genre] * len(values)
                patch_rows.append(values)
            dim = len(track_rows[0]) if track_rows else 0
            columns = [f"emb_{i}" for i in range(dim)]
            key = f"musicnn_{tag_set}_{pooling}"
            tables[key] = _table(names, labels, np.array(track_rows).reshape(-1, dim), columns)
            tables[f"{key}_3s"] = _table(patch_names, patch_labels,
                                         np.concatenate(patch_rows) if patch_rows else np.empty((0, dim)),
                                         columns)
    return tables


def _table(names: list[str], labels: list[str], values: np.ndarray, columns: list[str]) -> pd.DataFrame:
    head = pd.DataFrame({"filename": names, "label": labels})
    return pd.concat([head, pd.DataFrame(values.astype(np.float32), columns=columns)], axis=1)


def embed_tracks(valid_tracks: pd.DataFrame, embeddings_cache: dict[str, Callable[[], Any]],
                 params: dict[str, Any]) -> dict[str, Any]:
    """musicnn embeddings of every valid track: new or changed files (or new weights or
    parameters) are embedded in ``n_jobs`` processes, the rest come from the per-track cache.

    Returns the feature tables by name (see :func:`embedding_tables`), the new cache entries
    (``embeddings_cache_updates``) and a one-row run summary (``embeddings_stats``). Tracks
    that fail are logged and left out of the tables.
    """
    from gtzan_kedro import fetch

    weights = str(weights_dir(params))
    params_fp = embedding_fingerprint(params, fetch.MUSICNN_WHEEL_SHA256)
    model_names = tuple(TAG_SETS.values())
    incremental = bool(params.get("incremental", True))
    n_jobs = int(params.get("n_jobs", 1))
    workers = n_jobs if n_jobs > 0 else (os.cpu_count() or 1)
    batch_size = int(params.get("batch_size", 32))

    entries, todo, fingerprints = {}, [], {}
    for track in valid_tracks.itertuples(index=False):
        key = _partition_id(track.genre, track.track_id)
        fingerprints[key] = file_fingerprint(track.path)
        entry = embeddings_cache[key]() if incremental and key in embeddings_cache else None
        if isinstance(entry, dict) and entry.get("params") == params_fp and entry.get("file") == fingerprints[key]:
            entries[key] = entry
        else:
            todo.append(track)
    logger.info("embeddings: %d tracks to embed with %s (%d workers), %d unchanged from the cache",
                len(todo), ", ".join(model_names), min(workers, max(len(todo), 1)), len(entries))

    updates = {}
    started = time.perf_counter()
    if todo:
        if workers == 1 or len(todo) == 1:
            results = (embed_track(t.path, model_names, weights, batch_size) for t in todo)
        else:
            # one TF thread per worker: the workers already fill the cores
            jobs = (delayed(embed_track)(t.path, model_names, weights, batch_size, 1) for t in todo)
            results = Parallel(n_jobs=min(workers, len(todo)), return_as="generator")(jobs)
        for track, result in tqdm(zip(todo, results), total=len(todo), desc="embeddings", unit="track"):
            key = _partition_id(track.genre, track.track_id)
            entries[key] = updates[key] = {"file": fingerprints[key], "params": params_fp, **result}
    elapsed = time.perf_counter() - started

    kept, failed = [], 0
    for track in valid_tracks.itertuples(index=False):  # index order, whatever order workers finished
        entry = entries[_partition_id(track.genre, track.track_id)]
        if entry["error"]:
            failed += 1
            logger.warning("no embeddings for %s: %s", track.path, entry["error"])
        else:
            kept.append((track.track_id, track.genre))
    if todo:
        logger.info("embedded %d tracks in %.1f s (%.2f s per track)", len(todo), elapsed, elapsed / len(todo))
    stats = pd.DataFrame([{
        "tracks_valid": len(valid_tracks), "tracks_cached": len(valid_tracks) - len(todo),
        "tracks_embedded": len(todo), "tracks_failed": failed, "workers": workers,
        "embed_seconds": round(elapsed, 3),
        "seconds_per_embedded_track": round(elapsed / len(todo), 3) if todo else np.nan,
        "params_fingerprint": params_fp,
    }], columns=STATS_COLUMNS)
    return {**embedding_tables(kept, entries), "embeddings_cache_updates": updates, "embeddings_stats": stats}


def probe_embedding(feature_set: str) -> dict[str, str]:
    """What a probe's feature set is made of: ``musicnn_msd_maxpool_3s`` -> the MSD_musicnn
    model's ``max_pool`` output, one row per 3-s patch (``level: patch``; else ``track``)."""
    parts = feature_set.split("_")
    level = "patch" if parts[-1] == "3s" else "track"
    parts = parts[:-1] if level == "patch" else parts
    if len(parts) != 3 or parts[0] != "musicnn" or parts[1] not in TAG_SETS or parts[2] not in POOLINGS:
        raise ValueError(f"embedding feature set {feature_set!r} is not musicnn_<{'|'.join(TAG_SETS)}>_"
                         f"<{'|'.join(POOLINGS)}>[_3s]; fix embedding_probes.feature_sets")
    return {"model": TAG_SETS[parts[1]], "output": POOLINGS[parts[2]], "level": level}


def select_best_probe(models: dict[str, dict], evaluation: dict[str, Any],
                      tables: dict[str, pd.DataFrame], per_split: list[pd.DataFrame],
                      manifest: pd.DataFrame | None = None) -> dict[str, Any]:
    """Refit the probe with the best mean holdout accuracy on all rows of its embedding table,
    as a bundle `gtzan predict` can use (it names the musicnn output to compute from audio).
    ``manifest`` (the sample corpus's, None when absent): the bundle says when it was trained
    on synthetic clips."""
    from gtzan_kedro.evaluation.tabular import refit_on_all_rows
    from gtzan_kedro.inference.provenance import training_corpus
    from gtzan_kedro.models.baselines import NETWORK_KINDS, build_estimator
    from gtzan_kedro.templates.feature_models_nodes import NON_FEATURE_COLUMNS

    frames = [f for f in per_split if f is not None and not f.empty]
    if not frames:
        raise ValueError("no per-split metrics of any embedding probe: nothing to save")
    scores = (pd.concat(frames, ignore_index=True)
              .groupby(["model", "features", "protocol"], as_index=False)["accuracy"].mean())
    holdout = scores[(scores["protocol"] == "holdout") & scores["features"].isin(list(tables))
                     & scores["model"].map(lambda m: m in models and models[m]["kind"] not in NETWORK_KINDS)]
    if holdout.empty:
        raise ValueError("no embedding probe was scored on the holdout protocol; nothing to save")
    # ties: the first in the order the parameters list them (stable sort)
    best = holdout.sort_values("accuracy", ascending=False, kind="stable").iloc[0]
    name, features = str(best["model"]), str(best["features"])
    table = tables[features]
    columns = [c for c in table.select_dtypes("number").columns if c not in NON_FEATURE_COLUMNS]
    estimator = build_estimator(models[name], evaluation.get("n_jobs", 1), evaluation.get("random_state", 0))
    X, y = table[columns].astype(float), np.asarray(table["label"], dtype=object)
    estimator = refit_on_all_rows(estimator, X, y, table["filename"])
    embedding = probe_embedding(features)
    logger.info("best embedding probe: %s on %s (holdout accuracy %.3f), refitted on %d rows",
                name, features, best["accuracy"], len(table))
    mine = scores[(scores["model"] == name) & (scores["features"] == features)]
    return {"model": estimator, "classes": [str(c) for c in estimator.classes_],
            "feature_columns": columns, "features": features, "name": name,
            "embedding": embedding, "segment_seconds": 3.0 if embedding["level"] == "patch" else 30.0,
            "protocol_scores": {str(r["protocol"]): float(r["accuracy"]) for r in mine.to_dict("records")},
            "training_note": training_corpus(table, manifest)}
