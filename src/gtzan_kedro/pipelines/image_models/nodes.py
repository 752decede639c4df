"""Nodes of the image_models pipeline: CNNs on 3-s spectrogram tensors, a CNN on 30-s
mel-spectrogram images, and VGG16 / AlexNet-style transfer models on binned-FFT images.

Each train node returns (comparison rows, per-split metrics, training history, per-class
metrics, confusion matrices, figures, fitted models); evaluation.keras runs the protocols, the tracking hook
logs them to the model's MLflow run."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from gtzan_kedro.evaluation.keras import KerasEvaluation, evaluate_keras, model_evaluation
from gtzan_kedro.evaluation.samples import load_image_samples, load_segment_samples

logger = logging.getLogger(__name__)

Outputs = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, dict, dict, dict]


def _outputs(result: KerasEvaluation) -> Outputs:
    """The node outputs of one Keras evaluation, in the template's order."""
    return (result.rows, result.per_split, result.history, result.per_class, result.confusion,
            result.figures, result.fitted_models)


def train_segment_cnn(
    segment_tensors: dict[str, Callable[[], dict]],
    fault_filtered_split: pd.DataFrame,
    evaluation: dict[str, Any],
    params: dict[str, Any],
    model_name: str,
) -> Outputs:
    """CNN on one tensor kind (STFT, mel or MFCC) of 3-s segments, scored per segment and
    per song under each protocol; returns comparison rows and confusion matrices."""
    from gtzan_kedro.models.cnn import build_segment_cnn

    evaluation = model_evaluation(evaluation, params)
    samples = load_segment_samples(segment_tensors, params["tensor"], params.get("cmvn_window"),
                                   evaluation.get("max_tracks"))
    shape = samples.input_list[0].shape[1:]
    logger.info("%s: %d segments of %s from %d tracks", model_name, len(samples), shape,
                len(set(samples.track_ids)))
    return _outputs(evaluate_keras(
        model_name, params["features"],
        lambda n: build_segment_cnn(shape, n, name=model_name, **params.get("model", {})),
        samples, params.get("protocols", evaluation["protocols"]), evaluation, params.get("fit", {}),
        split_table=fault_filtered_split,
    ))


def train_image_cnn(
    images: dict[str, Callable[[], Any]],
    valid_tracks: pd.DataFrame,
    fault_filtered_split: pd.DataFrame,
    evaluation: dict[str, Any],
    params: dict[str, Any],
    model_name: str,
) -> Outputs:
    """The reports' baseline CNN on 30-s mel-spectrogram images (one image per track)."""
    from gtzan_kedro.models.cnn import build_image_cnn

    evaluation = model_evaluation(evaluation, params)
    height, width = params["input_size"]
    samples = load_image_samples(images, height, width, valid_tracks, evaluation.get("max_tracks"))
    return _outputs(evaluate_keras(
        model_name, params["features"],
        lambda n: build_image_cnn((height, width, 3), n, **params.get("model", {})),
        samples, params.get("protocols", ["holdout", "fault_filtered"]), evaluation,
        params.get("fit", {}), split_table=fault_filtered_split, how=["none"],
    ))


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
    model_name: str,
) -> Outputs:
    """VGG16 (ImageNet weights when available) or the AlexNet-style network on square images;
    ``mode`` ``finetune`` (the report's: every layer trained, with augmentation) or ``frozen``
    (the base's features computed once per image, the head trained on them: the CPU budget).
    The song-level vote over a track's 30-s slices is reported.

    Missing ImageNet weights offline are an error message naming the file to place, and the
    model is skipped (no row) rather than a stack trace.
    """
    from gtzan_kedro.models.transfer import (
        PretrainedWeightsUnavailable,
        resolve_vgg16_weights,
        transfer_builder,
    )

    evaluation = model_evaluation(evaluation, params)
    architecture = params["architecture"]
    source = params.get("image_source", "binned_fft")
    if source not in ("binned_fft", "mel_image"):
        raise ValueError(f"image_source must be binned_fft or mel_image, got {source!r}")
    size = int(params.get("input_size", 224))
    mode = params.get("mode", "finetune")
    model_kwargs = dict(params.get("model", {}))
    try:
        if architecture == "vgg16":  # resolved once, here: a missing file skips the model
            model_kwargs["weights_path"] = resolve_vgg16_weights(model_kwargs.pop("weights", None),
                                                                 model_kwargs.pop("weights_path", None))
            model_kwargs["weights"] = None
        build = transfer_builder(architecture, mode=mode, input_shape=(size, size, 3),
                                 augment=params.get("augment"), **model_kwargs)
    except PretrainedWeightsUnavailable as exc:
        logger.error("%s skipped: %s", model_name, exc)
        return pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), {}, {}, {}
    logger.info("%s: %s %s at %dx%d", model_name, architecture, mode, size, size)
    images = binned_fft_images if source == "binned_fft" else mel_images
    samples = load_image_samples(images, size, size, valid_tracks, evaluation.get("max_tracks"))
    # the comparison row names the input actually used, so switching image_source relabels it
    features = params.get("features") or f"{source}_30s"
    # standardise "none": the images go in as they are, so the frozen base's feature cache
    # (keyed by image content) hits across splits and protocols
    result = evaluate_keras(
        model_name, features, build, samples,
        params.get("protocols", ["holdout", "fault_filtered"]), evaluation, params.get("fit", {}),
        split_table=fault_filtered_split, how=["none"],
        # in the node's process: the frozen base's feature cache is filled there once for every
        # split; a worker would run the base over every image again
        as_tasks=False,
    )
    # a frozen-base classifier is saved (and logged) as one Keras model on images: base + head
    result.fitted_models = {name: model.as_model() if hasattr(model, "as_model") else model
                            for name, model in result.fitted_models.items()}
    return _outputs(result)
