"""The servable genre model: uploads answered, server paths refused unless allowed, bounded
requests; in-process through mlflow.pyfunc and through a real `mlflow models serve`."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest

from gtzan_kedro.inference.pyfunc import GenrePyfuncModel
from gtzan_kedro.inference.requirements import serving_requirements
from gtzan_kedro.inference.resolve import load_predictor
from gtzan_kedro.inference.serving import (
    ALLOWED_DIR_ENV,
    MAX_UPLOAD_MB_ENV,
    PATH_REFUSED,
    PATHS_DISABLED,
    ServingLimits,
)

BLUES = "gtzan/audio_sample/blues.00099.mp3"
ROCK = "gtzan/audio_real/rock.00000.wav"  # 1.32 MB: over a 1-MB upload limit


def _b64(path: Path) -> str:
    return base64.b64encode(Path(path).read_bytes()).decode()


def _assert_no_server_detail(errors) -> None:
    for error in errors:
        assert "/tmp" not in error and "/etc" not in error and "Traceback" not in error, error


@pytest.fixture(scope="module")
def saved_model(model_30s, tmp_path_factory):
    """The 30-s predictor saved as an MLflow pyfunc model folder, with the default limits."""
    path = tmp_path_factory.mktemp("served") / "genre_model"
    mlflow.pyfunc.save_model(str(path), python_model=GenrePyfuncModel(load_predictor(model_30s)),
                             pip_requirements=serving_requirements())
    return path


def test_pip_requirements_are_the_project_pins():
    import tomllib

    from packaging.requirements import Requirement

    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    declared = {Requirement(r).name: Requirement(r).specifier for r in pyproject["project"]["dependencies"]}
    requirements = [Requirement(r) for r in serving_requirements()]
    assert [r.name for r in requirements] == ["librosa", "soundfile", "soxr", "scikit-learn",
                                              "numpy", "pandas", "bottleneck", "mlflow"]
    assert all(r.specifier == declared[r.name] and str(r.specifier) for r in requirements)


def test_uploads_answered_and_paths_disabled_by_default(saved_model, clip, tmp_path, monkeypatch):
    monkeypatch.delenv(ALLOWED_DIR_ENV, raising=False)
    model = mlflow.pyfunc.load_model(str(saved_model))
    song = clip(tmp_path / "long.wav", seconds=31.0)
    frame = pd.DataFrame({
        "audio_base64": [_b64(song), base64.b64encode(b"garbage").decode(), None, None, "not base64!"],
        "path": [None, None, "/etc/passwd", "/etc/nonexistent", None],
        "filename": ["long.wav", "/home/me/bad.wav", None, np.nan, "x.wav"],  # NaN: no name
    })
    out = model.predict(frame)
    assert list(out["filename"]) == ["long.wav", "bad.wav", "passwd", "nonexistent", "x.wav"]
    assert out.loc[0, "genre"] != "" and out.loc[0, "error"] == "" and out.loc[0, "n_segments"] == 1
    assert out.loc[1, "error"].startswith("bad.wav: not a readable audio file")
    assert out.loc[2, "error"] == out.loc[3, "error"] == PATHS_DISABLED
    assert ALLOWED_DIR_ENV in PATHS_DISABLED and "audio_base64" in PATHS_DISABLED
    assert out.loc[4, "error"] == "x.wav: audio_base64 is not valid base64"
    _assert_no_server_detail(out["error"])
    no_columns = model.predict(pd.DataFrame({"x": [1]}))  # answered, not raised (no traceback)
    assert no_columns.loc[0, "error"] == "row has neither audio_base64 nor path"


def test_limits_give_per_row_errors_and_long_songs_their_first_segments(model_3s, clip, tmp_path):
    limits = ServingLimits(max_upload_bytes=300_000, max_seconds=6.0, max_rows=3)
    model = GenrePyfuncModel(load_predictor(model_3s), limits)
    ten_flac = clip(tmp_path / "ten.flac", seconds=10.0)  # under the byte limit, over the time limit
    ten_wav = clip(tmp_path / "ten.wav", seconds=10.0)  # 441 kB of 16-bit wav: over the byte limit
    small = clip(tmp_path / "small.flac", seconds=4.0)
    frame = pd.DataFrame({"filename": ["ten.flac", "ten.wav", "small.flac", "fourth.wav"],
                          "audio_base64": [_b64(ten_flac), _b64(ten_wav), _b64(small), _b64(small)]})
    out = model.predict(None, frame)
    assert out.loc[0, "error"] == "" and out.loc[0, "n_segments"] == 2
    assert "first 2 segment(s), 6 s of 10 s" in out.loc[0, "note"] and "6 s" in out.loc[0, "note"]
    assert out.loc[1, "error"] == ("ten.wav: upload too large: 0.4 MB, the limit is 0.3 MB "
                                   "(GTZAN_SERVE_MAX_UPLOAD_MB)")
    assert out.loc[2, "error"] == "" and out.loc[2, "note"] == "" and out.loc[2, "n_segments"] == 1
    assert out.loc[3, "filename"] == "fourth.wav"
    assert out.loc[3, "error"].startswith("not read: the request has 4 rows and this server answers at most 3")
    # the same song, unlimited: its 3 segments (the first two are the ones classified above)
    whole = GenrePyfuncModel(load_predictor(model_3s)).predict(None, frame.iloc[[0]])
    assert whole.loc[0, "n_segments"] == 3 and whole.loc[0, "note"] == ""
    first_two, streamed = json.loads(whole.loc[0, "segments"])[:2], json.loads(out.loc[0, "segments"])
    assert [s["genre"] for s in first_two] == [s["genre"] for s in streamed]
    assert [s["probability"] for s in streamed] == pytest.approx([s["probability"] for s in first_two])


def test_allowed_dir_reads_only_regular_files_inside_it(saved_model, clip, tmp_path, monkeypatch):
    allowed = tmp_path / "allowed"
    (allowed / "sub").mkdir(parents=True)
    inside = clip(allowed / "sub" / "song.wav", seconds=30.5)
    outside = clip(tmp_path / "outside.wav", seconds=30.5)
    (allowed / "link_out.wav").symlink_to(outside)
    (allowed / "link_in.wav").symlink_to(inside)
    monkeypatch.setenv(ALLOWED_DIR_ENV, str(allowed))
    model = mlflow.pyfunc.load_model(str(saved_model))  # the folder is read at load time
    sent = ["sub/song.wav", str(inside), "link_in.wav", "sub/../../outside.wav", "link_out.wav",
            str(outside), "/etc/passwd", "/etc/nonexistent", "sub", "/dev/zero", "missing.wav"]
    out = model.predict(pd.DataFrame({"path": sent}))
    answered = out["error"] == ""
    assert list(answered) == [True, True, True] + [False] * 8
    assert set(out.loc[~answered, "error"]) == {PATH_REFUSED}
    assert out.loc[0, "genre"] == out.loc[1, "genre"] == out.loc[2, "genre"] != ""
    assert list(out["filename"][:3]) == ["song.wav", "song.wav", "link_in.wav"]


def test_bad_serving_settings_fail_at_load_time(tmp_path):
    with pytest.raises(ValueError, match="not an existing folder"):
        ServingLimits.from_config(environ={ALLOWED_DIR_ENV: str(tmp_path / "nope")})
    with pytest.raises(ValueError, match="max_upload_mb must be a positive number"):
        ServingLimits.from_config(environ={MAX_UPLOAD_MB_ENV: "lots"})
    base = ServingLimits(max_rows=5, allowed_dir=tmp_path)
    limits = ServingLimits.from_config({"max_seconds": 60}, environ={"GTZAN_SERVE_MAX_ROWS": "7"},
                                       base=base)
    assert (limits.max_rows, limits.max_seconds, limits.allowed_dir) == (7, 60.0, None)
    assert ServingLimits().max_upload_bytes == 50_000_000 and ServingLimits().max_seconds == 900


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(url: str, payload: dict, timeout: float = 120.0) -> dict:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def _wait_for(server: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        assert server.poll() is None, f"server exited: {log.read_text()[-3000:]}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as ping:
                if ping.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        assert time.monotonic() < deadline, "server did not come up within 120 s"
        time.sleep(1)


@pytest.mark.slow
@pytest.mark.shared_data
def test_served_model_answers_uploads_and_refuses_what_it_must(saved_model, shared_data, tmp_path):
    """One request to `mlflow models serve` on 127.0.0.1: good rows answered, the rest refused."""
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "inside.mp3").write_bytes(shared_data(BLUES).read_bytes())
    (tmp_path / "outside.mp3").write_bytes(shared_data(BLUES).read_bytes())
    (allowed / "link.mp3").symlink_to(tmp_path / "outside.mp3")
    port = _free_port()
    bin_dir = str(Path(sys.executable).parent)  # mlflow execs `uvicorn` from PATH
    log_path = tmp_path / "serve.log"
    log = open(log_path, "w+")
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "models", "serve", "-m", str(saved_model),
         "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
             ALLOWED_DIR_ENV: str(allowed), MAX_UPLOAD_MB_ENV: "1"},
    )
    try:
        _wait_for(server, port, log_path)
        rows = [  # filename, audio_base64, path
            ["blues.00099.mp3", _b64(shared_data(BLUES)), None],
            [None, None, "/etc/passwd"],
            [None, None, "/etc/nonexistent"],
            [None, None, "../outside.mp3"],
            [None, None, "link.mp3"],
            [None, None, "inside.mp3"],
            ["rock.00000.wav", _b64(shared_data(ROCK)), None],
            ["notes.wav", base64.b64encode(b"plain text").decode(), None],
        ]
        answer = _post(f"http://127.0.0.1:{port}/invocations", {"dataframe_split": {
            "columns": ["filename", "audio_base64", "path"], "data": rows}})
        out = answer["predictions"]
        assert len(out) == len(rows)
        song, passwd, missing, dotdot, link, inside, big, text = out
        for good in (song, inside):
            assert good["error"] == "" and good["genre"] == "blues" and good["n_segments"] == 1
            assert [t["genre"] for t in json.loads(good["top"])][0] == "blues"
        assert song["filename"] == "blues.00099.mp3" and inside["filename"] == "inside.mp3"
        assert passwd["error"] == missing["error"] == dotdot["error"] == link["error"] == PATH_REFUSED
        assert [r["filename"] for r in (passwd, missing, dotdot, link)] == [
            "passwd", "nonexistent", "outside.mp3", "link.mp3"]
        assert big["error"] == ("rock.00000.wav: upload too large: 1.3 MB, the limit is 1 MB "
                                "(GTZAN_SERVE_MAX_UPLOAD_MB)") and big["genre"] == ""
        assert text["error"].startswith("notes.wav: not a readable audio file")
        _assert_no_server_detail(r["error"] for r in out)
        assert str(tmp_path) not in json.dumps(answer)
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # uvicorn runs in the server's process group
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=15)
        log.close()


def test_an_unexpected_failure_is_one_row_without_its_message(model_3s, clip, tmp_path):
    class Broken:
        classes_ = None

        def predict_proba(self, X):
            raise RuntimeError("cannot open /srv/secret/weights.bin")

    predictor = load_predictor(model_3s)
    predictor.model = Broken()
    model = GenrePyfuncModel(predictor)
    song = _b64(clip(tmp_path / "song.wav", seconds=3.0))
    out = model.predict(None, pd.DataFrame({"filename": ["a.wav", "b.wav"], "audio_base64": [song, song]}))
    assert list(out["error"]) == ["a.wav: could not be decoded or classified (RuntimeError)",
                                  "b.wav: could not be decoded or classified (RuntimeError)"]
    assert "/srv" not in json.dumps(out.to_dict("records"))
