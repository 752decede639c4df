"""MIC through fast_mine, validated on relationships with known MIC (Reshef et al. 2011)."""

import numpy as np
import pytest

from gtzan_kedro.selection.mic import mic, mic_matrix, subsample_rows

N = 1000


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).uniform(0, 1, N)


def test_identity_gives_one(x):
    assert mic(x, x) == pytest.approx(1.0, abs=0.01)


def test_noiseless_sine_is_high(x):
    assert mic(x, np.sin(4 * np.pi * x)) > 0.9


def test_independent_noise_is_about_0_13(x):
    values = [mic(x, np.random.default_rng(seed).uniform(0, 1, N)) for seed in range(1, 6)]
    assert 0.10 < np.mean(values) < 0.17
    assert max(values) < 0.2


def test_constant_input_has_no_information(x):
    assert mic(x, np.ones(N)) == 0.0


def test_matrix_matches_pairs_and_is_symmetric():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((200, 3))
    a[:, 1] = a[:, 0] ** 2
    m = mic_matrix(a, n_jobs=1)
    assert np.allclose(m, m.T) and np.allclose(np.diag(m), 1.0)
    assert m[0, 1] == pytest.approx(mic(a[:, 0], a[:, 1]))
    assert m[0, 1] > 0.9 > m[0, 2]
    b = rng.standard_normal((200, 2))
    assert mic_matrix(a, b).shape == (3, 2)


def test_subsample_keeps_every_stratum():
    strata = np.array(["a"] * 900 + ["b"] * 100)
    rows = subsample_rows(1000, 200, seed=0, strata=strata)
    assert len(rows) == 200 and len(set(rows)) == 200
    assert (strata[rows] == "b").sum() == 20
    assert list(subsample_rows(50, 200, seed=0)) == list(range(50))
