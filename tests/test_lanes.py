"""`python -m gtzan_kedro.lanes` (what `make run` calls): its stages cover the default pipeline
exactly, no piece reads what a piece of its own or a later stage writes, and the runner runs a
stage's pieces side by side, keeps going past a failed piece and skips the later stages."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from kedro.framework.project import configure_project

from gtzan_kedro import lanes


@pytest.fixture(scope="module")
def pipelines():
    configure_project("gtzan_kedro")
    from gtzan_kedro.pipeline_registry import register_pipelines

    return register_pipelines()


def _datasets(names) -> set[str]:
    return {n for n in names if not n.startswith("params:") and n != "parameters"}


def _nodes(pipelines, piece: lanes.Piece):
    """The piece's nodes, filtered as `kedro run` filters them."""
    return pipelines[piece.pipeline].filter(node_namespaces=piece.namespaces or None,
                                            node_names=piece.nodes or None)


def _waits_for(piece: lanes.Piece, by_name) -> set[str]:
    seen, todo = set(), list(piece.after)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += by_name[name].after
    return seen


def test_the_pieces_are_the_default_pipeline_node_for_node(pipelines):
    covered = [n.name for p in lanes.PIECES for n in _nodes(pipelines, p).nodes]
    assert len(covered) == len(set(covered)), "a node is in two pieces"
    assert set(covered) == {n.name for n in pipelines["__default__"].nodes}
    # and a node runs with the inputs it has in the default pipeline (not a subset's variant)
    default = {n.name: set(n.inputs) for n in pipelines["__default__"].nodes}
    for piece in lanes.PIECES:
        for n in _nodes(pipelines, piece).nodes:
            assert set(n.inputs) == default[n.name], (piece.name, n.name)


def test_a_piece_waits_for_every_piece_that_writes_what_it_reads(pipelines):
    by_name = {p.name: p for p in lanes.PIECES}
    writes = {p.name: _datasets(_nodes(pipelines, p).all_outputs()) for p in lanes.PIECES}
    for piece in lanes.PIECES:
        reads = _datasets(_nodes(pipelines, piece).inputs())
        waited = _waits_for(piece, by_name)
        for other, written in writes.items():
            if other != piece.name and reads & written:
                assert other in waited, f"{piece.name} reads {sorted(reads & written)} from {other} without waiting for it"


def test_plan_drops_skipped_pieces_and_rejects_unknown_ones():
    pieces = lanes.plan(["embeddings"])
    assert "embeddings" not in {p.name for p in pieces}
    assert all("embeddings" not in p.after for p in pieces)
    assert len(pieces) == len(lanes.PIECES) - 1
    with pytest.raises(ValueError, match="unknown piece"):
        lanes.plan(["embedings"])


def test_a_piece_becomes_its_kedro_run_arguments():
    piece = lanes.Piece("x", "audio_models", namespaces=("a", "b"), nodes=("n",))
    assert piece.arguments() == ["--pipeline", "audio_models", "--namespaces", "a,b", "--nodes", "n"]


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def _fake(commands):
    return lambda piece: commands[piece.name]


def test_independent_pieces_run_side_by_side_and_a_waiting_one_after(tmp_path):
    # a waits for a file that only b writes: it finishes only when both run at once;
    # c lists a file a and b wrote and must see both
    flag = tmp_path / "b_started"
    wait = (f"import pathlib, time, sys\nfor _ in range(600):\n    if pathlib.Path({str(flag)!r}).exists(): "
            f"pathlib.Path({str(tmp_path / 'a_done')!r}).touch(); sys.exit(0)\n    time.sleep(0.05)\nsys.exit(3)")
    commands = {"a": _python(wait),
                "b": _python(f"import pathlib; pathlib.Path({str(flag)!r}).touch(); print('b ran')"),
                "c": _python(f"import pathlib, sys; sys.exit(0 if pathlib.Path({str(tmp_path / 'a_done')!r}).exists() else 5)")}
    pieces = [lanes.Piece("c", "c", after=("a", "b")), lanes.Piece("a", "a"), lanes.Piece("b", "b")]
    lines: list[str] = []
    results = lanes.run_pieces(pieces, jobs=2, log_dir=tmp_path / "logs", command_for=_fake(commands),
                               say=lines.append)
    assert [(r.name, r.returncode) for r in results][-1] == ("c", 0)
    assert {r.name: r.returncode for r in results} == {"a": 0, "b": 0, "c": 0}
    assert (tmp_path / "logs" / "b.log").read_text().strip() == "b ran"
    assert all(r.peak_rss_mb > 1 and r.cpu_seconds >= 0 for r in results)   # from wait4
    assert any("done  a" in line for line in lines) and any("3/3 pieces finished" in line for line in lines)


def test_a_failed_piece_skips_only_what_waits_for_it(tmp_path):
    commands = {"bad": _python("print('broken input'); raise SystemExit(4)"),
                "good": _python("print('fine')"), "later": _python("print('must not run')"),
                "after_good": _python("print('runs')")}
    pieces = [lanes.Piece("bad", "x"), lanes.Piece("good", "x"), lanes.Piece("later", "x", after=("bad", "good")),
              lanes.Piece("after_good", "x", after=("good",))]
    lines: list[str] = []
    results = lanes.run_pieces(pieces, jobs=1, log_dir=tmp_path, command_for=_fake(commands), say=lines.append)
    assert {r.name: r.returncode for r in results} == {"bad": 4, "good": 0, "after_good": 0}
    text = "\n".join(lines)
    assert "FAILED bad (exit 4)" in text and "broken input" in text   # the log's tail is shown
    assert "skip  later: it waits for bad, which failed" in text
    assert not (tmp_path / "later.log").exists()


def test_a_piece_waiting_for_an_unknown_one_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="unknown piece"):
        lanes.run_pieces([lanes.Piece("a", "x", after=("nope",))], 1, tmp_path, _fake({}))


def test_main_exits_1_when_a_piece_fails_and_names_the_kedro_command(tmp_path, monkeypatch, capsys):
    seen = []

    def fake_run_pieces(pieces, jobs, log_dir, command_for, say=print):
        seen.append(command_for(pieces[0]))
        return [lanes.PieceResult("ingest", 1, 0.5, Path(log_dir) / "ingest.log")]

    monkeypatch.setattr(lanes, "run_pieces", fake_run_pieces)
    code = lanes.main(["--env", "gtzan", "--kedro", "kedro", "--log-dir", str(tmp_path)])
    assert code == 1
    assert seen == [["kedro", "run", "--pipeline", "ingest", "--env", "gtzan"]]
    assert "NOT all pieces succeeded" in capsys.readouterr().out
    assert (tmp_path / "pieces.csv").read_text().splitlines() == [
        "piece,returncode,wall_seconds,cpu_seconds,peak_rss_mb", "ingest,1,0.5,nan,nan"]
