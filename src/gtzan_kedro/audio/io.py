"""Load, validate and segment audio files; every failure is an AudioError naming the file."""

from __future__ import annotations

import functools
import logging
import os
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

SAMPLE_RATE = 22050
SUPPORTED_EXTENSIONS = (".wav", ".mp3", ".flac", ".ogg", ".au")
# Below this RMS a clip is digital silence: its features (chroma, centroid) are undefined.
SILENCE_RMS = 1e-5


class AudioError(Exception):
    """A file that cannot be used: ``str()`` names the file and the reason."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True)
class AudioInfo:
    """What the file header says, before decoding."""

    path: str
    duration_s: float
    sample_rate: int
    channels: int
    frames: int


_stderr_lock = threading.Lock()
_stderr_state: dict = {"depth": 0, "saved": None, "capture": None}


@contextmanager
def decoder_stderr_to_log(path: str | Path) -> Iterator[None]:
    """Send what C decoders print on file descriptor 2 while decoding ``path`` (mpg123's
    "Warning: Xing stream size off by more than 1%...", twice per cut mp3) to this module's
    log at DEBUG instead of the user's terminal, where it would sit beside the project's own
    error line for the file. Python's ``sys.stderr`` shares the descriptor, so anything else
    written there meanwhile is logged too. Nested and concurrent uses share one redirection
    (the descriptor is process-wide), restored when the last one ends."""
    with _stderr_lock:
        if _stderr_state["depth"] == 0:
            try:
                sys.stderr.flush()
                capture = tempfile.TemporaryFile(mode="w+b")
                saved = os.dup(2)
                os.dup2(capture.fileno(), 2)
            except (OSError, ValueError, AttributeError):  # no usable fd 2: nothing to keep out
                capture = saved = None
            _stderr_state.update(saved=saved, capture=capture)
        _stderr_state["depth"] += 1
    try:
        yield
    finally:
        with _stderr_lock:
            _stderr_state["depth"] -= 1
            if _stderr_state["depth"] == 0 and _stderr_state["saved"] is not None:
                saved, capture = _stderr_state["saved"], _stderr_state["capture"]
                try:
                    sys.stderr.flush()
                except (OSError, ValueError, AttributeError):
                    pass
                os.dup2(saved, 2)
                os.close(saved)
                capture.seek(0)
                text = capture.read().decode("utf-8", errors="replace").strip()
                capture.close()
                _stderr_state.update(saved=None, capture=None)
                if text:
                    logger.debug("%s: decoder messages: %s", path, text)


def one_blas_thread(fn):
    """Runs ``fn`` with BLAS on one thread (threadpoolctl), so a clip's features and tensors
    are the same bits whatever process computes them. OpenBLAS sums a product in another order
    on one thread than on two: the mel filterbank's output differed in the last float32 digits
    (up to 1e-3 on an MFCC variance) between ingest in joblib's workers (one BLAS thread each)
    and on the Dask runner's workers (the driver's two), and the CNNs trained on them drifted
    apart. Ingest runs clips in parallel processes, where joblib already gave each one thread;
    the limit itself costs about 0.2 ms a call."""

    @functools.wraps(fn)
    def pinned(*args, **kwargs):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return pinned


def is_audio_file(path: str | Path) -> bool:
    """True when the extension is one we decode."""
    return Path(path).suffix.lower() in SUPPORTED_EXTENSIONS


def find_audio_files(paths: list[str | Path] | tuple[str | Path, ...]) -> list[Path]:
    """Expand files and folders (recursively) into audio files, sorted within each folder."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and is_audio_file(p)))
        else:
            found.append(path)
    return found


def probe(path: str | Path) -> AudioInfo:
    """Read the header of ``path``; raise AudioError when it is missing or not audio."""
    import soundfile as sf

    path = Path(path)
    if not path.exists():
        raise AudioError(path, "file not found")
    if path.stat().st_size == 0:
        raise AudioError(path, "empty file (0 bytes)")
    try:
        with decoder_stderr_to_log(path):
            info = sf.info(str(path))
    except Exception as exc:  # libsndfile's errors carry no common base we can rely on
        raise AudioError(path, f"not a readable audio file ({_short(exc)})") from None
    if info.frames <= 0 or info.samplerate <= 0:
        raise AudioError(path, "no audio frames in file")
    missing = _wav_missing_bytes(path) if path.suffix.lower() == ".wav" else 0
    if missing > 0:
        raise AudioError(path, f"truncated: the WAV header promises {missing} more bytes than the file holds")
    return AudioInfo(
        path=str(path),
        duration_s=info.frames / info.samplerate,
        sample_rate=int(info.samplerate),
        channels=int(info.channels),
        frames=int(info.frames),
    )


def load_audio(
    path: str | Path,
    sr: int = SAMPLE_RATE,
    *,
    min_duration_s: float = 0.0,
    allow_silent: bool = False,
) -> tuple[np.ndarray, int]:
    """Decode ``path`` to mono float32 at ``sr`` (librosa's resampler), validated.

    Raises AudioError for unreadable, empty, truncated, too-short or silent files.
    """
    import librosa

    info = probe(path)
    try:
        with warnings.catch_warnings(), decoder_stderr_to_log(path):
            warnings.simplefilter("ignore")
            y, sr_out = librosa.load(str(path), sr=sr, mono=True)
    except Exception as exc:
        raise AudioError(path, f"decoding failed ({_short(exc)})") from None
    expected = info.frames * sr / info.sample_rate
    # The header promised more samples than the data holds: the file was cut short.
    if y.size < 0.9 * expected - sr * 0.05:
        raise AudioError(
            path,
            f"truncated: header says {info.duration_s:.2f} s, decoded {y.size / sr:.2f} s",
        )
    validate_signal(y, sr, path, min_duration_s=min_duration_s, allow_silent=allow_silent)
    return y.astype(np.float32, copy=False), int(sr_out)


def validate_signal(
    y: np.ndarray,
    sr: int,
    path: str | Path = "<signal>",
    *,
    min_duration_s: float = 0.0,
    allow_silent: bool = False,
) -> None:
    """Raise AudioError when a decoded signal is empty, non-finite, too short or silent."""
    if y.size == 0:
        raise AudioError(path, "no audio samples after decoding")
    if not np.all(np.isfinite(y)):
        raise AudioError(path, "signal contains NaN or infinite samples")
    duration = y.size / sr
    if duration < min_duration_s:
        raise AudioError(
            path, f"too short: {duration:.2f} s, at least {min_duration_s:.2f} s needed"
        )
    if not allow_silent and float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) < SILENCE_RMS:
        raise AudioError(path, "silent: no signal above the noise floor")


def segment_bounds(
    n_samples: int, sr: int, segment_seconds: float, min_fraction: float = 0.9
) -> list[tuple[int, int]]:
    """Start/stop sample indices of consecutive segments of ``segment_seconds``.

    A final partial segment is kept when it is at least ``min_fraction`` of a full one,
    so a 29.93-s GTZAN clip still gives Kaggle's ten 3-s segments.
    """
    seg = int(round(segment_seconds * sr))
    if seg <= 0:
        raise ValueError(f"segment_seconds must be positive, got {segment_seconds}")
    bounds = [(start, start + seg) for start in range(0, n_samples - seg + 1, seg)]
    tail_start = len(bounds) * seg
    if n_samples - tail_start >= min_fraction * seg:
        bounds.append((tail_start, n_samples))
    return bounds


def segment(
    y: np.ndarray, sr: int, segment_seconds: float, min_fraction: float = 0.9
) -> list[np.ndarray]:
    """Cut ``y`` into consecutive segments (see ``segment_bounds``)."""
    return [y[a:b] for a, b in segment_bounds(y.size, sr, segment_seconds, min_fraction)]


def _wav_missing_bytes(path: Path) -> int:
    """Bytes the RIFF ``data`` chunk declares beyond the end of the file (0 when complete).

    libsndfile silently shortens a cut WAV to what is there, so a truncated download would
    pass as a shorter clip; the declared chunk size tells the truth.
    """
    import struct

    size = path.stat().st_size
    with open(path, "rb") as handle:
        if handle.read(4) != b"RIFF":
            return 0
        handle.seek(12)
        while True:
            header = handle.read(8)
            if len(header) < 8:
                return 0
            chunk_id, chunk_size = struct.unpack("<4sI", header)
            if chunk_id == b"data":
                return max(0, handle.tell() + chunk_size - size)
            handle.seek(chunk_size + (chunk_size & 1), 1)


def _short(exc: BaseException) -> str:
    """The first line of an exception's message, without the path libsndfile repeats."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    if first.startswith("Error opening") and "': " in first:
        first = first.split("': ", 1)[1]
    if "is not a regular file" in first:
        # libsndfile says this of a file it exists but cannot parse (e.g. text named .mp3)
        first = "format not recognised"
    return first.rstrip(".")[:200]
