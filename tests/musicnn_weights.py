"""The musicnn 0.1.0 wheel and its unpacked weights for tests (never committed, never ../shared).

The wheel is looked for in $GTZAN_MUSICNN_WHEEL, ~/.cache/gtzan-kedro/ and /tmp/musicnn_wheel/;
when none is there it is fetched once with `pip download` into ~/.cache/gtzan-kedro/. Tests
that need it skip with the reason when neither works (no network and no copy), unless
REQUIRE_MUSICNN_WEIGHTS=1, where they fail.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from gtzan_kedro import fetch

CACHE = Path(os.environ.get("GTZAN_KEDRO_CACHE", Path.home() / ".cache" / "gtzan-kedro"))
CANDIDATES = (CACHE / fetch.MUSICNN_WHEEL, Path("/tmp/musicnn_wheel") / fetch.MUSICNN_WHEEL)


@functools.lru_cache(maxsize=1)
def _wheel() -> tuple[Path | None, str]:
    """A verified local wheel, or None and why there is none."""
    env = os.environ.get("GTZAN_MUSICNN_WHEEL")
    for path in ([Path(env)] if env else []) + list(CANDIDATES):
        if path.is_file() and fetch.sha256_of(path) == fetch.MUSICNN_WHEEL_SHA256:
            return path, ""
    CACHE.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
           f"musicnn=={fetch.MUSICNN_VERSION}", "-d", str(CACHE)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
        reason = (proc.stderr or proc.stdout).strip().splitlines()[-1:] if proc.returncode else []
    except (OSError, subprocess.TimeoutExpired) as exc:
        reason = [str(exc)]
    target = CACHE / fetch.MUSICNN_WHEEL
    if target.is_file() and fetch.sha256_of(target) == fetch.MUSICNN_WHEEL_SHA256:
        return target, ""
    return None, (f"musicnn {fetch.MUSICNN_VERSION} wheel not available: no copy in "
                  f"{', '.join(map(str, CANDIDATES))} or $GTZAN_MUSICNN_WHEEL, and `pip download` "
                  f"failed ({reason[0] if reason else 'no wheel written'})")


def _skip_or_fail(reason: str):
    if os.environ.get("REQUIRE_MUSICNN_WEIGHTS") == "1":
        pytest.fail(f"REQUIRE_MUSICNN_WEIGHTS=1 but {reason}")
    pytest.skip(reason)


def musicnn_wheel_path() -> Path:
    """The wheel's path, or skip the test saying why there is none."""
    wheel, reason = _wheel()
    if wheel is None:
        _skip_or_fail(reason)
    return wheel


@functools.lru_cache(maxsize=1)
def _weights_dir() -> Path:
    # one unpack per test process, in a temp dir removed at exit
    root = Path(tempfile.mkdtemp(prefix="musicnn-weights-"))
    import atexit
    import shutil

    atexit.register(shutil.rmtree, root, True)
    return fetch.extract_musicnn_wheel(musicnn_wheel_path(), root / "musicnn")


@pytest.fixture(scope="session")
def musicnn_wheel() -> Path:
    """Path of a verified musicnn 0.1.0 wheel."""
    return musicnn_wheel_path()


@pytest.fixture(scope="session")
def musicnn_dir() -> Path:
    """A folder with the four unpacked checkpoints and tags.json, as `gtzan fetch musicnn` writes."""
    musicnn_wheel_path()
    return _weights_dir()
