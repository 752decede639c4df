"""models.tf_input.without_autotune: Keras' input pipelines lose tf.data's autotuning and the
fits stay the same, bit for bit."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np

# one process, so the fit before the patch is a fit of Keras' own pipelines: once patched, a
# process stays patched (and other tests in this worker patch it through set_seed)
_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import keras
    from gtzan_kedro.models.cnn import build_segment_cnn
    from gtzan_kedro.models.tf_input import without_autotune
    from keras.src.trainers.data_adapters import get_data_adapter

    def autotune(x, y):
        dataset = get_data_adapter(x, y, batch_size=16, shuffle=True).get_tf_dataset()
        return dataset.options().autotune.enabled   # None: unset, tf.data autotunes

    def fit():
        keras.utils.set_random_seed(3)   # Keras' own seeding: set_seed would patch first
        rng = np.random.default_rng(0)
        x = rng.normal(size=(96, 16, 20, 1)).astype("float32")
        y = rng.integers(0, 4, 96)
        model = build_segment_cnn((16, 20, 1), 4, conv_filters=[4, 8], pool_size=2,
                                  dense_units=[8], dropout=0.3)
        history = model.fit(x, y, epochs=2, batch_size=16, shuffle=True, verbose=0,
                            validation_data=(x[:32], y[:32]))
        return {"loss": history.history["loss"], "val_loss": history.history["val_loss"],
                "weights": [w.tolist() for w in model.get_weights()],
                "proba": model.predict(x[:32], verbose=0, batch_size=16).tolist(),
                "autotune": autotune(x, y)}

    before = fit()
    patched = without_autotune()
    after = fit()
    again = without_autotune()   # idempotent: no second wrapper around the first
    json.dump({"before": before, "after": after, "patched": patched, "again": again}, sys.stdout)
""")


def test_fits_are_the_same_without_autotune_and_the_pipelines_lose_it() -> None:
    out = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True,
                         timeout=300, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    before, after = result["before"], result["after"]
    assert result["patched"] and result["again"]
    assert before["autotune"] is not False   # Keras' own pipeline autotunes (unset or on)
    assert after["autotune"] is False        # the patched one does not
    assert before["loss"] == after["loss"] and before["val_loss"] == after["val_loss"]
    for a, b in zip(before["weights"], after["weights"], strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(np.asarray(before["proba"]), np.asarray(after["proba"]))


def test_set_seed_turns_autotune_off() -> None:
    from keras.src.trainers.data_adapters import get_data_adapter

    from gtzan_kedro.models.seeding import set_seed

    set_seed(1)
    x = np.zeros((8, 3), dtype="float32")
    dataset = get_data_adapter(x, np.zeros(8), batch_size=4, shuffle=False).get_tf_dataset()
    assert dataset.options().autotune.enabled is False
