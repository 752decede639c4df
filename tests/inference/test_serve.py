"""The servable genre model: in-process pyfunc predict, and a real `mlflow models serve`."""

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

from gtzan_kedro.inference.pyfunc import PIP_REQUIREMENTS, GenrePyfuncModel
from gtzan_kedro.inference.resolve import load_predictor

BLUES = "gtzan/audio_sample/blues.00099.mp3"


@pytest.fixture(scope="module")
def saved_model(model_30s, tmp_path_factory):
    """The 30-s predictor saved as an MLflow pyfunc model folder."""
    path = tmp_path_factory.mktemp("served") / "genre_model"
    mlflow.pyfunc.save_model(str(path), python_model=GenrePyfuncModel(load_predictor(model_30s)),
                             pip_requirements=PIP_REQUIREMENTS)
    return path


def test_pyfunc_reads_paths_and_base64(saved_model, model_3s, clip, tmp_path):
    model = mlflow.pyfunc.load_model(str(saved_model))
    long_clip = clip(tmp_path / "long.wav", seconds=31.0)
    encoded = base64.b64encode(long_clip.read_bytes()).decode()
    frame = pd.DataFrame({
        "path": [str(long_clip), None, None, str(long_clip)],
        "audio_base64": [None, encoded, base64.b64encode(b"garbage").decode(), None],
        "filename": ["long.wav", "upload.wav", "bad.wav", np.nan],  # NaN: a record without it
    })
    out = model.predict(frame)
    assert list(out["filename"]) == ["long.wav", "upload.wav", "bad.wav", str(long_clip)]
    assert out.loc[0, "genre"] == out.loc[1, "genre"] != ""  # same audio, two transports
    assert out.loc[0, "probability"] == pytest.approx(out.loc[1, "probability"])
    assert list(out["n_segments"]) == [1, 1, 0, 1]
    assert out.loc[2, "error"].startswith("bad.wav: not a readable audio file")
    assert "/tmp" not in out.loc[2, "error"]  # the server's temp file name is not leaked
    with pytest.raises(ValueError, match="'path' or 'audio_base64' column"):
        model.predict(pd.DataFrame({"x": [1]}))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(url: str, payload: dict, timeout: float = 120.0) -> dict:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


@pytest.mark.slow
@pytest.mark.shared_data
def test_mlflow_models_serve_answers_a_genre_request(saved_model, shared_data, tmp_path):
    port = _free_port()
    bin_dir = str(Path(sys.executable).parent)  # mlflow execs `uvicorn` from PATH
    log = open(tmp_path / "serve.log", "w+")
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "models", "serve", "-m", str(saved_model),
         "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")},
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, f"server exited: {(tmp_path / 'serve.log').read_text()[-3000:]}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as ping:
                    if ping.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            assert time.monotonic() < deadline, "server did not come up within 120 s"
            time.sleep(1)
        audio = base64.b64encode(shared_data(BLUES).read_bytes()).decode()
        answer = _post(f"http://127.0.0.1:{port}/invocations", {"dataframe_records": [
            {"filename": "blues.00099.mp3", "audio_base64": audio},
            {"filename": "notes.wav", "audio_base64": base64.b64encode(b"plain text").decode()},
        ]})
        song, bad = answer["predictions"]
        assert song["filename"] == "blues.00099.mp3" and song["error"] == ""
        assert song["genre"] == "blues" and song["n_segments"] == 1
        assert [t["genre"] for t in json.loads(song["top"])][0] == "blues"
        assert bad["genre"] == "" and "notes.wav: not a readable audio file" in bad["error"]
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # uvicorn runs in the server's process group
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=15)
        log.close()
