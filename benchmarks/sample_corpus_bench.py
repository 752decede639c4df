"""How learnable is the synthetic sample corpus? Generate N clips per genre, extract the
Kaggle 30-s features, and score RandomForest and a scaled SVM with stratified 5-fold CV.

    nice -n 10 .venv/bin/python benchmarks/sample_corpus_bench.py --n-per-genre 10 20
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
from joblib import Parallel, delayed
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from tqdm.auto import tqdm

from gtzan_kedro.audio.features import FEATURE_COLUMNS, file_feature_rows
from gtzan_kedro.audio.synth import GENRES, generate_corpus


def write_corpus(root: Path, n_per_genre: int, seed: int, duration_s: float) -> tuple[pd.DataFrame, float]:
    """Write the clips as 16-bit WAV under root/<genre>/; return the manifest and CPU s per clip."""
    rows, cpu = [], 0.0
    gen = generate_corpus(n_per_genre=n_per_genre, duration_s=duration_s, seed=seed)
    for _ in tqdm(range(n_per_genre * len(GENRES)), desc="synthesize", unit="clip"):
        t0 = time.process_time()
        key, y, sr, meta = next(gen)
        cpu += time.process_time() - t0
        path = root / f"{key}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, y, sr, subtype="PCM_16")
        rows.append({"path": str(path), **meta})
    return pd.DataFrame(rows), cpu / len(rows)


def extract(manifest: pd.DataFrame, n_jobs: int) -> pd.DataFrame:
    """Kaggle's 30-s feature row of every clip (the reference recipe)."""
    rows = Parallel(n_jobs=n_jobs)(
        delayed(file_feature_rows)(p, label=g)
        for p, g in tqdm(list(zip(manifest.path, manifest.genre)), desc="features", unit="clip")
    )
    return pd.DataFrame([r[0] for r in rows])


def score(table: pd.DataFrame, seed: int = 0) -> dict[str, tuple[float, float]]:
    """Mean and std of stratified 5-fold CV accuracy per model."""
    X = table[FEATURE_COLUMNS].to_numpy(dtype=float)
    y = np.asarray(table["label"], dtype=object)
    cv = StratifiedKFold(5, shuffle=True, random_state=seed)
    models = {
        "random_forest": RandomForestClassifier(300, random_state=seed, n_jobs=2),
        "svm_rbf_scaled": make_pipeline(StandardScaler(), SVC(C=10, gamma="scale")),
    }
    out = {}
    for name, model in models.items():
        acc = cross_val_score(model, X, y, cv=cv)
        out[name] = (float(acc.mean()), float(acc.std()))
    return out


def tempo_agreement(table: pd.DataFrame, manifest: pd.DataFrame) -> pd.DataFrame:
    """Per genre: share of clips whose beat_track tempo (the features' ``tempo``) is within 5 %
    of the intended tempo, or of its double/half (the tracker's octave errors)."""
    intended = manifest["tempo_bpm"].to_numpy(dtype=float)
    ratio = table["tempo"].to_numpy(dtype=float) / intended
    octave_ok = np.min([np.abs(ratio * k - 1) for k in (0.5, 1.0, 2.0)], axis=0) < 0.05
    return pd.DataFrame({"genre": manifest["genre"].to_numpy(dtype=object),
                         "exact": np.abs(ratio - 1) < 0.05, "octave": octave_ok}
                        ).groupby("genre")[["exact", "octave"]].mean().round(2)


def plot_mels(path: Path, seed: int, seconds: float = 8.0) -> None:
    """The first seconds of clip 0 of every genre as log-mel spectrograms, one panel each."""
    import librosa
    import librosa.display
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gtzan_kedro.audio.synth import clip_rng, synthesize_clip

    fig, axes = plt.subplots(5, 2, figsize=(14, 14))
    for ax, genre in zip(axes.ravel(), GENRES):
        y, meta = synthesize_clip(genre, clip_rng(seed, genre, 0), duration_s=seconds)
        mel = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=22050), ref=np.max)
        librosa.display.specshow(mel, sr=22050, x_axis="time", y_axis="mel", ax=ax, cmap="magma")
        ax.set_title(f"{genre}: {meta['tempo_bpm']:.0f} bpm, {meta['groove']}, {meta['instruments']}", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=70)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-per-genre", type=int, nargs="+", default=[10, 20])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("/tmp/sample_corpus_bench"))
    parser.add_argument("--plot", type=Path, default=None, help="write a PNG of one mel spectrogram per genre")
    args = parser.parse_args()
    if args.plot:
        plot_mels(args.plot, args.seed)
    results = []
    for n in args.n_per_genre:
        root = args.out / f"n{n}_seed{args.seed}"
        manifest, cpu_per_clip = write_corpus(root, n, args.seed, args.duration)
        table = extract(manifest, args.n_jobs)
        table.to_csv(root / "features_30_sec.csv", index=False)
        manifest.to_csv(root / "manifest.csv", index=False)
        for model, (mean, std) in score(table).items():
            results.append({"n_per_genre": n, "n_clips": len(table), "model": model,
                            "cv5_accuracy_mean": round(mean, 3), "cv5_accuracy_std": round(std, 3),
                            "synth_cpu_s_per_clip": round(cpu_per_clip, 3)})
        print(pd.DataFrame(results).to_string(index=False), flush=True)
        print("beat_track tempo within 5 % of the intended tempo (exact / allowing octave errors):")
        print(tempo_agreement(table, manifest).to_string(), flush=True)
    pd.DataFrame(results).to_csv(args.out / "results.csv", index=False)


if __name__ == "__main__":
    main()
