"""Write musicnn_legacy_reference.json: the wheel's own TF1 graph on a fixed random input.

Not a test (pytest does not collect it) and not run in CI: it needs musicnn's original code,
which builds its graph with tf.compat.v1.layers, so it runs only under tf-keras in a scratch
virtualenv, never the project's:

    python -m venv /tmp/legacy_venv
    echo /path/to/project/.venv/lib/python3.11/site-packages > /tmp/legacy_venv/lib/python3.11/site-packages/project.pth
    /tmp/legacy_venv/bin/pip install --no-deps "tf-keras~=2.21.0"
    unzip musicnn-0.1.0-py3-none-any.whl -d /tmp/musicnn_src
    TF_USE_LEGACY_KERAS=1 /tmp/legacy_venv/bin/python tests/models/make_musicnn_legacy_reference.py /tmp/musicnn_src

The input is random log-mel values (no librosa in the comparison), fed as log-mel patches
directly, so the reference checks the network and its weights only.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

SEED = 14
N_PATCHES = 2


def reference_input():
    """The fixed (2, 187, 96) input both implementations are run on."""
    import numpy as np

    return np.random.default_rng(SEED).uniform(0.0, 4.5, size=(N_PATCHES, 187, 96)).astype(np.float32)


def summarise(values) -> dict:
    """Every (d // 8)-th of the first values, the sum and the absolute sum of each row."""
    import numpy as np

    v = np.asarray(values, dtype=np.float64)
    step = max(1, v.shape[1] // 8)
    return {"head": [float(f"{t:.7g}") for t in v[:, ::step][:, :8].ravel()],
            "sum": [float(f"{t:.7g}") for t in v.sum(axis=1)],
            "abs_sum": [float(f"{t:.7g}") for t in np.abs(v).sum(axis=1)]}


def main(source: str) -> None:
    sys.path.insert(0, source)
    import tensorflow as tf
    from musicnn import models

    tf.compat.v1.disable_eager_execution()
    patches = reference_input()
    out = {}
    for model in ["MSD_musicnn", "MTT_musicnn", "MSD_vgg", "MTT_vgg"]:
        tf.compat.v1.reset_default_graph()
        with tf.name_scope("model"):
            x = tf.compat.v1.placeholder(tf.float32, [None, 187, 96])
            is_training = tf.compat.v1.placeholder(tf.bool)
            graph = models.define_model(x, is_training, model, 50)
            tags = tf.nn.sigmoid(graph[0])
        feats = ({"pool5": tf.compat.v1.layers.flatten(graph[5])} if "vgg" in model else
                 {"mean_pool": graph[6], "max_pool": graph[7], "penultimate": graph[8]})
        with tf.compat.v1.Session() as sess:
            tf.compat.v1.train.Saver().restore(sess, str(Path(source) / "musicnn" / model) + "/")
            values = sess.run([tags, *feats.values()], feed_dict={x: patches, is_training: False})
        out[model] = {k: summarise(v) for k, v in zip(["tags", *feats], values)}
    target = Path(__file__).with_name("musicnn_legacy_reference.json")
    target.write_text(json.dumps(out, indent=4) + "\n")
    print(f"written {target}")


if __name__ == "__main__":
    # only when run as the script: test_musicnn imports this module, and the variable would
    # leak into every later `kedro run` subprocess of that pytest worker (tf.keras then
    # recurses looking for the absent tf-keras package)
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    main(sys.argv[1])
