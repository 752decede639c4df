"""The MLP + CNN multimodal network and the explicit segment <-> feature-row join."""

import numpy as np
import pandas as pd
import pytest

from gtzan_kedro.audio.features import FEATURE_COLUMNS
from gtzan_kedro.models.multimodal import SegmentJoinError, build_multimodal, join_segment_features


def _features(names_labels):
    rows = [{"filename": n, "length": 66149, **{c: float(i) for c in FEATURE_COLUMNS}, "label": g}
            for i, (n, g) in enumerate(names_labels)]
    return pd.DataFrame(rows)


def _keys(track_segments):
    return pd.DataFrame([{"track_id": t, "segment": s, "label": t.split(".")[0]}
                         for t, n in track_segments for s in range(n)])


def test_multimodal_is_one_model_with_two_inputs():
    model = build_multimodal(57, (20, 130), n_classes=10, mlp_units=(32,), conv_filters=(8,),
                             branch_units=16, dense_units=(16,))
    assert [tuple(i.shape) for i in model.inputs] == [(None, 57), (None, 20, 130, 1)]
    assert model.output_shape == (None, 10)
    # mlp 57*32+32 = 1856, its branch dense 32*16+16 = 528; conv 80 + bn 32, pool -> 10x65x8 = 5200,
    # branch dense 5200*16+16 = 83216; concat 32 -> dense 32*16+16 = 528; softmax 170
    assert model.count_params() == 1856 + 528 + 80 + 32 + 83216 + 528 + 170
    x = [np.zeros((3, 57), np.float32), np.zeros((3, 20, 130, 1), np.float32)]
    assert model.predict(x, verbose=0).shape == (3, 10)


def test_join_pairs_each_tensor_with_its_kaggle_row_in_tensor_order():
    table = _features([("rock.00001.1.wav", "rock"), ("blues.00000.0.wav", "blues"),
                       ("rock.00001.0.wav", "rock"), ("blues.00000.1.wav", "blues")])
    keys = _keys([("blues.00000.wav", 2), ("rock.00001.wav", 2)])
    positions, features, problems = join_segment_features(table, keys, on_mismatch="error")
    assert positions.tolist() == [0, 1, 2, 3] and problems == []
    # row i of the table has feature value i: blues.0 is row 1, blues.1 row 3, rock.0 row 2, rock.1 row 0
    assert features[:, 0].tolist() == [1.0, 3.0, 2.0, 0.0]


def test_join_reports_or_refuses_mismatches():
    table = _features([("blues.00000.0.wav", "blues"), ("blues.00000.1.wav", "blues"),
                       ("jazz.00054.0.wav", "jazz")])
    keys = _keys([("blues.00000.wav", 3)])  # segment 2 has no row; jazz row has no tensor
    positions, _, problems = join_segment_features(table, keys, on_mismatch="warn")
    assert positions.tolist() == [0, 1]
    assert any("blues.00000.2.wav" in p for p in problems)
    assert any("jazz.00054.0.wav" in p for p in problems)
    with pytest.raises(SegmentJoinError, match="no features_3_sec row"):
        join_segment_features(table, keys, on_mismatch="error")


def test_join_refuses_label_disagreements_and_empty_joins():
    table = _features([("blues.00000.0.wav", "rock")])
    with pytest.raises(SegmentJoinError, match="different genre"):
        join_segment_features(table, _keys([("blues.00000.wav", 1)]))
    with pytest.raises(SegmentJoinError, match="no segment tensor matched"):
        join_segment_features(table, _keys([("pop.00003.wav", 1)]))
    with pytest.raises(SegmentJoinError, match="duplicated"):
        join_segment_features(pd.concat([table, table]), _keys([("blues.00000.wav", 1)]))
