"""Reference vs fast Kaggle-feature extraction, side by side on the same clips.

Every clip is decoded once; both extractors then compute its 30-s row and its 3-s rows
(interleaved clip by clip, so machine load hits both alike). Prints per-track time,
tracks per second and peak memory per extractor and window, the scaling with more
workers, the parity of the two, and as its last line::

    extract speedup: X.XX (reference A tracks/s, fast B tracks/s)

(one worker each; a "track" is its 30-s row plus its 3-s rows). Clips come from
``--audio-dir`` (default data/01_raw/gtzan/genres_original) or, when that holds no audio,
from the synthetic sample-corpus generator written to a temporary folder.

    make bench BENCH_ARGS="--clips 10 --workers 1 2"
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from gtzan_kedro.audio.features import FEATURE_COLUMNS, EXTRACTORS, feature_rows  # noqa: E402
from gtzan_kedro.audio.io import SAMPLE_RATE, find_audio_files, load_audio  # noqa: E402

WINDOWS = {"30-s": None, "3-s": 3.0}


def synthetic_clips(folder: Path, n_clips: int, duration_s: float, seed: int = 0) -> list[Path]:
    """Write ``n_clips`` sample-corpus clips (cycling through the genres) as WAVs."""
    import soundfile as sf

    try:
        from gtzan_kedro.audio.synth import GENRES, clip_rng, synthesize_clip
    except ImportError:  # the generator is optional here: chirps and noise time the same
        GENRES, clip_rng, synthesize_clip = None, None, None
    paths = []
    for i in range(n_clips):
        if synthesize_clip is not None:
            genre = GENRES[i % len(GENRES)]
            y, _ = synthesize_clip(genre, clip_rng(seed, genre, i // len(GENRES)), duration_s)
        else:
            import librosa

            genre = "synthetic"
            rng = np.random.default_rng([seed, i])
            y = 0.3 * librosa.chirp(fmin=110 * (1 + i % 4), fmax=4000, sr=SAMPLE_RATE,
                                    duration=duration_s) + 0.05 * rng.standard_normal(
                int(duration_s * SAMPLE_RATE))
        path = folder / genre / f"{genre}.{i:05d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, y, SAMPLE_RATE, subtype="PCM_16")
        paths.append(path)
    return paths


def timed_track(y: np.ndarray, sr: int, name: str, extractor: str) -> dict:
    """Seconds spent on each window of one decoded track, and its rows."""
    out = {}
    for window, seconds in WINDOWS.items():
        started = time.perf_counter()
        out[window] = feature_rows(y, sr, name, None, seconds, extractor=extractor)
        out[f"{window} s"] = time.perf_counter() - started
    return out


def peak_memory_mb(y: np.ndarray, sr: int, extractor: str, seconds: float | None) -> float:
    """Peak traced allocation (numpy included) while extracting one track's window."""
    tracemalloc.start()
    feature_rows(y, sr, "clip.wav", None, seconds, extractor=extractor)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def parallel_rate(clips, sr: int, extractor: str, workers: int) -> tuple[float, dict]:
    """Tracks per second with ``workers`` loky processes (pool warmed up first)."""
    from joblib import Parallel, delayed

    with Parallel(n_jobs=workers, backend="loky") as parallel:
        parallel(delayed(timed_track)(y[: sr * 3], sr, "warm.wav", extractor)
                 for y, _ in clips[:workers])  # imports and numba JIT outside the clock
        started = time.perf_counter()
        results = parallel(delayed(timed_track)(y, sr, name, extractor) for y, name in clips)
        wall = time.perf_counter() - started
    return len(clips) / wall, {w: float(np.mean([r[f"{w} s"] for r in results])) for w in WINDOWS}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--audio-dir", default=str(REPO / "data/01_raw/gtzan/genres_original"))
    parser.add_argument("--clips", type=int, default=10, help="clips to time (default 10)")
    parser.add_argument("--duration", type=float, default=30.0,
                        help="length of synthetic clips in seconds (default 30)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="worker counts for the scaling table (default: 1 2)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="extract_bench_") as scratch:
        audio_dir = Path(args.audio_dir)
        paths = find_audio_files([audio_dir]) if audio_dir.is_dir() else []
        if paths:
            source = str(audio_dir)
            paths = paths[:: max(1, len(paths) // args.clips)][: args.clips]
        else:
            source = f"{args.clips} synthetic sample-corpus clips ({args.duration:g} s)"
            paths = synthetic_clips(Path(scratch), args.clips, args.duration)
        clips = [(load_audio(p)[0], p.name) for p in paths]
    sr = SAMPLE_RATE
    seconds_audio = sum(y.size for y, _ in clips) / sr
    print(f"clips: {len(clips)} from {source}, {seconds_audio:.0f} s of audio; "
          f"cpu count {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")

    for extractor in EXTRACTORS:  # imports, caches and the numba JIT outside the clock
        timed_track(clips[0][0][: sr * 4], sr, "warm.wav", extractor)

    # one worker: interleave the extractors clip by clip on the same decoded signal
    times = {ex: {w: [] for w in WINDOWS} for ex in EXTRACTORS}
    worst = {w: 0.0 for w in WINDOWS}
    tempo_equal = True
    for y, name in clips:
        got = {ex: timed_track(y, sr, name, ex) for ex in EXTRACTORS}
        for w in WINDOWS:
            for ex in EXTRACTORS:
                times[ex][w].append(got[ex][f"{w} s"])
            ref = np.array([[r[c] for c in FEATURE_COLUMNS] for r in got["reference"][w]], float)
            fast = np.array([[r[c] for c in FEATURE_COLUMNS] for r in got["fast"][w]], float)
            worst[w] = max(worst[w], float(np.max(np.abs(fast - ref) / np.maximum(np.abs(ref), 1e-7))))
            tempo_equal &= bool(np.array_equal(ref[:, FEATURE_COLUMNS.index("tempo")],
                                               fast[:, FEATURE_COLUMNS.index("tempo")]))

    print("\none worker, per track (mean over clips):")
    print(f"{'extractor':<10} {'window':<6} {'s/track':>8} {'tracks/s':>9} {'peak MiB':>9}")
    rate = {}
    for ex in EXTRACTORS:
        for w, seconds in WINDOWS.items():
            per_track = float(np.mean(times[ex][w]))
            peak = peak_memory_mb(clips[0][0], sr, ex, seconds)
            print(f"{ex:<10} {w:<6} {per_track:8.3f} {1 / per_track:9.2f} {peak:9.1f}")
        total = float(np.mean(np.add(times[ex]["30-s"], times[ex]["3-s"])))
        rate[ex] = 1 / total
        print(f"{ex:<10} {'both':<6} {total:8.3f} {rate[ex]:9.2f}")
    for w in WINDOWS:
        ratio = np.mean(times["reference"][w]) / np.mean(times["fast"][w])
        print(f"speedup {w}: {ratio:.2f}x")
    print(f"parity: max relative difference 30-s {worst['30-s']:.1e}, 3-s {worst['3-s']:.1e} "
          f"(near-zero values floored at 1e-7); tempo identical: {tempo_equal}")

    if any(n > 1 for n in args.workers):
        print("\nscaling (loky processes; tracks/s are wall-clock, both windows per track):")
        print(f"{'extractor':<10} {'workers':>7} {'tracks/s':>9} {'30-s s/track':>13} "
              f"{'3-s s/track':>12}")
        for ex in EXTRACTORS:
            for n in args.workers:
                tps, per = parallel_rate(clips, sr, ex, n)
                print(f"{ex:<10} {n:>7} {tps:9.2f} {per['30-s']:13.3f} {per['3-s']:12.3f}")

    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess max RSS {max_rss:.0f} MiB; load average now {os.getloadavg()[0]:.2f}")
    print(f"extract speedup: {rate['fast'] / rate['reference']:.2f} "
          f"(reference {rate['reference']:.2f} tracks/s, fast {rate['fast']:.2f} tracks/s)")


if __name__ == "__main__":
    main()
