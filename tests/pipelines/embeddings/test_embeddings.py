"""embeddings pipeline: musicnn feature tables per track and per patch, incremental, parallel."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from musicnn_weights import musicnn_dir  # noqa: F401  (fixture)

from gtzan_kedro.pipelines.embeddings import nodes
from gtzan_kedro.pipelines.embeddings.pipeline import OUTPUTS


def _write_clip(path, seconds, freq, sr=22050):
    t = np.arange(int(seconds * sr)) / sr
    noise = 0.02 * np.random.default_rng(int(freq)).standard_normal(t.size)
    sf.write(path, (0.2 * np.sin(2 * np.pi * freq * t) + noise).astype(np.float32), sr)


@pytest.fixture
def tracks(tmp_path) -> pd.DataFrame:
    """valid_tracks as ingest writes it: three clips of two genres, 7 s (2 patches) or 4 s (1)."""
    rows = []
    for genre, number, seconds, freq in [("blues", 0, 7.0, 220), ("blues", 1, 4.0, 330), ("rock", 0, 4.0, 880)]:
        path = tmp_path / "genres_original" / genre / f"{genre}.{number:05d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_clip(path, seconds, freq)
        rows.append({"track_id": path.name, "genre": genre, "path": str(path), "status": "ok"})
    return pd.DataFrame(rows)


def _cache(entries: dict) -> dict:
    """What TrackCacheDataset.load gives for entries saved before."""
    return {k: (lambda v=v: v) for k, v in entries.items()}


def _params(weights, **overrides):
    return {"n_jobs": 1, "batch_size": 8, "incremental": True, "weights_dir": str(weights),
            "auto_fetch": False, **overrides}


def test_tables_per_track_and_per_patch(tracks, musicnn_dir):
    out = nodes.embed_tracks(tracks, {}, _params(musicnn_dir))
    assert set(out) == set(OUTPUTS)
    assert len(nodes.FEATURE_SETS) == 6
    track = out["musicnn_msd_maxpool"]
    assert list(track.columns[:3]) == ["filename", "label", "emb_0"] and track.shape == (3, 2 + 753)
    assert list(track.filename) == ["blues.00000.wav", "blues.00001.wav", "rock.00000.wav"]
    assert list(track.label) == ["blues", "blues", "rock"]
    assert out["musicnn_mtt_penultimate"].shape == (3, 2 + 200)
    patches = out["musicnn_msd_maxpool_3s"]
    # Kaggle's 3-s row names, so leaky_segments and song-level aggregation apply unchanged
    assert list(patches.filename) == ["blues.00000.0.wav", "blues.00000.1.wav", "blues.00001.0.wav", "rock.00000.0.wav"]
    emb = [c for c in patches.columns if c.startswith("emb_")]
    np.testing.assert_allclose(track.loc[0, emb].to_numpy(float),
                               patches.loc[:1, emb].to_numpy(float).mean(axis=0), rtol=1e-5, atol=1e-6)
    # different clips, different embeddings (no constant output)
    assert not np.allclose(track.loc[0, emb].to_numpy(float), track.loc[2, emb].to_numpy(float))
    stats = out["embeddings_stats"].iloc[0]
    assert (stats.tracks_valid, stats.tracks_embedded, stats.tracks_cached, stats.tracks_failed) == (3, 3, 0, 0)
    assert set(out["embeddings_cache_updates"]) == {"blues/blues.00000", "blues/blues.00001", "rock/rock.00000"}


def test_incremental_reuses_the_cache_until_a_file_changes(tracks, musicnn_dir):
    first = nodes.embed_tracks(tracks, {}, _params(musicnn_dir))
    cache = _cache(first["embeddings_cache_updates"])
    # runtime parameters do not change the numbers, so nothing is embedded again
    second = nodes.embed_tracks(tracks, cache, _params(musicnn_dir, batch_size=2))
    assert second["embeddings_stats"].iloc[0].tracks_embedded == 0 and second["embeddings_cache_updates"] == {}
    for name in nodes.FEATURE_SETS:
        pd.testing.assert_frame_equal(first[name], second[name])
    changed = tracks.path[1]
    os.utime(changed, ns=(os.stat(changed).st_atime_ns, os.stat(changed).st_mtime_ns + 10**9))
    third = nodes.embed_tracks(tracks, cache, _params(musicnn_dir))
    assert list(third["embeddings_cache_updates"]) == ["blues/blues.00001"]
    assert nodes.embed_tracks(tracks, cache, _params(musicnn_dir, incremental=False))[
        "embeddings_stats"].iloc[0].tracks_embedded == 3
    # other weights or another port version: the fingerprint changes
    assert nodes.embedding_fingerprint({}, "a") != nodes.embedding_fingerprint({}, "b")


def test_a_bad_file_is_left_out_and_counted(tracks, musicnn_dir, tmp_path):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF....nonsense")
    bad = pd.concat([tracks, pd.DataFrame([{"track_id": "rock.00001.wav", "genre": "rock",
                                            "path": str(broken), "status": "ok"}])], ignore_index=True)
    out = nodes.embed_tracks(bad, {}, _params(musicnn_dir))
    assert out["embeddings_stats"].iloc[0].tracks_failed == 1
    assert "rock.00001.wav" not in set(out["musicnn_mtt_meanpool"].filename)
    assert "not a readable audio file" in out["embeddings_cache_updates"]["rock/rock.00001"]["error"]


def test_parallel_workers_give_the_same_tables(tracks, musicnn_dir):
    serial = nodes.embed_tracks(tracks, {}, _params(musicnn_dir))
    parallel = nodes.embed_tracks(tracks, {}, _params(musicnn_dir, n_jobs=2))
    assert parallel["embeddings_stats"].iloc[0].workers == 2
    for name in ("musicnn_msd_meanpool", "musicnn_mtt_penultimate_3s"):
        pd.testing.assert_frame_equal(serial[name], parallel[name], rtol=1e-4, atol=1e-5)


def test_missing_weights_name_the_fetch_command(tracks, tmp_path):
    from gtzan_kedro.fetch import FetchError

    with pytest.raises(FetchError, match="run `gtzan fetch musicnn`"):
        nodes.embed_tracks(tracks, {}, _params(tmp_path / "no-weights"))


@pytest.mark.e2e
def test_kedro_run_embeddings_twice(kedro_project, tracks, musicnn_dir):
    tracks.to_csv(kedro_project.path / "data" / "02_intermediate" / "valid_tracks.csv", index=False)
    kedro_project.write_conf("local/parameters_embeddings.yml",
                             f"embeddings:\n  weights_dir: {musicnn_dir}\n  n_jobs: 1\n  auto_fetch: false\n")
    kedro_project.run("--pipeline", "embeddings", "--nodes", "embeddings.embed_tracks")  # 3 tracks: too few to probe
    features = kedro_project.path / "data" / "04_feature" / "embeddings"
    table = pd.read_parquet(features / "musicnn_msd_maxpool.parquet")
    assert table.shape == (3, 755) and table.label.tolist() == ["blues", "blues", "rock"]
    assert len(pd.read_parquet(features / "musicnn_mtt_penultimate_3s.parquet")) == 4
    kedro_project.run("--pipeline", "embeddings", "--nodes", "embeddings.embed_tracks")  # 3 tracks: too few to probe
    stats = pd.read_csv(kedro_project.path / "data" / "08_reporting" / "embeddings_stats.csv").iloc[0]
    assert (stats.tracks_cached, stats.tracks_embedded) == (3, 0)
    pd.testing.assert_frame_equal(pd.read_parquet(features / "musicnn_msd_maxpool.parquet"), table)
