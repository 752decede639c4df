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
