"""Nodes of the image_models pipeline: CNNs on 3-s spectrogram tensors, a CNN on 30-s
mel-spectrogram images, and VGG16 / AlexNet-style transfer models on binned-FFT images."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from gtzan_kedro.audio.images import image_array, image_track_id
from gtzan_kedro.pipelines.image_models.training import SampleSet, evaluate_keras

logger = logging.getLogger(__name__)

TENSOR_KEYS = ("mel", "stft", "mfcc")


def load_segment_samples(
    segment_tensors: dict[str, Callable[[], dict]], tensor: str, cmvn_window: int | None = None,
    max_tracks: int | None = None,
) -> SampleSet:
    """Stack one tensor kind of every track's npz into (segments, bins, frames) samples.

    A partition that cannot be read or lacks the tensor is logged with its id and skipped;
    ``cmvn_window`` applies sliding cepstral mean/variance normalisation (for MFCCs).
    """
    from gtzan_kedro.models.cnn import sliding_cmvn

    if tensor not in TENSOR_KEYS:
        raise ValueError(f"tensor must be one of {TENSOR_KEYS}, got {tensor!r}")
    arrays, labels, tracks, skipped = [], [], [], []
    keys = sorted(segment_tensors)[: max_tracks or None]
    for key in tqdm(keys, desc=f"load {tensor}", unit="track"):
        try:
            data = segment_tensors[key]()
            values = np.asarray(data[tensor], dtype=np.float32)
            label, track_id = str(data["label"].reshape(-1)[0]), str(data["track_id"].reshape(-1)[0])
            if values.ndim != 3 or len(values) == 0:
                raise ValueError(f"'{tensor}' has shape {values.shape}, expected (segments, bins, frames)")
            if arrays and values.shape[1:] != arrays[0].shape[1:]:
                raise ValueError(f"'{tensor}' segments are {values.shape[1:]}, the others "
                                 f"{arrays[0].shape[1:]}")
        except Exception as exc:  # one unreadable partition must not cost the others
            logger.error("segment_tensors partition %s skipped: %s", key, exc)
            skipped.append(key)
            continue
        if cmvn_window:
            values = sliding_cmvn(values, window=int(cmvn_window))
        arrays.append(values)
        labels += [label] * len(values)
        tracks += [track_id] * len(values)
    if not arrays:
        raise ValueError("no usable segment_tensors partitions: run `kedro run --pipeline ingest` first")
    if skipped:
        logger.warning("%d segment_tensors partitions skipped (see errors above)", len(skipped))
    return SampleSet(np.concatenate(arrays)[..., np.newaxis], labels, tracks)


def load_image_samples(
    images: dict[str, Callable[[], Any]], height: int, width: int,
    valid_tracks: pd.DataFrame | None = None, max_tracks: int | None = None,
) -> SampleSet:
    """Every PNG partition (``<genre>/<name>``) resized to (height, width, 3) uint8, with its
    genre (the folder) and GTZAN track id (from the name; Kaggle's and ingest's names both work).

    With ``valid_tracks``, images of tracks the ingest quarantined are left out (and counted).
    """
    arrays, labels, tracks = [], [], []
    keys = sorted(images)
    if valid_tracks is not None:
        valid = set(valid_tracks["track_id"].astype(str))
        dropped = [k for k in keys if image_track_id(k) not in valid]
        if dropped:
            logger.warning("%d image(s) left out: their track is not in valid_tracks (e.g. %s)",
                           len(dropped), dropped[:3])
        keys = [k for k in keys if image_track_id(k) in valid]
    if max_tracks:
        kept = set(sorted({image_track_id(k) for k in keys})[:max_tracks])
        keys = [k for k in keys if image_track_id(k) in kept]
    for key in tqdm(keys, desc="load images", unit="image"):
        if "/" not in key:
            logger.error("image %s skipped: not inside a <genre>/ folder, so it has no label", key)
            continue
        try:
            arrays.append(image_array(images[key](), height, width))
        except Exception as exc:  # a corrupt PNG must not cost the others
            logger.error("image %s skipped: %s", key, exc)
            continue
        labels.append(key.split("/", 1)[0])
        tracks.append(image_track_id(key))
    if not arrays:
        raise ValueError("no usable images found: run the ingest pipeline (mel images) or check "
                         "the image folder in the catalog")
    return SampleSet(np.stack(arrays), labels, tracks)


def _model_row_params(params: dict[str, Any]) -> dict[str, Any]:
    flat = {f"model.{k}": str(v)[:200] for k, v in params.get("model", {}).items()}
    flat.update({f"fit.{k}": v for k, v in params.get("fit", {}).items()})
    return flat


def train_segment_cnn(
    segment_tensors: dict[str, Callable[[], dict]],
    fault_filtered_split: pd.DataFrame,
    evaluation: dict[str, Any],
    params: dict[str, Any],
) -> tuple[pd.DataFrame, dict]:
    """CNN on one tensor kind (STFT, mel or MFCC) of 3-s segments, scored per segment and
    per song under each protocol; returns comparison rows and confusion matrices."""
    from gtzan_kedro.models.cnn import build_segment_cnn

    samples = load_segment_samples(segment_tensors, params["tensor"], params.get("cmvn_window"),
                                   evaluation.get("max_tracks"))
    shape = samples.input_list[0].shape[1:]
    logger.info("%s: %d segments of %s from %d tracks", params["name"], len(samples), shape,
                len(set(samples.track_ids)))
    return evaluate_keras(
        params["name"], params["features"],
        lambda n: build_segment_cnn(shape, n, name=params["name"], **params.get("model", {})),
        samples, params.get("protocols", evaluation["protocols"]), evaluation, params.get("fit", {}),
        split_table=fault_filtered_split, log_params=_model_row_params(params),
    )


def train_image_cnn(
    images: dict[str, Callable[[], Any]],
    valid_tracks: pd.DataFrame,
    fault_filtered_split: pd.DataFrame,
    evaluation: dict[str, Any],
    params: dict[str, Any],
) -> tuple[pd.DataFrame, dict]:
    """The reports' baseline CNN on 30-s mel-spectrogram images (one image per track)."""
    from gtzan_kedro.models.cnn import build_image_cnn

    height, width = params["input_size"]
    samples = load_image_samples(images, height, width, valid_tracks, evaluation.get("max_tracks"))
    return evaluate_keras(
        params["name"], params["features"],
        lambda n: build_image_cnn((height, width, 3), n, **params.get("model", {})),
        samples, params.get("protocols", ["holdout", "fault_filtered"]), evaluation,
        params.get("fit", {}), split_table=fault_filtered_split, standardise=["none"],
        log_params=_model_row_params(params),
    )


def build_binned_fft_images(valid_tracks: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    """One binned-FFT PNG per 30-s slice of every valid track, partition
    ``<genre>/<track stem>_s<k>``; unreadable tracks are logged and skipped."""
    from PIL import Image

    from gtzan_kedro.audio.images import binned_fft_slices
    from gtzan_kedro.audio.io import AudioError, load_audio

    out: dict[str, Any] = {}
    rows = valid_tracks.head(params["max_tracks"]) if params.get("max_tracks") else valid_tracks
    for track in tqdm(rows.itertuples(index=False), total=len(rows), desc="binned FFT", unit="track"):
        try:
            y, sr = load_audio(track.path, sr=params.get("sample_rate", 22050))
            slices = binned_fft_slices(y, sr, slice_seconds=params.get("slice_seconds", 30.0),
                                       size=params.get("size", 224),
                                       colormap=params.get("colormap", "brg"))
        except (AudioError, ValueError) as exc:
            logger.error("binned-FFT image of %s skipped: %s", track.path, exc)
            continue
        stem = str(track.track_id).rsplit(".", 1)[0]
        for k, picture in enumerate(slices):
            out[f"{track.genre}/{stem}_s{k}"] = Image.fromarray(picture)
    logger.info("binned-FFT images: %d slices from %d tracks", len(out), len(rows))
    return out


def train_transfer_model(
    binned_fft_images: dict[str, Callable[[], Any]],
    mel_images: dict[str, Callable[[], Any]],
    valid_tracks: pd.DataFrame,
    fault_filtered_split: pd.DataFrame,
    evaluation: dict[str, Any],
    params: dict[str, Any],
) -> tuple[pd.DataFrame, dict]:
    """VGG16 (ImageNet weights when available) or the AlexNet-style network, fine-tuned with
    augmentation on square images; the song-level vote over a track's 30-s slices is reported.

    Missing ImageNet weights offline are an error message naming the file to place, and the
    model is skipped (no row) rather than a stack trace.
    """
    from gtzan_kedro.models.transfer import (
        PretrainedWeightsUnavailable,
        build_alexnet,
        build_vgg16,
        resolve_vgg16_weights,
    )

    architecture = params["architecture"]
    source = params.get("image_source", "binned_fft")
    if source not in ("binned_fft", "mel_image"):
        raise ValueError(f"image_source must be binned_fft or mel_image, got {source!r}")
    size = int(params.get("input_size", 224))
    model_kwargs = dict(params.get("model", {}))
    augment = params.get("augment")
    if architecture == "vgg16":
        try:
            weights_path = resolve_vgg16_weights(model_kwargs.pop("weights", None),
                                                 model_kwargs.pop("weights_path", None))
        except PretrainedWeightsUnavailable as exc:
            logger.error("%s skipped: %s", params["name"], exc)
            return pd.DataFrame(), {}

        def build(n):
            return build_vgg16((size, size, 3), n, weights=None, weights_path=weights_path,
                               augment=augment, **model_kwargs)
    elif architecture == "alexnet":
        def build(n):
            return build_alexnet((size, size, 3), n, augment=augment, **model_kwargs)
    else:
        raise ValueError(f"architecture must be vgg16 or alexnet, got {architecture!r}")
    images = binned_fft_images if source == "binned_fft" else mel_images
    samples = load_image_samples(images, size, size, valid_tracks, evaluation.get("max_tracks"))
    # the comparison row names the input actually used, so switching image_source relabels it
    features = params.get("features") or f"{source}_30s"
    return evaluate_keras(
        params["name"], features, build, samples,
        params.get("protocols", ["holdout", "fault_filtered"]), evaluation, params.get("fit", {}),
        split_table=fault_filtered_split, standardise=["none"], log_params=_model_row_params(params),
    )
