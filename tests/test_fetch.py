"""Fetchers keep their real download path; here they read file:// copies (no internet)."""

import zipfile

import pandas as pd
import pytest
from click.testing import CliRunner

from gtzan_kedro import fetch
from gtzan_kedro.cli import main


def test_fetch_prsa_from_zip(tmp_path):
    csv = "No,year,month,day,hour,pm2.5,DEWP,TEMP,PRES,cbwd,Iws,Is,Ir\n1,2010,1,1,0,NA,-21,-11,1021,NW,1.79,0,0\n"
    archive = tmp_path / "uci.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(f"some/folder/{fetch.PRSA_FILENAME}", csv)
    target = fetch.fetch_prsa(tmp_path / "raw", url=archive.as_uri())
    assert target == tmp_path / "raw" / "pm25" / fetch.PRSA_FILENAME
    assert target.read_text() == csv


def test_fetch_prsa_rejects_wrong_archive(tmp_path):
    archive = tmp_path / "other.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "nothing here")
    with pytest.raises(fetch.FetchError, match="holds no PRSA"):
        fetch.fetch_prsa(tmp_path / "raw", url=archive.as_uri())
    assert not (tmp_path / "raw" / "pm25" / fetch.PRSA_FILENAME).exists()


def test_unreachable_url_names_it(tmp_path):
    missing = (tmp_path / "nowhere.zip").as_uri()
    with pytest.raises(fetch.FetchError, match="nowhere.zip"):
        fetch.fetch_prsa(tmp_path, url=missing)


@pytest.mark.shared_data
def test_split_lists_round_trip_to_the_published_csv(tmp_path, shared_data):
    published = pd.read_csv(shared_data("gtzan/fault_filtered_split.csv"))
    lists = tmp_path / "index"
    lists.mkdir()
    for split, name in fetch.SPLIT_PARTS.items():
        names = published[published.split == split].filename
        # the index lists name GTZAN's original .au files inside genre folders
        (lists / name).write_text("".join(f"{n.split('.')[0]}/{n[:-4]}.au\n" for n in names))
    target = fetch.fetch_fault_filtered_split(tmp_path / "raw", base_url=lists.as_uri())
    fetched = pd.read_csv(target)
    assert fetched.sort_values("filename").reset_index(drop=True).equals(
        published.sort_values("filename").reset_index(drop=True)
    )
    assert fetched.split.value_counts().to_dict() == {"train": 443, "test": 290, "valid": 197}


def test_unpack_kaggle_archive_layout(tmp_path):
    archive = tmp_path / "archive.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Data/genres_original/blues/blues.00000.wav", b"RIFF")
        zf.writestr("Data/images_original/blues/blues00000.png", b"PNG")
        zf.writestr("Data/features_30_sec.csv", "filename,label\n")
        zf.writestr("Data/features_3_sec.csv", "filename,label\n")
        zf.writestr("unrelated.txt", "skip me")
    dest = fetch.unpack_kaggle_archive(archive, tmp_path / "raw")
    assert (dest / "genres_original" / "blues" / "blues.00000.wav").read_bytes() == b"RIFF"
    assert (dest / "images_original" / "blues" / "blues00000.png").exists()
    assert (dest / "features_30_sec.csv").exists() and (dest / "features_3_sec.csv").exists()
    assert not (dest / "unrelated.txt").exists()
    assert not list((tmp_path / "raw").glob(".*unpacking"))


def test_cli_fetch_reports_bad_archive_without_traceback(tmp_path):
    bad = tmp_path / "not.zip"
    bad.write_text("hello")
    result = CliRunner().invoke(main, ["fetch", "gtzan", "--archive", str(bad), "--raw-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "not a readable zip archive" in result.stderr
    assert "Traceback" not in result.output


# --- musicnn weights: tested on a local copy of the real wheel (tests/musicnn_weights.py) ---
from musicnn_weights import musicnn_wheel  # noqa: E402,F401  (fixture)


def test_fetch_musicnn_from_local_wheel_unpacks_checkpoints_and_tags(tmp_path, musicnn_wheel):
    import json

    import tensorflow as tf

    cache = fetch.fetch_musicnn(tmp_path / "musicnn", source=musicnn_wheel.as_uri())
    assert fetch.musicnn_cache_is_complete(cache)
    tags = json.loads((cache / "tags.json").read_text())
    assert len(tags["MTT"]) == len(tags["MSD"]) == 50
    assert tags["MTT"][:3] == ["guitar", "classical", "slow"] and "Hip-Hop" in tags["MSD"]
    reader = tf.compat.v1.train.NewCheckpointReader(str(cache / "MSD_musicnn") + "/")
    assert len(reader.get_variable_to_shape_map()) == 150
    assert reader.get_tensor("batch_normalization/moving_mean")[0] == pytest.approx(2.198, abs=1e-3)
    assert json.loads((cache / "manifest.json").read_text())["wheel_sha256"] == fetch.MUSICNN_WHEEL_SHA256
    assert not list(tmp_path.glob(".*unpacking"))
    # cached: a second fetch does not touch the source again
    assert fetch.fetch_musicnn(cache, source=tmp_path / "gone.whl") == cache


def test_fetch_musicnn_rejects_a_wheel_with_another_hash(tmp_path):
    fake = tmp_path / fetch.MUSICNN_WHEEL
    with zipfile.ZipFile(fake, "w") as zf:
        zf.writestr("musicnn/configuration.py", "MTT_LABELS = ['a']\n")
    with pytest.raises(fetch.FetchError, match="SHA-256 .* is not musicnn 0.1.0"):
        fetch.fetch_musicnn(tmp_path / "cache", source=fake)
    assert not (tmp_path / "cache").exists()


def test_extract_musicnn_names_missing_members(tmp_path):
    fake = tmp_path / "other.whl"
    with zipfile.ZipFile(fake, "w") as zf:
        zf.writestr("musicnn/configuration.py", "MTT_LABELS = ['a']\n")
    with pytest.raises(fetch.FetchError, match="lacks .*MSD_musicnn/.index"):
        fetch.extract_musicnn_wheel(fake, tmp_path / "cache", expected_sha256=fetch.sha256_of(fake))


def test_musicnn_download_uses_pip_and_explains_failure(tmp_path, monkeypatch):
    import subprocess

    seen = {}

    def fake_run(cmd, **kwargs):
        seen["cmd"] = cmd
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: Could not find a version (network down)")

    monkeypatch.setattr(subprocess, "run", fake_run)
    with pytest.raises(fetch.FetchError, match="network down.*--wheel PATH"):
        fetch.download_musicnn_wheel(tmp_path)
    assert seen["cmd"][1:6] == ["-m", "pip", "download", "--no-deps", "--only-binary"]
    assert "musicnn==0.1.0" in seen["cmd"]


def test_musicnn_weights_dir_without_cache_names_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.delenv(fetch.MUSICNN_CACHE_ENV, raising=False)
    with pytest.raises(fetch.FetchError, match=r"not found in .*empty: run `gtzan fetch musicnn`"):
        fetch.musicnn_weights_dir(tmp_path / "empty")


def test_cli_fetch_musicnn_from_wheel(tmp_path, musicnn_wheel):
    result = CliRunner().invoke(main, ["fetch", "musicnn", "--wheel", str(musicnn_wheel),
                                       "--musicnn-dir", str(tmp_path / "w")])
    assert result.exit_code == 0, result.output
    assert "musicnn: written to" in result.output
    assert fetch.musicnn_cache_is_complete(tmp_path / "w")
