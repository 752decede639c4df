"""What one TensorFlow thread costs a CNN alone on the machine: one epoch of cnn_mel's
conf/gtzan network on 6400 random 128 x 130 segments (a full-size holdout's training side).

    TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 python benchmarks/tf_threads_epoch.py
    TF_NUM_INTRAOP_THREADS=0 TF_NUM_INTEROP_THREADS=0 python benchmarks/tf_threads_epoch.py

(gtzan_kedro sets one thread when the variables are unset; 0 is TensorFlow's own choice.)
"""

import os
import time

import numpy as np

import gtzan_kedro  # noqa: F401  (the thread default, before TensorFlow starts)
from gtzan_kedro.models.cnn import build_segment_cnn


def main() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6400, 128, 130, 1)).astype("float32")
    y = rng.integers(0, 10, 6400)
    model = build_segment_cnn((128, 130, 1), 10, conv_filters=[16, 32, 64, 128], pool_size=2,
                              dense_units=[128], dropout=0.3)
    model.fit(x[:640], y[:640], epochs=1, batch_size=64, verbose=0)   # warm-up (graph tracing)
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    print(f"TF_NUM_INTRAOP_THREADS={os.environ['TF_NUM_INTRAOP_THREADS']}: one epoch "
          f"{time.perf_counter() - wall:.1f} s wall, {time.process_time() - cpu:.1f} CPU-s")


if __name__ == "__main__":
    main()
