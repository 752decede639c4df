"""Decode a long audio file block by block, resampled to the model's rate, segment by segment.

Memory stays bounded by one block plus one segment whatever the file's length: libsndfile
decodes wav, flac, ogg, au and (libsndfile >= 1.1) mp3 incrementally, and soxr's streaming
resampler carries its filter state across blocks. The samples match ``librosa.load``'s
(channel mean, then soxr HQ) up to the resampler's rounding at block edges.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from gtzan_kedro.audio.io import SILENCE_RMS, AudioError, decoder_stderr_to_log

BLOCK_SECONDS = 10.0
# librosa.load's default resampler (res_type="soxr_hq").
SOXR_QUALITY = "HQ"


def stream_segments(
    path: str | Path,
    sr: int,
    segment_seconds: float,
    *,
    max_segments: int | None = None,
    min_fraction: float = 0.9,
    block_seconds: float = BLOCK_SECONDS,
) -> Iterator[np.ndarray]:
    """Consecutive mono float32 segments of ``path`` at ``sr`` (the last kept at >= min_fraction).

    Stops after ``max_segments`` when given (the rest of the file is not decoded). Raises
    AudioError, after the segments it could give, when the signal holds NaN/inf, is silent
    or is shorter than its header says.
    """
    import soundfile as sf
    import soxr

    seg = int(round(segment_seconds * sr))
    if seg <= 0:
        raise ValueError(f"segment_seconds must be positive, got {segment_seconds}")
    emitted = 0
    energy, n_out, n_in = 0.0, 0, 0
    # only around the decoder's own calls: between yields the caller's output is its own
    with decoder_stderr_to_log(path):
        handle = sf.SoundFile(str(path))
    with handle:
        native = int(handle.samplerate)
        resampler = (soxr.ResampleStream(native, sr, 1, dtype="float32", quality=SOXR_QUALITY)
                     if native != sr else None)
        blocksize = max(1, int(block_seconds * native))
        buffer = np.empty(0, dtype=np.float32)
        done = False
        while not done:
            with decoder_stderr_to_log(path):
                block = handle.read(blocksize, dtype="float32", always_2d=True)
            done = block.shape[0] < blocksize
            n_in += block.shape[0]
            mono = block.mean(axis=1, dtype=np.float32)
            if resampler is not None:
                mono = resampler.resample_chunk(mono, last=done)
            if not np.all(np.isfinite(mono)):
                raise AudioError(path, "signal contains NaN or infinite samples")
            energy += float(np.square(mono, dtype=np.float64).sum())
            n_out += mono.size
            buffer = np.concatenate([buffer, mono]) if buffer.size else mono
            while buffer.size >= seg:
                yield buffer[:seg].copy()
                buffer = buffer[seg:]
                emitted += 1
                if max_segments is not None and emitted >= max_segments:
                    return
        frames = handle.frames
    if buffer.size and buffer.size >= min_fraction * seg:
        yield buffer
    if frames > 0 and n_in < 0.9 * frames:
        raise AudioError(path, f"truncated: header says {frames / native:.2f} s, "
                               f"decoded {n_in / native:.2f} s")
    if n_out and np.sqrt(energy / n_out) < SILENCE_RMS:
        raise AudioError(path, "silent: no signal above the noise floor")
