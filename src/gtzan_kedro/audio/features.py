"""The Kaggle GTZAN feature recipe: 57 librosa features per clip, as mean and variance.

``reference_features`` is the per-feature recipe Kaggle's tables were made with (librosa
defaults at 22050 Hz: n_fft=2048, hop=512). It is the reference the fast extractor is
checked against.

``fast_features`` / ``fast_features_batch`` compute the same columns from one STFT per clip
(shared by chroma, centroid, bandwidth, rolloff, HPSS and the mel spectrogram behind MFCC
and tempo), with HPSS's median filters done by a sliding-window median instead of
scipy.ndimage; equal-length clips (a track's 3-s segments) go through as one batch.
"""

from __future__ import annotations

from pathlib import Path

import numba
import numpy as np
import pandas as pd

from gtzan_kedro.audio.io import SAMPLE_RATE, load_audio, one_blas_thread, segment_bounds

N_MFCC = 20
SPECTRAL_FEATURES = (
    "chroma_stft",
    "rms",
    "spectral_centroid",
    "spectral_bandwidth",
    "rolloff",
    "zero_crossing_rate",
    "harmony",
    "perceptr",
)
FEATURE_COLUMNS: list[str] = (
    [f"{name}_{stat}" for name in SPECTRAL_FEATURES for stat in ("mean", "var")]
    + ["tempo"]
    + [f"mfcc{i}_{stat}" for i in range(1, N_MFCC + 1) for stat in ("mean", "var")]
)
KAGGLE_COLUMNS: list[str] = ["filename", "length", *FEATURE_COLUMNS, "label"]
MFCC_COLUMNS: list[str] = [c for c in FEATURE_COLUMNS if c.startswith("mfcc")]


def _mean_var(values: np.ndarray) -> tuple[float, float]:
    return float(np.mean(values)), float(np.var(values))


def reference_features(y: np.ndarray, sr: int = SAMPLE_RATE) -> dict[str, float]:
    """The 57 Kaggle features of one clip, each librosa feature computed on its own."""
    import librosa

    feats: dict[str, float] = {}
    stats = {
        "chroma_stft": librosa.feature.chroma_stft(y=y, sr=sr),
        "rms": librosa.feature.rms(y=y),
        "spectral_centroid": librosa.feature.spectral_centroid(y=y, sr=sr),
        "spectral_bandwidth": librosa.feature.spectral_bandwidth(y=y, sr=sr),
        "rolloff": librosa.feature.spectral_rolloff(y=y, sr=sr),
        "zero_crossing_rate": librosa.feature.zero_crossing_rate(y),
    }
    harmonic, percussive = librosa.effects.hpss(y)
    stats["harmony"] = harmonic
    stats["perceptr"] = percussive
    for name in SPECTRAL_FEATURES:
        feats[f"{name}_mean"], feats[f"{name}_var"] = _mean_var(stats[name])
    tempo, _ = librosa.beat.beat_track(y=y, sr=sr)
    feats["tempo"] = float(np.atleast_1d(tempo)[0])
    mfcc = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=N_MFCC)
    for i in range(N_MFCC):
        feats[f"mfcc{i + 1}_mean"], feats[f"mfcc{i + 1}_var"] = _mean_var(mfcc[i])
    return {name: feats[name] for name in FEATURE_COLUMNS}


@numba.njit(cache=True, nogil=True)
def _running_median_rows(padded: np.ndarray, size: int) -> np.ndarray:  # pragma: no cover - jitted
    """Median of every ``size`` consecutive rows of ``padded`` (odd ``size``), column-wise.

    Written by hand because scipy's n-d median filter sorts a window per element (1.2 s of
    HPSS's 1.24 s on a 30-s track) and bottleneck's per-row heaps still cost 65 ms per
    filter: here each window element keeps its rank (values, ties broken by age), updated
    for all columns at once as one row leaves and one enters, which vectorizes. The median
    is the element of rank size // 2, so values are exactly scipy's.
    """
    n = padded.shape[0] - size + 1
    m = padded.shape[1]
    half = size // 2
    out = np.empty((n, m), padded.dtype)
    vals = np.empty((size, m), padded.dtype)
    rank = np.zeros((size, m), np.int32)
    old = np.empty(m, padded.dtype)
    new = np.empty(m, padded.dtype)
    new_rank = np.zeros(m, np.int32)
    for s in range(size + n - 1):
        slot = s % size
        full = s >= size
        for c in range(m):
            new[c] = padded[s, c]
            old[c] = vals[slot, c]
            new_rank[c] = 0
        count = size if full else s
        for j in range(count):
            if j == slot:
                continue
            rj = rank[j]
            vj = vals[j]
            if full:
                for c in range(m):
                    v = vj[c]
                    rj[c] += np.int32(new[c] < v) - np.int32(old[c] <= v)
                    new_rank[c] += np.int32(v <= new[c])
            else:
                for c in range(m):
                    v = vj[c]
                    rj[c] += np.int32(new[c] < v)
                    new_rank[c] += np.int32(v <= new[c])
        for c in range(m):
            vals[slot, c] = new[c]
            rank[slot, c] = new_rank[c]
        if s >= size - 1:
            row = out[s - size + 1]
            for j in range(size):
                rj = rank[j]
                vj = vals[j]
                for c in range(m):
                    if rj[c] == half:
                        row[c] = vj[c]
    return out


def median_filter_1d(S: np.ndarray, size: int, axis: int) -> np.ndarray:
    """``scipy.ndimage.median_filter`` of odd ``size`` along one axis, ``mode="reflect"``,
    with identical values (finite inputs), an order of magnitude faster."""
    from scipy.ndimage import median_filter

    if size % 2 == 0:
        raise ValueError(f"median window must be odd, got {size}")
    length = S.shape[axis]
    if length < size:  # np.pad and scipy extend arrays shorter than the window differently
        shape = [1] * S.ndim
        shape[axis] = size
        return median_filter(S, size=shape, mode="reflect")
    moved = np.moveaxis(S, axis, 0)
    rows = moved.reshape(length, -1)
    half = size // 2
    # scipy's "reflect" (d c b a | a b c d | d c b a) is numpy's "symmetric"
    padded = np.ascontiguousarray(np.pad(rows, [(half, half), (0, 0)], mode="symmetric"))
    filtered = _running_median_rows(padded, size).reshape(moved.shape)
    return np.moveaxis(filtered, 0, axis)


def fast_hpss(D: np.ndarray, magnitude: np.ndarray | None = None,
              kernel_size: int = 31) -> tuple[np.ndarray, np.ndarray]:
    """``librosa.decompose.hpss(D)`` (power 2, margin 1, soft masks) with the fast median.

    Follows librosa 0.11's steps except that the masks multiply ``D`` directly instead of
    magnitude times phase (the same in exact arithmetic); ``D`` may carry batch axes.
    """
    S = np.abs(D) if magnitude is None else magnitude
    harm = median_filter_1d(S, kernel_size, axis=-1)
    perc = median_filter_1d(S, kernel_size, axis=-2)
    harmonic = np.empty(D.shape, D.dtype)
    percussive = np.empty(D.shape, D.dtype)
    _apply_soft_masks(np.ravel(D, order="C"), np.ravel(harm, order="C"),
                      np.ravel(perc, order="C"), np.finfo(S.dtype).tiny,
                      harmonic.reshape(-1), percussive.reshape(-1))
    return harmonic, percussive


@numba.njit(cache=True, nogil=True)
def _apply_soft_masks(D, harm, perc, tiny, harmonic, percussive):  # pragma: no cover - jitted
    """librosa.util.softmask(harm, perc, power=2, split_zeros=True) and its mirror, applied
    to ``D`` in one pass (numpy's version makes a dozen full-size temporaries)."""
    for i in range(D.size):
        h = harm[i]
        p = perc[i]
        z = max(h, p)
        if z < tiny:  # both filters silent: librosa splits the energy evenly
            h = p = z = tiny
        a = (h / z) ** 2
        b = (p / z) ** 2
        harmonic[i] = D[i] * (a / (a + b))
        percussive[i] = D[i] * (b / (b + a))


@numba.njit(cache=True, nogil=True)
def _spectral_shape(S, freq, roll_percent, tiny, centroid, bandwidth, rolloff):  # pragma: no cover
    """librosa's spectral centroid, bandwidth (p=2) and rolloff of each frame of ``S``
    (bins x frames) in one pass; librosa normalizes S twice and builds full-size
    temporaries for each, a third of the fast path's time."""
    n_bins, n_frames = S.shape
    for t in range(n_frames):
        total = 0.0
        weighted = 0.0
        running = S.dtype.type(0)  # float32 running sum: bit-for-bit numpy's cumsum
        for f in range(n_bins):
            total += S[f, t]
            weighted += freq[f] * S[f, t]
        norm = total if total >= tiny else 1.0  # librosa.util.normalize leaves silence as is
        c = weighted / norm
        spread = 0.0
        for f in range(n_bins):
            spread += S[f, t] / norm * (freq[f] - c) ** 2
        centroid[t] = c
        bandwidth[t] = spread**0.5
        last = S.dtype.type(0)
        for f in range(n_bins):
            last += S[f, t]
        threshold = roll_percent * last
        rolloff[t] = freq[n_bins - 1]
        for f in range(n_bins):
            running += S[f, t]
            if running >= threshold:
                rolloff[t] = freq[f]
                break


def fast_features_batch(
    clips: np.ndarray, sr: int = SAMPLE_RATE, n_fft: int = 2048, hop_length: int = 512
) -> list[dict[str, float]]:
    """The 57 Kaggle features of each row of ``clips`` (shape (k, n): equal-length clips).

    Matches ``reference_features`` on every clip: one STFT feeds every spectral feature,
    HPSS uses the fast exact median, and tempo is beat_track's estimate from the same
    onset envelope (its beat positions, unused by the table, are skipped).
    """
    import librosa

    clips = np.atleast_2d(clips)
    D = librosa.stft(clips, n_fft=n_fft, hop_length=hop_length)
    magnitude = np.abs(D)
    power = magnitude**2
    frames = magnitude.reshape(-1, *magnitude.shape[-2:])
    shape = np.empty((3, frames.shape[0], frames.shape[-1]))
    freq = librosa.fft_frequencies(sr=sr, n_fft=n_fft)
    tiny = np.finfo(magnitude.dtype).tiny
    for i, S in enumerate(frames):
        _spectral_shape(S, freq, magnitude.dtype.type(0.85), tiny, *shape[:, i])
    per_frame = {
        "rms": librosa.feature.rms(y=clips),  # framed on y, unwindowed: the S path differs
        "spectral_centroid": shape[0],
        "spectral_bandwidth": shape[1],
        "rolloff": shape[2],
        "zero_crossing_rate": librosa.feature.zero_crossing_rate(clips),
    }
    # one inverse STFT for both components: halves librosa's per-call block overhead
    separated = librosa.istft(np.stack(fast_hpss(D, magnitude)), hop_length=hop_length,
                              n_fft=n_fft, dtype=clips.dtype, length=clips.shape[-1])
    per_frame["harmony"], per_frame["perceptr"] = separated[0], separated[1]
    mel = librosa.feature.melspectrogram(S=power, sr=sr, n_fft=n_fft, hop_length=hop_length)
    results = []
    for i in range(clips.shape[0]):
        feats: dict[str, float] = {}
        # chroma's tuning estimate and power_to_db's top_db clip are per clip, not per batch
        per_frame["chroma_stft"] = librosa.feature.chroma_stft(S=power[i], sr=sr, n_fft=n_fft)
        for name in SPECTRAL_FEATURES:
            values = per_frame[name] if name == "chroma_stft" else per_frame[name][i]
            feats[f"{name}_mean"], feats[f"{name}_var"] = _mean_var(values)
        mel_db = librosa.power_to_db(mel[i])
        onset_envelope = librosa.onset.onset_strength(S=mel_db, sr=sr, hop_length=hop_length,
                                                      aggregate=np.median)
        tempo = (librosa.feature.tempo(onset_envelope=onset_envelope, sr=sr,
                                       hop_length=hop_length, start_bpm=120.0)
                 if onset_envelope.any() else 0.0)
        feats["tempo"] = float(np.atleast_1d(tempo)[0])
        mfcc = librosa.feature.mfcc(S=mel_db, sr=sr, n_mfcc=N_MFCC)
        for k in range(N_MFCC):
            feats[f"mfcc{k + 1}_mean"], feats[f"mfcc{k + 1}_var"] = _mean_var(mfcc[k])
        results.append({name: feats[name] for name in FEATURE_COLUMNS})
    return results


def fast_features(y: np.ndarray, sr: int = SAMPLE_RATE) -> dict[str, float]:
    """The 57 Kaggle features of one clip via the shared-STFT path (see fast_features_batch)."""
    return fast_features_batch(np.asarray(y)[np.newaxis], sr)[0]


EXTRACTORS = {"reference": reference_features, "fast": fast_features}
# Extractors that can take several equal-length clips in one call.
_BATCHED = {fast_features: fast_features_batch}


def get_extractor(extractor):
    """An extractor function from its name (``"fast"``/``"reference"``) or the function itself."""
    if callable(extractor):
        return extractor
    try:
        return EXTRACTORS[extractor]
    except KeyError:
        raise ValueError(f"unknown extractor {extractor!r}: choose one of {sorted(EXTRACTORS)}") from None


def segment_filename(filename: str, index: int) -> str:
    """Kaggle's 3-s naming: ``blues.00000.wav`` segment 3 -> ``blues.00000.3.wav``."""
    stem, dot, ext = filename.rpartition(".")
    if not dot:
        return f"{filename}.{index}"
    return f"{stem}.{index}.{ext}"


@one_blas_thread
def feature_rows(
    y: np.ndarray,
    sr: int,
    filename: str,
    label: str | None = None,
    segment_seconds: float | None = None,
    extractor=reference_features,
) -> list[dict]:
    """Kaggle-column rows for a decoded clip: one for the whole clip, or one per segment."""
    if segment_seconds is None:
        pieces = [(filename, y)]
    else:
        pieces = [
            (segment_filename(filename, i), y[a:b])
            for i, (a, b) in enumerate(segment_bounds(y.size, sr, segment_seconds))
        ]
    extractor = get_extractor(extractor)
    batch = _BATCHED.get(extractor)
    if batch is not None:
        features = [None] * len(pieces)
        sizes = sorted({piece.size for _, piece in pieces})
        for size in sizes:  # equal-length segments share one batched call
            idx = [i for i, (_, piece) in enumerate(pieces) if piece.size == size]
            for i, feats in zip(idx, batch(np.stack([pieces[i][1] for i in idx]), sr)):
                features[i] = feats
    else:
        features = [extractor(piece, sr) for _, piece in pieces]
    rows = []
    for (name, piece), feats in zip(pieces, features):
        row = {"filename": name, "length": int(piece.size)}
        row.update(feats)
        row["label"] = label
        rows.append(row)
    return rows


def file_feature_rows(
    path: str | Path,
    label: str | None = None,
    segment_seconds: float | None = None,
    sr: int = SAMPLE_RATE,
    extractor=reference_features,
) -> list[dict]:
    """Decode ``path`` (any format, rate, channels) and return its Kaggle-column rows."""
    min_duration = segment_seconds or 0.5
    y, sr = load_audio(path, sr=sr, min_duration_s=min_duration * 0.9)
    filename = Path(path).name
    return feature_rows(y, sr, filename, label, segment_seconds, extractor)


def rows_to_table(rows: list[dict]) -> pd.DataFrame:
    """Rows in Kaggle's column order (``label`` as plain object strings)."""
    table = pd.DataFrame(rows, columns=KAGGLE_COLUMNS)
    table["label"] = table["label"].astype(object)
    return table
