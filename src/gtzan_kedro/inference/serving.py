"""What the served model accepts: its limits, and which server-side paths (if any) it reads.

Read once when the model is loaded (``GenrePyfuncModel.load_context``), from the model's
config (``model_config`` given when it was logged) and then environment variables, which
win. By default the served model reads uploaded bytes only; a ``path`` row is refused.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ALLOWED_DIR_ENV = "GTZAN_SERVE_ALLOWED_DIR"
MAX_UPLOAD_MB_ENV = "GTZAN_SERVE_MAX_UPLOAD_MB"
MAX_SECONDS_ENV = "GTZAN_SERVE_MAX_SECONDS"
MAX_ROWS_ENV = "GTZAN_SERVE_MAX_ROWS"
MB = 1_000_000

PATHS_DISABLED = (
    "path inputs are disabled on this server: send the file's bytes as audio_base64 (with "
    f"its filename), or start the server with {ALLOWED_DIR_ENV}=<folder> to let it read "
    "files inside that folder"
)
# One message for every refused path (missing, outside the folder, a link out of it, not a
# regular file), so a client cannot tell which files exist on the server.
PATH_REFUSED = (
    "path refused: only existing regular files inside the server's allowed folder can be "
    "read; send the file's bytes as audio_base64 instead"
)


@dataclass(frozen=True)
class ServingLimits:
    """Bounds on one request: bytes per file, decoded seconds per file, rows; allowed folder."""

    max_upload_bytes: int = 50 * MB
    max_seconds: float = 15 * 60.0
    max_rows: int = 32
    allowed_dir: Path | None = None

    @classmethod
    def from_config(
        cls,
        model_config: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        base: ServingLimits | None = None,
    ) -> ServingLimits:
        """``base``'s limits (or the defaults), overridden by ``model_config``, then by GTZAN_SERVE_*.

        The allowed folder never comes from ``base``: it is the serving machine's choice.
        """
        base = base or cls()
        environ = os.environ if environ is None else environ
        config = dict(model_config or {})
        pairs = {
            "max_upload_mb": MAX_UPLOAD_MB_ENV, "max_seconds": MAX_SECONDS_ENV,
            "max_rows": MAX_ROWS_ENV, "allowed_dir": ALLOWED_DIR_ENV,
        }
        for key, env in pairs.items():
            if environ.get(env):
                config[key] = environ[env]
        return cls(
            max_upload_bytes=int(_positive(config, "max_upload_mb", base.max_upload_bytes / MB) * MB),
            max_seconds=_positive(config, "max_seconds", base.max_seconds),
            max_rows=int(_positive(config, "max_rows", base.max_rows)),
            allowed_dir=_allowed_dir(config.get("allowed_dir")),
        )

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ServingLimits:
        """Limits from parameters (``max_upload_mb``, ``max_seconds``, ``max_rows``); no folder."""
        return cls.from_config({k: v for k, v in params.items() if k != "allowed_dir"}, environ={})


def _positive(config: dict, key: str, default: float) -> float:
    value = config.get(key, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if not number > 0:
        raise ValueError(f"serving limit {key} must be a positive number, got {value!r} "
                         f"(model_config or the GTZAN_SERVE_* environment variables)")
    return number


def _allowed_dir(value: Any) -> Path | None:
    if value in (None, ""):
        return None
    folder = Path(str(value)).expanduser()
    if not folder.is_dir():
        raise ValueError(f"{ALLOWED_DIR_ENV}={value}: not an existing folder; "
                         "set it to the folder whose files clients may name, or unset it")
    return folder.resolve()


def allowed_file(sent: str, allowed_dir: Path) -> Path | None:
    """The regular file ``sent`` names inside ``allowed_dir`` (links and .. resolved), or None.

    A relative path is taken relative to the folder.
    """
    candidate = Path(sent)
    if not candidate.is_absolute():
        candidate = allowed_dir / candidate
    try:
        resolved = candidate.resolve(strict=True)
        mode = resolved.stat().st_mode
    except (OSError, RuntimeError, ValueError):  # missing, a link loop, an embedded NUL
        return None
    if not resolved.is_relative_to(allowed_dir) or not stat.S_ISREG(mode):
        return None
    return resolved


def decoded_size(encoded: str) -> int:
    """Bytes that ``encoded`` base64 text decodes to, without decoding it."""
    text = encoded.strip()
    return len(text) * 3 // 4 - (len(text) - len(text.rstrip("=")))
