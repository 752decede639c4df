"""Fetch the real data sets into Kedro's raw layer (the project never ships them).

Each fetcher keeps the real download path and accepts any URL urllib opens, so it is
tested offline against ``file://`` copies.
"""

from __future__ import annotations

import io
import shutil
import urllib.request
import zipfile
from pathlib import Path

import pandas as pd

from gtzan_kedro.fileio import atomic_path

PRSA_FILENAME = "PRSA_data_2010.1.1-2014.12.31.csv"
PRSA_URL = "https://archive.ics.uci.edu/static/public/381/beijing+pm2+5+data.zip"
# Kereliuk, Sturm & Larsen's fault-filtered, artist-conscious split as indexed by
# jordipons/sklearn-audio-transfer-learning (the same lists ship in torchaudio's GTZAN loader).
SPLIT_BASE_URL = (
    "https://raw.githubusercontent.com/jordipons/sklearn-audio-transfer-learning/master/data/index/GTZAN"
)
SPLIT_PARTS = {"train": "train_filtered.txt", "valid": "valid_filtered.txt", "test": "test_filtered.txt"}
KAGGLE_DATASET = "andradaolteanu/gtzan-dataset-music-genre-classification"
KAGGLE_MEMBERS = ("genres_original/", "images_original/", "features_30_sec.csv", "features_3_sec.csv")


class FetchError(Exception):
    """A download or archive that could not be used; the message says what to do."""


def _download(url: str, timeout: float = 60.0) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (fixed URLs or user's)
            return response.read()
    except Exception as exc:
        raise FetchError(f"could not download {url}: {exc}") from None


def fetch_prsa(raw_dir: str | Path = "data/01_raw", url: str = PRSA_URL) -> Path:
    """Download UCI's Beijing PM2.5 zip and place its CSV at ``raw_dir/pm25/``."""
    target = Path(raw_dir) / "pm25" / PRSA_FILENAME
    payload = _download(url)
    try:
        archive = zipfile.ZipFile(io.BytesIO(payload))
    except zipfile.BadZipFile:
        raise FetchError(f"{url} is not a zip archive") from None
    member = next((m for m in archive.namelist() if m.endswith(PRSA_FILENAME)), None)
    if member is None:
        raise FetchError(f"{url} holds no {PRSA_FILENAME} (members: {archive.namelist()[:5]})")
    with atomic_path(target) as tmp:
        tmp.write_bytes(archive.read(member))
    return target


def fetch_fault_filtered_split(
    raw_dir: str | Path = "data/01_raw", base_url: str = SPLIT_BASE_URL
) -> Path:
    """Download the three fault-filtered index lists and write ``filename,split`` CSV."""
    rows = []
    for split, name in SPLIT_PARTS.items():
        text = _download(f"{base_url}/{name}").decode("utf-8")
        for line in text.split():
            # "blues/blues.00012.au" -> "blues.00012.wav", the name in Kaggle's archive
            stem = Path(line).name.rsplit(".", 1)[0]
            rows.append({"filename": f"{stem}.wav", "split": split})
    if not rows:
        raise FetchError(f"no file names found under {base_url}")
    target = Path(raw_dir) / "gtzan" / "fault_filtered_split.csv"
    with atomic_path(target) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)
    return target


def unpack_kaggle_archive(archive_path: str | Path, raw_dir: str | Path = "data/01_raw") -> Path:
    """Unpack Kaggle's GTZAN zip (``Data/genres_original`` ...) into ``raw_dir/gtzan/``."""
    archive_path = Path(archive_path)
    dest = Path(raw_dir) / "gtzan"
    try:
        archive = zipfile.ZipFile(archive_path)
    except (FileNotFoundError, zipfile.BadZipFile) as exc:
        raise FetchError(f"{archive_path}: not a readable zip archive ({exc})") from None
    wanted = []
    for member in archive.infolist():
        parts = member.filename.split("/")
        inner = "/".join(parts[1:]) if parts[0].lower() == "data" else member.filename
        if not member.is_dir() and inner.startswith(KAGGLE_MEMBERS):
            wanted.append((member, inner))
    if not wanted:
        raise FetchError(f"{archive_path}: no genres_original/ or features_*.csv inside; "
                         f"is it Kaggle's {KAGGLE_DATASET} archive?")
    staging = dest.parent / f".{dest.name}.unpacking"
    shutil.rmtree(staging, ignore_errors=True)
    for member, inner in wanted:
        out = staging / inner
        out.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(member) as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
    dest.mkdir(parents=True, exist_ok=True)
    for item in staging.iterdir():  # move finished pieces in; a crash leaves only staging
        target = dest / item.name
        if target.exists():
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        item.rename(target)
    staging.rmdir()
    return dest


def download_kaggle_archive(download_dir: str | Path) -> Path:
    """Download Kaggle's GTZAN archive with the ``kaggle`` package (needs your API token)."""
    try:
        from kaggle.api.kaggle_api_extended import KaggleApi
    except ImportError:
        raise FetchError(
            "the kaggle package is not installed: `pip install kaggle`, put your API token in "
            f"~/.kaggle/kaggle.json, or download {KAGGLE_DATASET} in a browser and run "
            "`gtzan fetch gtzan --archive PATH/TO/archive.zip`"
        ) from None
    api = KaggleApi()
    try:
        api.authenticate()
        api.dataset_download_files(KAGGLE_DATASET, path=str(download_dir), quiet=False)
    except Exception as exc:
        raise FetchError(f"Kaggle download of {KAGGLE_DATASET} failed: {exc}") from None
    zips = sorted(Path(download_dir).glob("*.zip"))
    if not zips:
        raise FetchError(f"Kaggle reported success but no zip is in {download_dir}")
    return zips[0]


# --- musicnn's pretrained weights (issue 14) ---
# The wheel on PyPI is the only published copy of the four TF1 checkpoints; the package
# itself cannot be installed next to numpy 2 / Keras 3, so we only unpack its data files.
MUSICNN_VERSION = "0.1.0"
MUSICNN_WHEEL = f"musicnn-{MUSICNN_VERSION}-py3-none-any.whl"
MUSICNN_WHEEL_SHA256 = "f38a4890c648c1ddbb141c5d96d2b0a8cfcd36746002d896989f7b88beb65cfa"
MUSICNN_MODELS = ("MSD_musicnn", "MTT_musicnn", "MSD_vgg", "MTT_vgg")
# A TF1 checkpoint saved under the prefix "<dir>/" is these two files; .meta (the graph) is not needed.
MUSICNN_CHECKPOINT_FILES = (".index", ".data-00000-of-00001", "config.json")
MUSICNN_CACHE_DIR = "data/06_models/pretrained/musicnn"
MUSICNN_CACHE_ENV = "GTZAN_MUSICNN_DIR"
MUSICNN_MANIFEST = "manifest.json"
MUSICNN_FETCH_HINT = "run `gtzan fetch musicnn` (downloads the musicnn wheel from PyPI with pip)"


def sha256_of(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_musicnn_wheel(download_dir: str | Path, source: str | Path | None = None,
                           timeout: float = 300.0) -> Path:
    """Get the musicnn wheel into ``download_dir``: with pip from PyPI, or from a local path / URL."""
    import subprocess
    import sys

    download_dir = Path(download_dir)
    download_dir.mkdir(parents=True, exist_ok=True)
    target = download_dir / MUSICNN_WHEEL
    if source is None:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
               f"musicnn=={MUSICNN_VERSION}", "-d", str(download_dir)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise FetchError(f"`pip download musicnn=={MUSICNN_VERSION}` failed: {exc}") from None
        if proc.returncode != 0 or not target.exists():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise FetchError(f"`pip download musicnn=={MUSICNN_VERSION}` failed ({tail[0]}); "
                             "check your network or pass a wheel you already have with --wheel PATH")
        return target
    text = str(source)
    local = Path(text[len("file://"):]) if text.startswith("file://") else Path(text)
    if "://" not in text or text.startswith("file://"):
        if not local.is_file():
            raise FetchError(f"{local}: no such wheel file")
        shutil.copyfile(local, target)
    else:
        target.write_bytes(_download(text, timeout=timeout))
    return target


def extract_musicnn_wheel(wheel: str | Path, cache_dir: str | Path = MUSICNN_CACHE_DIR,
                          expected_sha256: str = MUSICNN_WHEEL_SHA256) -> Path:
    """Check the wheel's hash and unpack the four checkpoints and 50+50 tag names into ``cache_dir``."""
    import ast
    import json

    wheel, cache_dir = Path(wheel), Path(cache_dir)
    actual = sha256_of(wheel)
    if actual != expected_sha256:
        raise FetchError(f"{wheel}: SHA-256 {actual} is not musicnn {MUSICNN_VERSION}'s "
                         f"{expected_sha256}; delete it and {MUSICNN_FETCH_HINT}")
    try:
        archive = zipfile.ZipFile(wheel)
    except zipfile.BadZipFile:
        raise FetchError(f"{wheel} is not a wheel (zip) archive") from None
    members = set(archive.namelist())
    wanted = [f"musicnn/{model}/{name}" for model in MUSICNN_MODELS for name in MUSICNN_CHECKPOINT_FILES]
    missing = [m for m in wanted + ["musicnn/configuration.py"] if m not in members]
    if missing:
        raise FetchError(f"{wheel} lacks {missing[:3]}; is it musicnn {MUSICNN_VERSION}?")
    # The tag lists are Python literals in configuration.py: parse them, never execute the file.
    tags = {}
    for node in ast.parse(archive.read("musicnn/configuration.py").decode("utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in ("MSD_LABELS", "MTT_LABELS"):
                tags[node.targets[0].id[:3]] = ast.literal_eval(node.value)
    if sorted(tags) != ["MSD", "MTT"] or any(len(v) != 50 for v in tags.values()):
        raise FetchError(f"{wheel}: configuration.py does not hold the 50 MSD and 50 MTT tag names")
    staging = cache_dir.parent / f".{cache_dir.name}.unpacking"
    shutil.rmtree(staging, ignore_errors=True)
    for member in wanted + ["musicnn-0.1.0.dist-info/LICENSE.md"]:
        if member not in members:
            continue
        out = staging / Path(member).relative_to(member.split("/")[0])
        out.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(member) as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
    (staging / "tags.json").write_text(json.dumps(tags, indent=1))
    manifest = {"package": "musicnn", "version": MUSICNN_VERSION, "wheel_sha256": actual,
                "models": list(MUSICNN_MODELS), "source": f"https://pypi.org/project/musicnn/{MUSICNN_VERSION}/",
                "licence": "ISC, Music Technology Group, Universitat Pompeu Fabra"}
    # The manifest is written last: a cache without it is incomplete and gets rebuilt.
    (staging / MUSICNN_MANIFEST).write_text(json.dumps(manifest, indent=1))
    if cache_dir.exists():
        shutil.rmtree(cache_dir)
    cache_dir.parent.mkdir(parents=True, exist_ok=True)
    staging.rename(cache_dir)
    return cache_dir


def musicnn_cache_is_complete(cache_dir: str | Path) -> bool:
    """True when ``cache_dir`` holds a finished unpack of the pinned wheel."""
    import json

    cache_dir = Path(cache_dir)
    try:
        manifest = json.loads((cache_dir / MUSICNN_MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    files = [cache_dir / m / n for m in MUSICNN_MODELS for n in MUSICNN_CHECKPOINT_FILES]
    return manifest.get("wheel_sha256") == MUSICNN_WHEEL_SHA256 and (cache_dir / "tags.json").exists() \
        and all(f.exists() for f in files)


def fetch_musicnn(cache_dir: str | Path = MUSICNN_CACHE_DIR, source: str | Path | None = None,
                  force: bool = False) -> Path:
    """Download (pip) or copy the musicnn wheel, verify it and unpack its weights; a no-op when cached."""
    import tempfile

    cache_dir = Path(cache_dir)
    if not force and musicnn_cache_is_complete(cache_dir):
        return cache_dir
    with tempfile.TemporaryDirectory() as tmp:
        return extract_musicnn_wheel(download_musicnn_wheel(tmp, source), cache_dir)


def musicnn_weights_dir(cache_dir: str | Path | None = None) -> Path:
    """Where the unpacked musicnn weights are (argument, $GTZAN_MUSICNN_DIR, or the project cache).

    Raises FetchError naming the command to run when they are not there (nothing is downloaded).
    """
    import os

    chosen = Path(cache_dir or os.environ.get(MUSICNN_CACHE_ENV) or MUSICNN_CACHE_DIR)
    if not musicnn_cache_is_complete(chosen):
        raise FetchError(f"musicnn weights not found in {chosen}: {MUSICNN_FETCH_HINT}, "
                         f"or point ${MUSICNN_CACHE_ENV} at a folder it wrote")
    return chosen
