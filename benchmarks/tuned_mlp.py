"""The tuned MLP against the fixed presets on the real 30-s table: on each holdout (the
audio_models pipeline's own splits, scaler fitted on training rows) every preset is trained
as the pipeline trains it, and the Bayesian search (models/tuning.py) runs on the same
training/validation rows with the same epochs, patience, batch size and seed; the tuned
network is then refitted as the pipeline's mlp_tuned node does. Validation accuracy is what the
search sees; test accuracy is reported beside it, never used to choose.

    nice -n 5 .venv/bin/python benchmarks/tuned_mlp.py \
        --table ../shared/data/gtzan/features_30_sec.csv --splits 3 --max-trials 12 [--old REV]

``--old REV`` also runs the tuning.py of git revision REV (e.g. the one before the fix) with
conf/gtzan's tuner budget. Writes one JSON line per model x split to stdout and Markdown tables
(per split and mean) at the end.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from gtzan_kedro.audio.features import FEATURE_COLUMNS
from gtzan_kedro.datasets.comparison import to_markdown
from gtzan_kedro.evaluation.splits import make_splits
from gtzan_kedro.models.mlp import MLP_PRESETS, KerasMLPClassifier
from gtzan_kedro.models.tuning import search_mlp


def _old_tuner(rev: str):
    """tuning.py as it was at git revision ``rev``, imported under another name."""
    root = Path(__file__).resolve().parents[1]
    source = subprocess.run(["git", "show", f"{rev}:src/gtzan_kedro/models/tuning.py"], cwd=root,
                            check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "old_tuning.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_tuning", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _scores(clf: KerasMLPClassifier, Xv, yv, Xt, yt) -> dict[str, float]:
    return {"val_accuracy": float(np.mean(clf.predict(Xv) == yv)),
            "test_accuracy": float(np.mean(clf.predict(Xt) == yt)),
            "epochs_run": len(clf.history_["loss"])}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default="../shared/data/gtzan/features_30_sec.csv")
    parser.add_argument("--splits", type=int, default=3, help="holdouts (the pipeline's first ones)")
    parser.add_argument("--max-trials", type=int, default=12, help="tuner trials, presets included")
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--patience", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--old", default=None, help="also run this git revision's tuning.py")
    args = parser.parse_args(argv)

    table = pd.read_csv(args.table)
    X_all = table[list(FEATURE_COLUMNS)].to_numpy(np.float64)
    y_all = table["label"].to_numpy(object)
    splits = make_splits("holdout", table["filename"], y_all, n_splits=args.splits,
                         test_size=0.2, val_size=0.2, random_state=args.seed)
    old = _old_tuner(args.old) if args.old else None
    fit = {"epochs": args.epochs, "patience": args.patience, "batch_size": args.batch_size,
           "seed": args.seed}
    rows = []

    def record(split, model, started, scores, **extra):
        row = {"split": split.name, "model": model, **scores,
               "seconds": round(time.perf_counter() - started, 1), **extra}
        rows.append(row)
        print(json.dumps(row), flush=True)

    for split in splits:
        scaler = StandardScaler().fit(X_all[split.train])
        Xtr, Xv, Xt = (scaler.transform(X_all[i]) for i in (split.train, split.val, split.test))
        ytr, yv, yt = y_all[split.train], y_all[split.val], y_all[split.test]
        classes = np.unique(ytr)
        for name in MLP_PRESETS:
            started = time.perf_counter()
            clf = KerasMLPClassifier(preset=name, **fit).fit(Xtr, ytr, validation_data=(Xv, yv))
            record(split, f"mlp_{name}", started, _scores(clf, Xv, yv, Xt, yt))
        started = time.perf_counter()
        result = search_mlp(Xtr, np.searchsorted(classes, ytr), Xv, np.searchsorted(classes, yv),
                            len(classes), max_trials=args.max_trials, epochs=args.epochs,
                            patience=args.patience, batch_size=args.batch_size, seed=args.seed)
        clf = KerasMLPClassifier(preset=None, build_fn=result.build_fn(), **fit)
        clf.fit(Xtr, ytr, validation_data=(Xv, yv))
        best = result.trials.sort_values(["val_accuracy", "trial"], ascending=[False, True]).iloc[0]
        record(split, "mlp_tuned", started, _scores(clf, Xv, yv, Xt, yt),
               search_val_accuracy=round(float(best["val_accuracy"]), 4),
               best_preset=best["preset"] or None, best_params=result.best_params)
        if old is not None:
            # conf/gtzan's budget for the old tuner: 5 trials of 50 epochs, refit at 150/15
            started = time.perf_counter()
            best_old, build_old = old.tune_mlp(Xtr, np.searchsorted(classes, ytr), Xv,
                                               np.searchsorted(classes, yv), len(classes),
                                               max_trials=5, epochs=50, patience=8,
                                               seed=args.seed)
            clf = KerasMLPClassifier(preset=None, build_fn=build_old, **fit)
            clf.fit(Xtr, ytr, validation_data=(Xv, yv))
            record(split, f"mlp_tuned_old@{args.old}", started, _scores(clf, Xv, yv, Xt, yt),
                   best_params=best_old)

    frame = pd.DataFrame(rows)
    summary = (frame.groupby("model", sort=False)
               .agg(val_accuracy=("val_accuracy", "mean"), test_accuracy=("test_accuracy", "mean"),
                    test_std=("test_accuracy", "std"), seconds=("seconds", "mean"),
                    n_splits=("split", "nunique"))
               .round(3).reset_index())
    per_split = frame.pivot(index="model", columns="split", values=["val_accuracy", "test_accuracy"])
    per_split = per_split.loc[summary["model"]]
    per_split.columns = [f"{split} {metric.split('_')[0]}" for metric, split in per_split.columns]
    print("\n" + " ".join(sys.argv))
    print("\nmean over splits\n")
    print(to_markdown(summary))
    print("per split\n")
    print(to_markdown(per_split.reset_index()))


if __name__ == "__main__":
    main()
