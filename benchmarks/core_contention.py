"""What a busy second core costs a task on this machine: the same fixed work timed alone, then
as two copies at once (two processes, one per core), in CPU seconds per copy.

    python benchmarks/core_contention.py              # every workload, 3 rounds
    python benchmarks/core_contention.py --work svm --rounds 5
    KERAS_AUTOTUNE=on python benchmarks/core_contention.py --work cnn   # tf.data's autotuning on

If a copy beside another spends more CPU-s than alone, the machine itself (shared caches,
memory bandwidth, the host's scheduling of its virtual cores) makes two tasks at once dearer
than one after another, whatever runner places them. Each workload is single-threaded.
"""

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")


# each workload: its set-up (imports, data, the CNN's graph tracing), untimed, returning the
# work to time


def _python():
    def work() -> None:   # pure interpreter work, little memory: the core alone
        total = 0
        for i in range(80_000_000):
            total += i * i % 7
        assert total > 0

    return work


def _svm():
    import numpy as np
    from sklearn.svm import SVC

    def work() -> None:   # libsvm's kernel loop, as the feature-table SVMs run it (57 features)
        rng = np.random.default_rng(0)
        x = rng.normal(size=(12000, 57))
        y = (x[:, 0] + rng.normal(size=12000) > 0).astype(int)
        SVC(C=10.0, gamma="scale").fit(x, y)

    return work


def _matmul():
    import numpy as np

    def work() -> None:   # dense BLAS on one thread, arrays larger than a core's cache
        a = np.random.default_rng(0).normal(size=(1200, 1200))
        for _ in range(80):
            a = a @ a
            a /= np.abs(a).max()

    return work


def _cnn():
    # two epochs of cnn_mel's sample-scale network on 640 segments, one TensorFlow thread
    os.environ["TF_NUM_INTRAOP_THREADS"] = "1"
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    import numpy as np

    from gtzan_kedro.models.cnn import build_segment_cnn

    if os.environ.get("KERAS_AUTOTUNE", "off") == "off":   # as the project fits (models.tf_input)
        from gtzan_kedro.models.tf_input import without_autotune

        without_autotune()

    rng = np.random.default_rng(0)
    x = rng.normal(size=(640, 128, 130, 1)).astype("float32")
    y = rng.integers(0, 10, 640)
    model = build_segment_cnn((128, 130, 1), 10, conv_filters=[16, 32, 64, 128], pool_size=2,
                              dense_units=[128], dropout=0.3)
    model.fit(x[:64], y[:64], epochs=1, batch_size=64, verbose=0)   # graph tracing

    def work() -> None:
        model.fit(x, y, epochs=2, batch_size=64, verbose=0)

    return work


WORK = {"python": _python, "svm": _svm, "matmul": _matmul, "cnn": _cnn}


def _child(name: str, start, out, core) -> None:
    if core is not None:   # --pin: this process and its threads on one core only
        os.sched_setaffinity(0, {core})
    work = WORK[name]()   # set-up before the start line, so only the work is timed
    start.wait()
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    out.put((time.perf_counter() - wall, time.process_time() - cpu))


def _round(name: str, copies: int, pin: bool = False) -> list[tuple[float, float]]:
    ctx = mp.get_context("spawn")
    start, out = ctx.Barrier(copies + 1), ctx.Queue()
    procs = [ctx.Process(target=_child,
                         args=(name, start, out, i % os.cpu_count() if pin else None))
             for i in range(copies)]
    for p in procs:
        p.start()
    start.wait()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", choices=sorted(WORK), action="append")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pin", action="store_true",
                    help="each copy on a core of its own (sched_setaffinity)")
    ap.add_argument("--json", help="write the figures to this file too")
    args = ap.parse_args()
    rows = []
    print("| work | CPU-s alone | CPU-s beside another | ratio | wall alone | wall beside |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in args.work or list(WORK):
        alone, pair = [], []
        for _ in range(args.rounds):   # alternate, so a drift of the machine falls on both
            alone += _round(name, 1, args.pin)
            pair += _round(name, 2, args.pin)
        cpu_a = statistics.median(c for _, c in alone)
        cpu_p = statistics.median(c for _, c in pair)
        wall_a = statistics.median(w for w, _ in alone)
        wall_p = statistics.median(w for w, _ in pair)
        rows.append({"work": name, "cpu_alone": cpu_a, "cpu_beside": cpu_p,
                     "wall_alone": wall_a, "wall_beside": wall_p, "rounds": args.rounds})
        print(f"| {name} | {cpu_a:.2f} | {cpu_p:.2f} | {cpu_p / cpu_a:.2f}x | {wall_a:.2f} | "
              f"{wall_p:.2f} |", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    print(f"KERAS_AUTOTUNE={os.environ.get('KERAS_AUTOTUNE', 'off')}; medians of {args.rounds} rounds; {os.cpu_count()} cores; python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
