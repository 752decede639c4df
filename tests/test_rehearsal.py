"""`make rehearsal` (scripts/rehearsal.sh): its own project root, one resumable kedro run per
piece with a start and an end line each, and catalog paths that stay inside that root."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "rehearsal.sh"

FAKE_KEDRO = """#!/usr/bin/env bash
echo "$PWD $*" >> "$CALLS"
case "$*" in *fail_me*) exit 3;; esac
"""


def _rehearse(tmp_path: Path, pieces: str, manifest: bool = True, clips: bool = False,
              keras_home: Path | None = None):
    root = tmp_path / "rehearsal"
    raw = root / "data" / "01_raw" / "gtzan"
    raw.mkdir(parents=True, exist_ok=True)
    if manifest:
        (raw / "sample_corpus_manifest.csv").write_text("filename\n")
    if clips:
        (raw / "genres_original" / "blues").mkdir(parents=True, exist_ok=True)
        (raw / "genres_original" / "blues" / "blues.00000.wav").write_bytes(b"RIFF")
    kedro = tmp_path / "kedro"
    kedro.write_text(FAKE_KEDRO)
    kedro.chmod(0o755)
    calls = tmp_path / "calls.txt"
    env = {**os.environ, "REHEARSAL_DIR": str(root), "KEDRO": str(kedro), "CALLS": str(calls),
           "REHEARSAL_PIECES": pieces, "KERAS_HOME": str(keras_home or tmp_path / "keras")}
    result = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    lines = calls.read_text().splitlines() if calls.exists() else []
    return result, root, lines


def test_each_piece_is_one_resumable_kedro_run_in_the_rehearsal_root(tmp_path: Path) -> None:
    result, root, calls = _rehearse(tmp_path, "ingest image_models:image_models.cnn_mel fail_me reporting")
    assert calls[0] == f"{root} run --env gtzan --pipeline ingest --only-missing-outputs"
    assert "--pipeline image_models --only-missing-outputs --namespaces image_models.cnn_mel" in calls[1]
    assert len(calls) == 4                     # a failed piece does not stop the next
    assert result.returncode == 1
    log = (root / "logs" / "rehearsal.log").read_text().splitlines()
    assert [line.split()[1] for line in log] == ["start", "end"] * 4
    assert "end fail_me rc=3" in log[5]
    assert "peak_rss=" in log[1] and "user+sys=" in log[1]
    assert f"[code: {ROOT} @ " in log[0]       # which commit the piece ran
    assert (root / "logs" / "ingest.time").read_text().count("Maximum resident set size") == 1
    for link in ("conf", "pyproject.toml", "src/gtzan_kedro"):
        assert (root / link).resolve() == (ROOT / link).resolve()
    # the ingest's mel PNGs stand in for Kaggle's images_original (conf/gtzan's image input)
    kaggle = root / "data" / "01_raw" / "gtzan" / "images_original"
    assert kaggle.is_symlink() and kaggle.resolve() == (root / "data" / "03_primary" / "images_original").resolve()


def test_a_corpus_whose_writing_stopped_is_refused(tmp_path: Path) -> None:
    result, _, calls = _rehearse(tmp_path, "ingest", manifest=False, clips=True)
    assert result.returncode == 1 and calls == []
    assert "no sample_corpus_manifest.csv" in result.stdout


def test_catalog_paths_stay_in_the_rehearsal_root(tmp_path: Path) -> None:
    _, root, _ = _rehearse(tmp_path, "")
    code = ("from kedro.framework.startup import bootstrap_project\n"
            "from kedro.framework.session import KedroSession\n"
            "import sys; p = bootstrap_project(sys.argv[1]).project_path\n"
            "with KedroSession.create(project_path=p, env='gtzan') as s:\n"
            "    c = s.load_context().catalog\n"
            "    for n in ('genres_original', 'features_30_sec', 'node_fingerprints',\n"
            "              'audio_models_30s.svm.comparison_rows'):\n"
            "        d = c.get(n); print(getattr(d, '_path', None) or d._filepath)\n"
            "        print(getattr(d, '_prefer', ''))\n")
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    out = subprocess.run([sys.executable, "-c", code, str(root)], cwd=root, env=env,
                         capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-2000:]
    paths = [line for line in out.stdout.splitlines() if line.startswith("/")]
    assert len(paths) >= 4
    assert all(path.startswith(str(root / "data")) for path in paths), paths


def test_a_rerun_keeps_the_earlier_runs_log(tmp_path: Path) -> None:
    _rehearse(tmp_path, "ingest")
    (tmp_path / "rehearsal" / "logs" / "ingest.log").write_text("first run's models\n")
    _rehearse(tmp_path, "ingest")
    logs = tmp_path / "rehearsal" / "logs"
    assert (logs / "ingest.run1.log").read_text() == "first run's models\n"
    assert (logs / "ingest.log").exists() and not (logs / "ingest.run2.log").exists()


def test_without_cached_vgg16_weights_image_pieces_time_vgg16_from_random_weights(tmp_path: Path) -> None:
    offline = "--params image_models.models.vgg16.model.weights=null"
    _, _, calls = _rehearse(tmp_path, "ingest image_models:image_models.vgg16 image_models")
    assert offline not in calls[0]                       # only image_models pieces get it
    assert calls[1].endswith(f"--namespaces image_models.vgg16 {offline}")
    assert calls[2].endswith(f"--pipeline image_models --only-missing-outputs {offline}")
    cached = tmp_path / "cached"
    (cached / "models").mkdir(parents=True)
    (cached / "models" / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5").write_bytes(b"h5")
    (tmp_path / "calls.txt").unlink()
    _, _, calls = _rehearse(tmp_path, "image_models:image_models.vgg16", keras_home=cached)
    assert calls == [f"{tmp_path / 'rehearsal'} run --env gtzan --pipeline image_models "
                     "--only-missing-outputs --namespaces image_models.vgg16"]


def _default_pieces() -> list[str]:
    import re

    text = SCRIPT.read_text()
    return re.search(r'PIECES=\$\{REHEARSAL_PIECES:-"(.*?)"\}', text, re.S).group(1).split()


def test_the_default_pieces_cover_the_run_and_each_reads_only_what_earlier_pieces_wrote():
    """Each piece is `kedro run --pipeline P --namespaces N`: a namespace-filtered piece whose
    input is written by a node outside every earlier piece would fail (as vgg16's binned-FFT
    images did while their node sat in the plain `image_models` namespace)."""
    from kedro.framework.project import configure_project

    configure_project("gtzan_kedro")
    from gtzan_kedro.pipeline_registry import register_pipelines

    pipelines = register_pipelines()
    default = pipelines["__default__"]
    made_by_a_node = {d for n in default.nodes for d in n.outputs}
    written: set[str] = set()
    covered: set[str] = set()
    for piece in _default_pieces():
        name, _, namespaces = piece.partition(":")
        nodes = pipelines[name].filter(node_namespaces=namespaces.split(",") if namespaces else None)
        missing = {d for d in nodes.inputs() if d in made_by_a_node} - written
        assert not missing, f"piece {piece} reads {sorted(missing)}, which no earlier piece writes"
        written |= nodes.all_outputs()
        covered |= {n.name for n in nodes.nodes}
    assert {n.name for n in default.nodes} <= covered
