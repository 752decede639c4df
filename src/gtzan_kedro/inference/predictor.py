"""Genre of a whole song: cut it into segments, classify each, aggregate over the song."""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gtzan_kedro.audio.features import FEATURE_COLUMNS, feature_rows
from gtzan_kedro.audio.io import SAMPLE_RATE, AudioError, load_audio, probe, segment_bounds

TOP_K = 3
# Files longer than this are decoded in blocks, segment by segment (bounded memory), instead
# of whole; shorter ones keep the whole-file decode, whose numbers the tests pin.
LONG_FILE_SECONDS = 15 * 60.0
# Seconds of audio whose features are computed in one batched call on the streaming path.
STREAM_BATCH_SECONDS = 30.0


@dataclass
class GenrePredictor:
    """A fitted classifier over Kaggle feature rows plus what it needs to read raw audio.

    ``model`` has ``predict_proba`` (scikit-learn) or ``predict`` returning probabilities
    (Keras); its output columns are ``classes``. ``segment_seconds`` is the clip length the
    model was trained on (3 for Kaggle's 3-s table, 30 for the 30-s one).
    """

    model: Any
    classes: list[str]
    feature_columns: list[str] = field(default_factory=lambda: list(FEATURE_COLUMNS))
    segment_seconds: float = 3.0
    extractor: str = "fast"
    description: str = ""
    long_file_seconds: float = LONG_FILE_SECONDS
    # e.g. that it was trained on the synthetic sample corpus (inference.provenance)
    training_note: str = ""

    def __post_init__(self) -> None:
        self.classes = [str(c) for c in self.classes]
        self.feature_columns = list(self.feature_columns)
        self.segment_seconds = float(self.segment_seconds)
        if self.segment_seconds <= 0:
            raise ValueError(f"segment_seconds must be positive, got {self.segment_seconds}")

    def segment_probabilities(self, features: pd.DataFrame) -> np.ndarray:
        """Class probabilities (n_segments, n_classes) for Kaggle-column feature rows."""
        X = features[self.feature_columns]
        if hasattr(self.model, "predict_proba"):
            proba = self.model.predict_proba(X)
        else:  # a Keras network ends in softmax: predict() already gives probabilities
            proba = self.model.predict(X.to_numpy(dtype=np.float32), verbose=0)
        proba = np.asarray(proba, dtype=np.float64)
        if proba.ndim != 2 or proba.shape[1] != len(self.classes):
            raise ValueError(
                f"the model returned probabilities of shape {proba.shape}, "
                f"expected (n, {len(self.classes)}) for classes {self.classes}"
            )
        return proba

    def predict_signal(self, y: np.ndarray, sr: int, name: str = "<signal>") -> dict:
        """Song-level and per-segment genres of a decoded mono signal."""
        bounds = segment_bounds(y.size, sr, self.segment_seconds)
        if not bounds:
            raise AudioError(
                name,
                f"too short: {y.size / sr:.2f} s, the model needs segments of "
                f"{self.segment_seconds:g} s",
            )
        proba = self.segment_probabilities(pd.DataFrame(self._feature_rows(y, sr, name)))
        return self._summarise(proba, [a / sr for a, _ in bounds], name, y.size / sr)

    def predict_file(self, path: str | Path, max_seconds: float | None = None) -> dict:
        """Decode ``path`` and classify it; raises AudioError for files that cannot be used.

        With ``max_seconds``, a longer file is classified on its first whole segments within
        that many seconds (the result's ``note`` says so); files longer than
        ``long_file_seconds`` are decoded block by block either way.
        """
        info = probe(path)
        limit = self.long_file_seconds if max_seconds is None else min(max_seconds, self.long_file_seconds)
        if info.duration_s <= limit:
            y, sr = load_audio(path, SAMPLE_RATE, min_duration_s=0.9 * self.segment_seconds)
            return self.predict_signal(y, sr, str(path))
        max_segments = None
        if max_seconds is not None and info.duration_s > max_seconds:
            max_segments = max(1, int(max_seconds // self.segment_seconds))
        return self.predict_stream(path, info.duration_s, max_segments)

    def predict_stream(self, path: str | Path, duration_s: float, max_segments: int | None = None) -> dict:
        """Classify ``path`` decoded in blocks, a batch of segments at a time (bounded memory)."""
        from gtzan_kedro.inference.stream import stream_segments

        batch_size = max(1, int(STREAM_BATCH_SECONDS // self.segment_seconds))
        rows, batch, n_samples = [], [], 0
        name = str(path)
        for piece in stream_segments(path, SAMPLE_RATE, self.segment_seconds, max_segments=max_segments):
            batch.append(piece)
            n_samples += piece.size
            if len(batch) == batch_size:
                rows.extend(self._feature_rows(np.concatenate(batch), SAMPLE_RATE, name))
                batch = []
        if batch:
            rows.extend(self._feature_rows(np.concatenate(batch), SAMPLE_RATE, name))
        if not rows:
            raise AudioError(name, f"too short: the model needs segments of {self.segment_seconds:g} s")
        proba = self.segment_probabilities(pd.DataFrame(rows))
        starts = [i * self.segment_seconds for i in range(len(rows))]
        result = self._summarise(proba, starts, name, duration_s)
        if max_segments is not None and len(rows) == max_segments:
            result["note"] = (f"longer than the limit: classified on its first {len(rows)} "
                              f"segment(s), {n_samples / SAMPLE_RATE:.0f} s of {duration_s:.0f} s")
        return result

    def _feature_rows(self, y: np.ndarray, sr: int, name: str) -> list[dict]:
        with warnings.catch_warnings():
            # librosa warns on degenerate clips (e.g. a pure tone); the rows are still valid.
            warnings.simplefilter("ignore", category=UserWarning)
            return feature_rows(y, sr, Path(name).name, None, self.segment_seconds, self.extractor)

    def _summarise(self, proba: np.ndarray, starts: list[float], name: str, duration: float) -> dict:
        mean = proba.mean(axis=0)
        top = np.argsort(mean)[::-1][:TOP_K]
        winners = proba.argmax(axis=1)
        votes = Counter(int(i) for i in winners)
        # Ties in the vote go to the genre with the higher mean probability.
        vote_index = max(votes, key=lambda i: (votes[i], mean[i]))
        return {
            "file": name,
            "duration_s": round(float(duration), 3),
            "segment_seconds": self.segment_seconds,
            "n_segments": int(proba.shape[0]),
            "genre": self.classes[top[0]],
            "probability": float(mean[top[0]]),
            "top": [{"genre": self.classes[i], "probability": float(mean[i])} for i in top],
            "vote": {
                "genre": self.classes[vote_index],
                "votes": int(votes[vote_index]),
                "of": int(proba.shape[0]),
            },
            "segments": [
                {
                    "start_s": round(float(start), 3),
                    "genre": self.classes[int(w)],
                    "probability": float(p[int(w)]),
                }
                for start, w, p in zip(starts, winners, proba)
            ],
        }

    def predict_paths(self, paths, progress: bool = False) -> list[dict]:
        """One result per file, in order; a file that fails gives ``{"file", "error"}``."""
        from tqdm.auto import tqdm

        results = []
        for path in tqdm(list(paths), desc="classifying", unit="file", disable=not progress):
            results.append(self.safe_predict_file(path))
        return results

    def safe_predict_file(self, path: str | Path) -> dict:
        """``predict_file`` that turns any per-file failure into an error record."""
        try:
            return self.predict_file(path)
        except AudioError as exc:
            return {"file": str(path), "error": str(exc)}
        except Exception as exc:  # a decoder or feature failure is one file's problem
            return {"file": str(path), "error": f"{path}: {type(exc).__name__}: {exc}"}


@dataclass
class EmbeddingGenrePredictor(GenrePredictor):
    """A probe fitted on musicnn embeddings (the embeddings pipeline's best_embedding_probe):
    it computes the embedding ``embedding["output"]`` of model ``embedding["model"]`` from the
    audio, per 3-s patch (``level: patch``) or averaged over the file's patches (``track``),
    instead of Kaggle features. The weights come from ``weights_dir`` (or $GTZAN_MUSICNN_DIR,
    or data/06_models/pretrained/musicnn) and are loaded on first use, never pickled."""

    embedding: dict = field(default_factory=lambda: {"model": "MSD_musicnn", "output": "max_pool",
                                                     "level": "track"})
    weights_dir: str | None = None
    _extractor: Any = field(default=None, init=False, repr=False, compare=False)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_extractor"] = None  # a loaded Keras model: rebuilt from the weights on use
        return state

    @property
    def level(self) -> str:
        """``patch`` (one prediction per 3-s patch, averaged over the song) or ``track``."""
        return str(self.embedding.get("level", "track"))

    def check_weights(self) -> str:
        """The weights folder, or FetchError naming `gtzan fetch musicnn` when it is absent."""
        from gtzan_kedro.fetch import musicnn_weights_dir

        return str(musicnn_weights_dir(self.weights_dir))

    def _embedder(self):
        if self._extractor is None:
            from gtzan_kedro.models.musicnn import MusicnnExtractor

            self._extractor = MusicnnExtractor(self.embedding["model"], self.check_weights())
        return self._extractor

    def predict_signal(self, y: np.ndarray, sr: int, name: str = "<signal>") -> dict:
        """Song-level (and, for a patch probe, per-patch) genres of a decoded mono signal."""
        from gtzan_kedro.audio.musicnn_input import PATCH_SECONDS, SR, signal_patches

        if sr != SR:
            import librosa

            y, sr = librosa.resample(np.asarray(y, dtype=np.float32), orig_sr=sr, target_sr=SR), SR
        if y.size < 0.5 * PATCH_SECONDS * sr:
            raise AudioError(name, f"too short: {y.size / sr:.2f} s, the probe needs about "
                                   f"{PATCH_SECONDS:.1f} s of audio")
        values = self._embedder().patch_outputs(signal_patches(y, sr))[self.embedding["output"]]
        if self.level == "track":
            values, starts = values.mean(axis=0, keepdims=True), [0.0]
        else:
            starts = [i * PATCH_SECONDS for i in range(len(values))]
        features = pd.DataFrame(values, columns=self.feature_columns)
        result = self._summarise(self.segment_probabilities(features), starts, name, y.size / sr)
        if self.level == "track":
            # one prediction on the whole decoded signal, not a segment of segment_seconds
            result.update(level="track", segment_seconds=result["duration_s"])
        return result

    def predict_file(self, path: str | Path, max_seconds: float | None = None) -> dict:
        """Decode ``path`` at musicnn's 16 kHz and classify it (at most ``max_seconds``, if given)."""
        from gtzan_kedro.audio.musicnn_input import SR

        y, sr = load_audio(path, SR)
        if max_seconds is not None:
            y = y[:int(max_seconds * sr)]
        return self.predict_signal(y, sr, str(path))


def as_predictor(obj: Any, description: str = "") -> GenrePredictor:
    """A GenrePredictor from what training saved: a predictor, a dict bundle or an estimator.

    A dict bundle has ``model`` and optionally ``classes``, ``feature_columns``,
    ``segment_seconds`` (or ``features``: "3s"/"30s"), ``extractor``; with ``embedding``
    (``{"model", "output", "level"}``) it is a probe on musicnn embeddings; a bare estimator
    must carry string ``classes_`` (a scikit-learn Pipeline fitted on genre names).
    """
    if isinstance(obj, GenrePredictor):
        if description and not obj.description:
            obj.description = description
        return obj
    if isinstance(obj, dict):
        if "model" not in obj:
            raise ValueError(f"a model bundle needs a 'model' key, got keys {sorted(obj)}")
        model = obj["model"]
        classes = obj.get("classes", obj.get("class_names"))
        if classes is None:
            classes = _estimator_classes(model)
        seconds = obj.get("segment_seconds")
        note = str(obj.get("training_note") or "")
        if obj.get("embedding"):  # a probe on musicnn embeddings (the embeddings pipeline)
            embedding = dict(obj["embedding"])
            return EmbeddingGenrePredictor(
                model=model, classes=list(classes), feature_columns=list(obj["feature_columns"]),
                segment_seconds=seconds or (3.0 if embedding.get("level") == "patch" else 30.0),
                extractor="musicnn", description=_bundle_description(obj, description),
                training_note=note, embedding=embedding)
        if seconds is None:
            seconds = _seconds_from_features(obj.get("features", obj.get("feature_set", "3s")))
        return GenrePredictor(
            model=model,
            classes=list(classes),
            feature_columns=list(obj.get("feature_columns") or _estimator_columns(model)),
            segment_seconds=seconds,
            extractor=obj.get("extractor", "fast"),
            description=_bundle_description(obj, description),
            training_note=note,
        )
    if hasattr(obj, "predict_proba"):
        return GenrePredictor(
            model=obj,
            classes=_estimator_classes(obj),
            feature_columns=_estimator_columns(obj),
            description=description,
        )
    raise TypeError(f"cannot use a {type(obj).__name__} as a genre model")


def _bundle_description(bundle: dict, where: str) -> str:
    """E.g. ``svm on 3s features, holdout accuracy 0.742 (data/06_models/best_audio_model.pkl)``."""
    text = str(bundle.get("name", bundle.get("description", "")))
    if bundle.get("features"):
        text += f" on {bundle['features']} features"
    scores = bundle.get("protocol_scores") or {}
    if "holdout" in scores:
        text += f", holdout accuracy {scores['holdout']:.3f}"
    if where:
        text = f"{text} ({where})" if text else where
    return text


def _estimator_classes(model: Any) -> list[str]:
    classes = getattr(model, "classes_", None)
    if classes is None or not all(isinstance(c, str) for c in classes):
        raise ValueError(
            "the model does not name its classes (classes_ is missing or not genre names); "
            "save it with its class names"
        )
    return [str(c) for c in classes]


def _estimator_columns(model: Any) -> list[str]:
    names = getattr(model, "feature_names_in_", None)
    return [str(n) for n in names] if names is not None else list(FEATURE_COLUMNS)


def _seconds_from_features(features: str) -> float:
    text = str(features).lower().replace("_sec", "s").replace("-", "")
    if "30" in text:
        return 30.0
    if "3" in text:
        return 3.0
    raise ValueError(f"cannot tell the segment length of feature set {features!r}")
