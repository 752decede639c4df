#!/usr/bin/env bash
# The GPU profile's one short check (issue 13): the rehearsal's deep models at full size
# (conf/gpu's shapes and batch sizes) trained on random tensors for a few epochs, float32 and
# mixed_float16, samples/s per model as a Markdown table for docs/scale.md.
#
#   bash benchmarks/gpu_check.sh                 # every model, both precisions (~5-10 min on a GPU)
#   MODELS="cnn_mfcc multimodal" PRECISIONS=float32 bash benchmarks/gpu_check.sh   # a subset, CPU too
#
# Needs the `gpu` extra (pip install -e ".[gpu]") for the GPU; without one it measures the CPU.
# Random inputs and weights=None: throughput depends on the shapes, not the values.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
[ -x "$PY" ] || PY=python
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" TF_CPP_MIN_LOG_LEVEL=2
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "no nvidia-smi: CPU only"
"$PY" - <<'PYEOF'
import json, os, time

import numpy as np

MODELS = os.environ.get("MODELS", "cnn_stft cnn_mel cnn_mfcc cnn_image vgg16 alexnet multimodal").split()
PRECISIONS = os.environ.get("PRECISIONS", "float32 mixed_float16").split()
EPOCHS = int(os.environ.get("EPOCHS", "2"))
N = int(os.environ.get("SAMPLES", "0"))  # 0: a GTZAN epoch (6,400 segments / 640 images)


def spec(name):
    """(build(n_classes), input shapes, batch size, samples per epoch) at conf/gpu's sizes."""
    from gtzan_kedro.models.cnn import build_image_cnn, build_segment_cnn
    from gtzan_kedro.models.multimodal import build_multimodal
    from gtzan_kedro.models.transfer import build_alexnet, build_vgg16

    seg = dict(conv_filters=[16, 32, 64, 128], dense_units=[128], dropout=0.3)
    augment = {"shift": 0.1, "zoom": 0.1, "rotation_degrees": 5.0}
    return {
        "cnn_stft": (lambda: build_segment_cnn((513, 130), 10, pool_size=[4, 2], **seg), [(513, 130, 1)], 64, 6400),
        "cnn_mel": (lambda: build_segment_cnn((128, 130), 10, pool_size=2, **seg), [(128, 130, 1)], 64, 6400),
        "cnn_mfcc": (lambda: build_segment_cnn((20, 130), 10, conv_filters=[32, 64, 128], pool_size=2,
                                               dense_units=[128]), [(20, 130, 1)], 64, 6400),
        "cnn_image": (lambda: build_image_cnn((288, 432, 3), 10), [(288, 432, 3)], 16, 640),
        "vgg16": (lambda: build_vgg16((224, 224, 3), 10, weights=None, augment=augment), [(224, 224, 3)], 16, 640),
        "alexnet": (lambda: build_alexnet((224, 224, 3), 10, augment=augment), [(224, 224, 3)], 16, 640),
        "multimodal": (lambda: build_multimodal(57, (20, 130), 10, mlp_units=[256, 128], conv_filters=[32, 64, 128],
                                                branch_units=128, dense_units=[128, 64]),
                       [(57,), (20, 130, 1)], 64, 6400),
    }[name]


import keras
import tensorflow as tf

from gtzan_kedro.models.runtime import configure_accelerator

rows = []
for precision in PRECISIONS:
    info = configure_accelerator({"mixed_precision": precision == "mixed_float16"})
    for name in MODELS:
        build, shapes, batch, n = spec(name)
        n = N or n
        keras.backend.clear_session()
        keras.utils.set_random_seed(0)
        model = build()
        rng = np.random.default_rng(0)
        xs = [rng.uniform(0, 255, (n, *s)).astype("float32") for s in shapes]
        y = rng.integers(0, 10, n)
        x = xs if len(xs) > 1 else xs[0]
        warm = [a[: batch * 4] for a in xs]
        model.fit(warm if len(warm) > 1 else warm[0], y[: batch * 4], epochs=1, batch_size=batch, verbose=0)
        start = time.perf_counter()
        model.fit(x, y, epochs=EPOCHS, batch_size=batch, verbose=0)
        seconds = (time.perf_counter() - start) / EPOCHS
        row = {"model": name, "precision": info.policy, "device": ",".join(info.gpus) or "cpu",
               "batch": batch, "samples_per_epoch": n, "samples_per_s": round(n / seconds, 1),
               "s_per_epoch": round(seconds, 1)}
        rows.append(row)
        print(json.dumps(row), flush=True)

print("\n| model | precision | device | batch | samples/s | s per epoch (samples) |")
print("| --- | --- | --- | --- | --- | --- |")
for r in rows:
    print(f"| {r['model']} | {r['precision']} | {r['device']} | {r['batch']} | {r['samples_per_s']} | "
          f"{r['s_per_epoch']} ({r['samples_per_epoch']}) |")
PYEOF
