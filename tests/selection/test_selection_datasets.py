"""OptionalJSONDataset and OptionalDataset: absence loads None, a skipped output writes nothing."""

import pandas as pd
import pytest

from gtzan_kedro.datasets import OptionalDataset, OptionalJSONDataset, Skipped


def test_optional_json_round_trip(tmp_path):
    target = tmp_path / "model_input" / "selected_features.json"
    dataset = OptionalJSONDataset(str(target))
    assert dataset.load() is None and not dataset.exists()
    dataset.save(Skipped())
    assert not target.exists()
    dataset.save({"features": ["tempo"], "selector": {"relevance": "mic"}})
    assert dataset.load()["features"] == ["tempo"]
    target.write_text("{broken")
    with pytest.raises(Exception, match="not valid JSON"):
        dataset.load()


def test_optional_wrapper(tmp_path):
    target = tmp_path / "t.csv"
    dataset = OptionalDataset({"type": "pandas.CSVDataset", "filepath": str(target)})
    assert dataset.load() is None
    dataset.save(None)
    assert not target.exists()
    dataset.save(pd.DataFrame({"a": [1, 2]}))
    assert dataset.load()["a"].tolist() == [1, 2]
