"""The procedural sample corpus: deterministic, well-formed, and genres that differ by design."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from gtzan_kedro.audio.synth import (
    GENRES,
    clip_rng,
    generate_corpus,
    plan_clip,
    synthesize_clip,
)

SR = 22050


@pytest.fixture(scope="module")
def tiny_corpus():
    """Two 4-s clips per genre: {genre: [(y, meta), ...]}."""
    corpus: dict[str, list] = {}
    for key, y, sr, meta in generate_corpus(n_per_genre=2, duration_s=4.0, seed=7):
        corpus.setdefault(meta["genre"], []).append((y, meta))
    return corpus


def test_same_seed_gives_identical_clips():
    a, meta_a = synthesize_clip("jazz", clip_rng(3, "jazz", 1), duration_s=3.0)
    b, meta_b = synthesize_clip("jazz", clip_rng(3, "jazz", 1), duration_s=3.0)
    np.testing.assert_array_equal(a, b)
    assert meta_a == meta_b


def test_other_seed_or_index_gives_other_clips():
    a, _ = synthesize_clip("rock", clip_rng(3, "rock", 0), duration_s=3.0)
    b, _ = synthesize_clip("rock", clip_rng(4, "rock", 0), duration_s=3.0)
    c, _ = synthesize_clip("rock", clip_rng(3, "rock", 1), duration_s=3.0)
    assert not np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_corpus_is_independent_of_which_clips_are_generated():
    full = {k: y for k, y, _, _ in generate_corpus(n_per_genre=2, duration_s=2.0, seed=5)}
    subset = {k: y for k, y, _, _ in generate_corpus(n_per_genre=2, duration_s=2.0, seed=5, genres=("pop",))}
    assert list(subset) == ["pop/pop.00000", "pop/pop.00001"]
    for key, y in subset.items():
        np.testing.assert_array_equal(full[key], y)


def test_clips_are_well_formed(tiny_corpus):
    assert sorted(tiny_corpus) == sorted(GENRES)
    for genre, clips in tiny_corpus.items():
        assert len(clips) == 2
        for y, meta in clips:
            assert y.shape == (4 * SR,) and y.dtype == np.float32
            peak = float(np.max(np.abs(y)))
            assert 0.3 <= peak < 1.0, f"{genre}: peak {peak}"
            assert np.all(np.isfinite(y))
            assert float(np.sqrt(np.mean(y ** 2))) > 0.01, f"{genre} is (nearly) silent"
            assert meta["genre"] == genre and meta["sample_rate"] == SR


def test_meta_is_the_plan_and_tempo_is_in_the_genre_range():
    for genre, (lo, hi) in {"disco": (108, 132), "metal": (130, 200), "hiphop": (78, 100)}.items():
        for i in range(3):
            plan = plan_clip(genre, clip_rng(11, genre, i), 2.0)
            _, meta = synthesize_clip(genre, clip_rng(11, genre, i), 2.0)
            assert meta == plan.meta()
            assert lo <= meta["tempo_bpm"] <= hi
    assert plan_clip("classical", clip_rng(0, "classical", 0)).meta()["groove"] == "no drums"


def test_unknown_genre_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown genre 'polka'"):
        synthesize_clip("polka", np.random.default_rng(0))
    with pytest.raises(ValueError, match="unknown genre"):
        clip_rng(0, "polka", 0)


def _mean(tiny_corpus, genre, feature):
    return float(np.mean([feature(y) for y, _ in tiny_corpus[genre]]))


def test_genres_differ_as_designed(tiny_corpus):
    """Distorted, busy metal is brighter and has more onsets than rubato strings."""
    zcr = lambda y: librosa.feature.zero_crossing_rate(y).mean()  # noqa: E731
    onsets = lambda y: len(librosa.onset.onset_detect(y=y, sr=SR)) / (len(y) / SR)  # noqa: E731
    assert _mean(tiny_corpus, "metal", zcr) > _mean(tiny_corpus, "classical", zcr)
    assert _mean(tiny_corpus, "metal", onsets) > _mean(tiny_corpus, "classical", onsets)


@pytest.mark.parametrize("genre", ["disco", "rock", "reggae"])
def test_beat_tracker_finds_the_intended_tempo(genre):
    y, meta = synthesize_clip(genre, clip_rng(1, genre, 0), duration_s=12.0)
    tempo = float(np.atleast_1d(librosa.beat.beat_track(y=y, sr=SR)[0])[0])
    ratios = [tempo / meta["tempo_bpm"] * k for k in (0.5, 1.0, 2.0)]  # octave errors are the tracker's
    assert min(abs(r - 1) for r in ratios) < 0.06, (tempo, meta["tempo_bpm"])
