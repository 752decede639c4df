"""Images per second of the transfer models on this machine, at conf/gtzan's shapes: frozen-base
feature extraction (batched predict of the convolutional base, once per image) against full
fine-tuning (every layer trained, with the reports' augmentation), for VGG16 and AlexNet.
Random 0-255 images; ``weights=None`` (ImageNet weights change the numbers, not the cost).

    nice -n 5 .venv/bin/python benchmarks/transfer_throughput.py [--size 224] [--batches 3]

Each figure is measured after one warm-up batch: the frozen base as one predict over
``--batches`` batches (as the feature cache calls it), training steps as the median of
``--batches`` steps. Prints one JSON
line per measurement and a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np

from gtzan_kedro.datasets.comparison import to_markdown

AUGMENT = {"shift": 0.1, "zoom": 0.1, "rotation_degrees": 5.0}  # conf/base image_models
EPOCH_IMAGES = 640  # training slices per epoch at GTZAN size (issue 13's figure)


def _rate(step, images: int, batches: int) -> float:
    step()  # warm-up: tracing and first allocation
    times = []
    for _ in range(batches):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return images / statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    import keras
    import pandas as pd

    from gtzan_kedro.models.transfer import transfer_builder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--predict-batch", type=int, default=32)
    parser.add_argument("--train-batch", type=int, default=16)  # conf/gtzan fit.batch_size
    parser.add_argument("--only", nargs="*", default=["vgg16", "alexnet"])
    args = parser.parse_args(argv)

    shape = (args.size, args.size, 3)
    rng = np.random.default_rng(0)
    big = rng.uniform(0, 255, (args.predict_batch * args.batches, *shape)).astype(np.float32)
    small, codes = big[: args.train_batch], rng.integers(0, 10, args.train_batch)
    kwargs = {"vgg16": {"weights": None}, "alexnet": {"width": 1.0, "dense_units": (4096, 1024)}}
    rows = []
    for arch in args.only:
        keras.utils.set_random_seed(0)
        frozen = transfer_builder(arch, "frozen", shape, **kwargs[arch])(10)
        base = frozen.extractor.base
        # as FeatureExtractor calls it: one predict over many images (per-call overhead amortised)
        base.predict(big[: args.predict_batch], batch_size=args.predict_batch, verbose=0)
        start = time.perf_counter()
        features = base.predict(big, batch_size=args.predict_batch, verbose=0)
        rate = len(big) / (time.perf_counter() - start)
        head_rate = _rate(lambda: frozen.head.train_on_batch(features[: args.train_batch], codes),
                          args.train_batch, args.batches)
        rows.append({"model": arch, "mode": "frozen: base forward (once per image)",
                     "images_per_s": rate})
        rows.append({"model": arch, "mode": "frozen: head training step", "images_per_s": head_rate})
        keras.backend.clear_session()
        keras.utils.set_random_seed(0)
        full = transfer_builder(arch, "finetune", shape, augment=AUGMENT, **kwargs[arch])(10)
        rate = _rate(lambda: full.train_on_batch(small, codes), args.train_batch, args.batches)
        rows.append({"model": arch, "mode": "finetune: training step (all layers)",
                     "images_per_s": rate})
        keras.backend.clear_session()
        for row in rows[-3:]:
            row["s_per_epoch_of_640"] = EPOCH_IMAGES / row["images_per_s"]
            print(json.dumps({k: (round(v, 2) if isinstance(v, float) else v)
                              for k, v in row.items()}), flush=True)
    print(f"\n{args.size}x{args.size}, {os.cpu_count()} CPU(s) visible, load average "
          f"{os.getloadavg()[0]:.1f} at the end\n")
    print(to_markdown(pd.DataFrame(rows), digits=2))


if __name__ == "__main__":
    main()
