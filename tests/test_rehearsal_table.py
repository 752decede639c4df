"""benchmarks/rehearsal_table.py reads the rehearsal's logs back: the pieces' end lines, and per
model node its wall time, splits and the epochs each fit ran, through rich's wrapped lines."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("rehearsal_table", ROOT / "benchmarks" / "rehearsal_table.py")
rehearsal_table = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rehearsal_table)

# as Kedro's rich console writes them to a file: 80 columns, the location column on the right
PIECE_LOG = """\
[12/01/26 15:20:02] INFO     MLP mlp epoch 18/100: loss 0.04987    progress.py:88
                             accuracy 0.9875 val_loss 0.4136
                    INFO     MLP mlp stopped after epoch 18/100   progress.py:82
                             (early stopping) in 2.8 s
                    INFO     mlp_nadam3 [30s]: 1/6 done (holdout progress.py:123
                             holdout_0, 3.0 s) | 3.0 s elapsed,
                             ETA 15 s
                    INFO     MLP mlp epoch 25/100: loss 0.04904    progress.py:88
                    INFO     MLP mlp epoch 29/100: loss 0.0291     progress.py:88
                    INFO     MLP mlp stopped after epoch 29/100   progress.py:82
                    INFO     mlp_nadam3 [30s]: 2/6 done           progress.py:123
                             (fault_filtered fault_filtered, 3.2
                             s) | 6.2 s elapsed, ETA 0 s
                    INFO     node                                   hooks.py:106
                             audio_models_30s.mlp_nadam3.evaluate
                             took 17.3 s
                    INFO     cnn_mel (mel_3s): 1/1 done (holdout  progress.py:123
                             holdout_0, 7 epochs, 8 min 10 s) |
                             8 min 10 s elapsed, ETA 0 s
                    INFO     node                                   hooks.py:106
                             image_models.cnn_mel.train_and_sco
                             re took 490.0 s
                    INFO     cnn_stft : 1/2 done (holdout        progress.py:110
                             holdout_0, 7 epochs, 7 min 31 s) |
                             7 min 31 s elapsed, ETA 7 min 31 s
                    INFO     cnn_stft : 2/2 done (leaky_segments progress.py:110
                             leaky_0, 5 epochs, 6 min) |
                    INFO     node                                   hooks.py:106
                             image_models.cnn_stft.train_and_score
                             took 900.0 s
"""


def _rehearsal_root(tmp_path, rehearsal_log: str, piece_logs: dict[str, str]):
    """A rehearsal root holding rehearsal.log and the named piece logs."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "rehearsal.log").write_text(rehearsal_log)
    for name, text in piece_logs.items():
        (logs / name).write_text(text)
    return tmp_path


def test_pieces_and_model_nodes_come_back_from_the_logs(tmp_path):
    root = _rehearsal_root(
        tmp_path,
        "2026-12-01T15:17:46Z start audio_models_30s:audio_models_30s: kedro run --env gtzan [code: x]\n"
        "2026-12-01T15:40:00Z end audio_models_30s:audio_models_30s rc=0 wall=1:02:03.5 user+sys=2000s peak_rss=1234MB\n"
        "2026-12-01T15:40:00Z start image_models:image_models.cnn_mel: kedro run --env gtzan [code: x]\n",
        {"audio_models_30s__audio_models_30s.log": PIECE_LOG, "image_models__image_models.cnn_mel.log": PIECE_LOG})
    rows = rehearsal_table.table(root)
    whole = [r for r in rows if r["model"] == "(whole piece)"]
    assert [(r["piece"], r["wall_s"], r["cpu_s"], r["peak_rss_mb"]) for r in whole] == [
        ("audio_models_30s:audio_models_30s", 3723.5, 2000, 1234)]
    nodes = {r["model"]: r for r in rows if r["model"] != "(whole piece)" and r["piece"].startswith("audio")}
    nadam = nodes["audio_models_30s.mlp_nadam3.evaluate"]
    assert nadam["wall_s"] == 17.3 and nadam["splits"] == "1+1" and nadam["epochs"] == "18-29 (mean 24)"
    # the still-running piece lists its finished nodes; a word broken mid-way is joined back
    running = {r["model"]: r for r in rows if r["piece"] == "image_models:image_models.cnn_mel"}
    assert running["image_models.cnn_mel.train_and_score"]["epochs"] == "7"
    assert running["image_models.cnn_mel.train_and_score"]["wall_s"] == 490.0
    # a log written before progress_label, where rich dropped "[stft_3s]" as markup
    stft = running["image_models.cnn_stft.train_and_score"]
    assert stft["splits"] == "1+1" and stft["epochs"] == "5-7 (mean 6)"


def test_a_stopped_then_resumed_piece_keeps_both_runs_models(tmp_path):
    took = ("                    INFO     node                                   hooks.py:106\n"
            "                             audio_models_3s.{model}.evaluate\n"
            "                             took {seconds} s\n")
    root = _rehearsal_root(
        tmp_path,
        "2026-12-01T15:00:00Z start audio_models_3s:audio_models_3s: kedro run [code: x]\n"
        "2026-12-02T09:00:00Z start audio_models_3s:audio_models_3s: kedro run [code: y]\n"
        "2026-12-02T09:30:00Z end audio_models_3s:audio_models_3s rc=0 wall=30:00.00 user+sys=3000s peak_rss=2000MB\n",
        {"audio_models_3s__audio_models_3s.run1.log": took.format(model="svm", seconds="600.0"),
         "audio_models_3s__audio_models_3s.log": took.format(model="mlp_tuned", seconds="1500.0")})
    import os
    from datetime import datetime, timezone

    stopped = datetime(2026, 12, 1, 15, 0, tzinfo=timezone.utc).timestamp() + 1000  # 1000 s in
    os.utime(root / "logs" / "audio_models_3s__audio_models_3s.run1.log", (stopped, stopped))
    rows = rehearsal_table.table(root, min_seconds=1)
    # the stopped run's 1000 s: svm (600 s) kept, the other 400 s lost and done again
    assert rows[0]["wall_s"] == 1000.0 and rows[0]["lost_s"] == 400.0
    assert rehearsal_table.totals(rows) == (2800.0, 400.0)
    # a failed run (rc 1) is lost as a whole
    log = root / "logs" / "rehearsal.log"
    log.write_text(log.read_text() + "2026-12-02T10:00:00Z start vgg16: kedro run [code: y]\n"
                   "2026-12-02T10:00:08Z end vgg16 rc=1 wall=0:08.00 user+sys=8s peak_rss=800MB\n")
    assert rehearsal_table.totals(rehearsal_table.table(root, min_seconds=1)) == (2808.0, 408.0)
    assert [r["model"] for r in rows] == ["(stopped: no end line)", "(whole piece)",
                                          "audio_models_3s.svm.evaluate", "audio_models_3s.mlp_tuned.evaluate"]
    assert rows[0]["piece"].endswith("(run 1 of 2)") and rows[1]["wall_s"] == 1800.0


def test_pieces_run_side_by_side_are_named_and_their_clock_time_is_the_union(tmp_path):
    root = _rehearsal_root(
        tmp_path,
        "2026-12-01T10:00:00Z start audio_models_3s:audio_models_3s.mlp_tuned: kedro run [code: x]\n"
        "2026-12-01T10:01:00Z start embeddings: kedro run [code: x]\n"
        "2026-12-01T10:31:00Z end embeddings rc=0 wall=30:00.00 user+sys=3000s peak_rss=2000MB\n"
        "2026-12-01T11:00:00Z end audio_models_3s:audio_models_3s.mlp_tuned rc=0 wall=1:00:00.00 user+sys=5000s peak_rss=1500MB\n"
        "2026-12-01T11:00:00Z start reporting: kedro run [code: x]\n"
        "2026-12-01T11:00:10Z end reporting rc=0 wall=0:10.00 user+sys=10s peak_rss=800MB\n",
        {})
    rows = rehearsal_table.table(root)
    clock, pairs = rehearsal_table.beside(rows)
    # reporting starts in the second the tuned MLP ends: one after the other, not beside it
    assert pairs == [("audio_models_3s:audio_models_3s.mlp_tuned", "embeddings")]
    assert clock == 3610.0 and rehearsal_table.totals(rows) == (5410.0, 0.0)


def test_a_piece_whose_timer_was_killed_is_timed_by_its_stamps_and_lost_but_for_its_nodes(tmp_path):
    took = ("                    INFO     node                                   hooks.py:106\n"
            "                             embeddings.embed_tracks\n"
            "                             took 600.0 s\n")
    root = _rehearsal_root(
        tmp_path,
        "2026-12-01T20:35:19Z start embeddings: kedro run [code: x]\n"
        "2026-12-01T21:11:25Z end embeddings rc=143 wall= user+sys=0s peak_rss=MB\n",
        {"embeddings.log": took})
    rows = rehearsal_table.table(root, min_seconds=1)
    assert rows[0]["model"] == "(whole piece)" and rows[0]["wall_s"] == 2166.0
    assert rows[0]["cpu_s"] == "" and rows[0]["peak_rss_mb"] == "" and rows[0]["lost_s"] == 1566.0
    assert rows[1]["model"] == "embeddings.embed_tracks"


def test_a_piece_measured_again_counts_once_in_the_totals(tmp_path):
    root = _rehearsal_root(
        tmp_path,
        "2026-12-01T10:00:00Z start image_models:image_models.alexnet: kedro run [code: x]\n"
        "2026-12-01T10:00:08Z end image_models:image_models.alexnet rc=1 wall=0:08.00 user+sys=8s peak_rss=800MB\n"
        "2026-12-01T10:01:00Z start image_models:image_models.alexnet: kedro run [code: x]\n"
        "2026-12-01T10:09:00Z end image_models:image_models.alexnet rc=0 wall=8:00.00 user+sys=700s peak_rss=7500MB\n"
        "2026-12-02T10:00:00Z start image_models:image_models.alexnet: kedro run [code: y]\n"
        "2026-12-02T10:07:00Z end image_models:image_models.alexnet rc=0 wall=7:00.00 user+sys=600s peak_rss=3000MB\n",
        {})
    rows = rehearsal_table.table(root)
    assert [r["model"] for r in rows] == ["(whole piece)", "(whole piece, superseded by a later run)",
                                          "(whole piece)"]
    # the failed run's 8 s stay lost; the first finished run is replaced by the second
    assert rehearsal_table.totals(rows) == (428.0, 8.0)
    assert rehearsal_table.beside(rows) == (428.0, [])
