"""Relevance, redundancy filter and FeatureSelector on synthetic tables with a known answer."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.linear_model import LogisticRegression

from gtzan_kedro.selection.redundancy import drop_redundant, redundancy_matrix
from gtzan_kedro.selection.relevance import association_to_genres, genre_indicators
from gtzan_kedro.selection.transformers import FeatureSelector

GENRES = np.array(["blues", "jazz", "metal", "pop"], dtype=object)


def _table(n=400, seed=0):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, len(GENRES), n)
    metal = (codes == 2).astype(float)
    strong = metal + 0.3 * rng.standard_normal(n)
    features = pd.DataFrame({
        "strong": strong,
        "strong_copy": 2 * strong + 0.01 * rng.standard_normal(n),  # redundant, slightly noisier
        "weak": (codes == 0) + 1.5 * rng.standard_normal(n),
        "noise": rng.standard_normal(n),
    })
    return features, GENRES[codes]


def test_indicators_are_one_vs_rest():
    matrix, genres = genre_indicators(["b", "a", "b"])
    assert genres == ["a", "b"] and matrix.tolist() == [[0, 1], [1, 0], [0, 1]]
    with pytest.raises(ValueError, match="two genres"):
        genre_indicators(["a", "a"])


@pytest.mark.parametrize("method", ["pearson", "spearman", "mic"])
def test_relevance_finds_the_genre_a_feature_describes(method):
    features, labels = _table()
    out = association_to_genres(features, labels, method, {"max_rows": 300, "seed": 0})
    assert out.loc["strong", f"{method}_genre"] == "metal"
    assert out.loc["strong", method] > 0.6
    assert out.loc["noise", method] < out.loc["weak", method] < out.loc["strong", method]


def test_redundancy_filter_drops_the_less_relevant_of_a_pair():
    features, labels = _table()
    relevance = association_to_genres(features, labels, "spearman")["spearman"]
    kept, dropped = drop_redundant(relevance, redundancy_matrix(features, "spearman"), 0.9)
    assert "strong_copy" in kept or "strong" in kept
    assert not {"strong", "strong_copy"} <= set(kept)
    row = dropped.iloc[0]
    assert relevance[row["feature"]] <= relevance[row["redundant_with"]] and row["redundancy"] >= 0.9
    kept_all, _ = drop_redundant(relevance, redundancy_matrix(features, "spearman"), 1.01)
    assert len(kept_all) == 4


def test_selector_on_frames_and_arrays():
    features, labels = _table()
    selector = FeatureSelector(redundancy_threshold=0.9, max_features=2).fit(features, labels)
    names = list(selector.get_feature_names_out())
    assert len(names) == 2 and names[0] in {"strong", "strong_copy"} and "weak" in names
    assert list(selector.transform(features).columns) == names
    array_out = selector.transform(features.to_numpy())
    assert np.allclose(array_out, features[names].to_numpy())
    with pytest.raises(ValueError, match="lacks selected features"):
        selector.transform(features.drop(columns=[names[0]]))
    unnamed = FeatureSelector(max_features=1).fit(features.to_numpy(), labels)
    assert unnamed.get_feature_names_out()[0] in {"x0", "x1"}


def test_selector_fits_on_training_rows_only():
    """Rows given to transform never change the choice; refitting on other rows would."""
    features, labels = _table()
    train, test = slice(0, 200), slice(200, 400)
    selector = FeatureSelector(max_features=2).fit(features.iloc[train], labels[train])
    before = list(selector.get_feature_names_out())
    poisoned = features.iloc[test].copy()
    poisoned["noise"] = pd.factorize(labels[test])[0] * 10.0  # perfectly informative only here
    selector.transform(poisoned)
    assert list(selector.get_feature_names_out()) == before
    assert "noise" not in before
    refit = FeatureSelector(max_features=2).fit(poisoned, labels[test])
    assert "noise" in refit.get_feature_names_out()  # the poison is detectable when seen
    expected = association_to_genres(features.iloc[train], labels[train], "spearman")["spearman"]
    assert np.allclose(selector.relevance_.to_numpy(), expected.to_numpy())


def test_selector_inside_a_sklearn_pipeline():
    features, labels = _table()
    model = make_pipeline(FeatureSelector(max_features=2), LogisticRegression(max_iter=200))
    assert cross_val_score(model, features, labels, cv=3).mean() > 0.4


def test_selector_with_boruta_keeps_confirmed_only():
    features, labels = _table(n=300)
    selector = FeatureSelector(boruta="confirmed", redundancy_threshold=1.01,
                               boruta_params={"n_estimators": 30, "max_iter": 20, "max_depth": 5})
    selector.fit(features, labels)
    assert "noise" not in selector.get_feature_names_out()
    assert {"strong", "strong_copy"} & set(selector.get_feature_names_out())
    with pytest.raises(ValueError, match="unknown measure"):
        FeatureSelector(relevance="kendall").fit(features, labels)
