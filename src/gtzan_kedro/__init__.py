"""gtzan-kedro
"""

import os

__version__ = "0.1"

# TensorFlow on one CPU thread per process unless the environment says otherwise. On several
# threads its CPU kernels sum in another order from run to run (cnn_mel holdout 0.610 to 0.645
# over six runs of the same data); on one thread every run, under either runner, gives the
# same bits. Set here, before any TensorFlow op, because every process that runs the project's
# code (a `kedro run`, a Dask worker, a joblib worker) imports this package first.
# TF_NUM_INTRAOP_THREADS=0 gives TensorFlow's own choice (all cores) back: docs/scale.md.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
