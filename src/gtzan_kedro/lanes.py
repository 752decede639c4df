"""`make run` on every core: the default pipeline as independent `kedro run` pieces, each started
as soon as the pieces it reads from have finished, up to ``--jobs`` at once in separate processes.

    python -m gtzan_kedro.lanes                 # 2 at a time, conf/base (what `make run` calls)
    python -m gtzan_kedro.lanes --jobs 1        # one after the other (a sequential run, piece-wise)
    python -m gtzan_kedro.lanes --skip embeddings --env local

Why processes, not Kedro's ParallelRunner or ThreadRunner: Kedro documents that ParallelRunner
"will not execute `node` and `dataset` hooks", and kedro-mlflow's parent run lives in the main
process, so the per-model MLflow runs of hooks.ModelTrackingHook would be lost; threads would
share Keras' global seeds and MLflow's run stack. Small Keras fits keep about one core busy, so
two processes use both. Each piece is its own Kedro run with its own kedro-mlflow parent run;
the outputs are those of a sequential `kedro run`: every piece reads only what the pieces it
waits for wrote, and together the pieces are the default pipeline node for node
(tests/test_lanes.py checks both against the registered pipelines).

Each piece's Kedro output goes to ``<log-dir>/<piece>.log``; the terminal gets a line when a
piece starts and when it ends (wall time, CPU seconds, peak RSS), and the log's tail when one
fails; ``<log-dir>/pieces.csv`` keeps those figures. A failed
piece stops only the pieces that wait for it; the exit code is then 1.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from gtzan_kedro.durations import format_duration


@dataclass(frozen=True)
class Piece:
    """``kedro run --pipeline <pipeline> [--namespaces ...] [--nodes ...]``, run after ``after``."""

    name: str
    pipeline: str
    namespaces: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()
    after: tuple[str, ...] = field(default=())

    def arguments(self) -> list[str]:
        args = ["--pipeline", self.pipeline]
        if self.namespaces:
            args += ["--namespaces", ",".join(self.namespaces)]
        if self.nodes:
            args += ["--nodes", ",".join(self.nodes)]
        return args


# The default pipeline (pipeline_registry.__default__) in pieces, in the order a free worker
# takes them: the pieces others wait for, then the longest (measured in `make run`, README).
# The two audio tables are separate pieces (their model namespaces only); the best-model
# refit, which weighs both tables, runs once after them.
PIECES: tuple[Piece, ...] = (
    Piece("ingest", "ingest"),
    Piece("feature_selection", "feature_selection", after=("ingest",)),
    Piece("image_models", "image_models", after=("ingest",)),
    Piece("audio_models_3s", "audio_models_3s", namespaces=("audio_models_3s",),
          after=("ingest", "feature_selection")),
    Piece("embeddings", "embeddings", after=("ingest",)),
    Piece("audio_models_30s", "audio_models_30s", namespaces=("audio_models_30s",),
          after=("ingest", "feature_selection")),
    Piece("multimodal", "multimodal", after=("ingest",)),
    # not a data dependency: ingest keeps both cores busy, so PM2.5 fills a gap at the end
    Piece("pm25_forecast", "pm25_forecast", after=("ingest",)),
    Piece("best_audio_model", "audio_models", nodes=("audio_models.select_best_audio_model",),
          after=("audio_models_30s", "audio_models_3s")),
    Piece("reporting", "reporting",
          after=("image_models", "audio_models_3s", "audio_models_30s", "embeddings", "multimodal",
                 "pm25_forecast", "best_audio_model")),
)


@dataclass
class PieceResult:
    name: str
    returncode: int
    seconds: float
    log: Path
    cpu_seconds: float = float("nan")
    peak_rss_mb: float = float("nan")


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(could not read {path}: {exc})"


def run_piece(name: str, command: list[str], log_dir: Path, say: Callable[[str], None]) -> PieceResult:
    """One piece in its own process, its output in ``<log_dir>/<name>.log``."""
    log = log_dir / f"{name}.log"
    say(f"start {name}: {' '.join(command[1:])} (log: {log})")
    start = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        # wait4, not wait: the piece's own CPU time and peak RSS (with the workers it reaped)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - start
    cpu, peak_mb = usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024
    cost = f"{format_duration(seconds)} ({cpu:.0f} CPU-s, peak RSS {peak_mb:.0f} MB)"
    if returncode == 0:
        say(f"done  {name} in {cost}")
    else:
        say(f"FAILED {name} (exit {returncode}) after {cost}; the end of {log}:\n{_tail(log)}")
    return PieceResult(name, returncode, seconds, log, cpu, peak_mb)


def _check(pieces: Sequence[Piece]) -> None:
    names = [p.name for p in pieces]
    if len(set(names)) != len(names):
        raise ValueError(f"piece names repeat: {names}")
    for p in pieces:
        missing = set(p.after) - set(names)
        if missing:
            raise ValueError(f"piece {p.name} waits for unknown piece(s) {sorted(missing)}")


def run_pieces(pieces: Sequence[Piece], jobs: int, log_dir: Path, command_for: Callable[[Piece], list[str]],
               say: Callable[[str], None] = print) -> list[PieceResult]:
    """Every piece once its ``after`` pieces succeeded, up to ``jobs`` at a time, in list order
    among the ready ones. A piece whose ``after`` failed (or was skipped) is skipped."""
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    _check(pieces)
    log_dir.mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()
    start = time.monotonic()
    total = len(pieces)
    results: list[PieceResult] = []

    def locked_say(text: str) -> None:
        with lock:
            say(f"[{format_duration(time.monotonic() - start):>12}] {text}")

    pending = list(pieces)
    ok: set[str] = set()
    bad: set[str] = set()
    running: dict[Future, Piece] = {}
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        while pending or running:
            for piece in [p for p in pending if set(p.after) & bad]:
                pending.remove(piece)
                bad.add(piece.name)
                locked_say(f"skip  {piece.name}: it waits for {', '.join(sorted(set(piece.after) & bad))}, which failed")
            for piece in [p for p in pending if set(p.after) <= ok]:
                if len(running) >= jobs:
                    break
                pending.remove(piece)
                running[pool.submit(run_piece, piece.name, command_for(piece), log_dir, locked_say)] = piece
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                piece = running.pop(future)
                result = future.result()
                results.append(result)
                (ok if result.returncode == 0 else bad).add(piece.name)
                locked_say(f"{len(results)}/{total} pieces finished")
    return results


def plan(skip: Sequence[str] = (), pieces: Sequence[Piece] = PIECES) -> list[Piece]:
    """``pieces`` without ``skip`` (unknown names are an error); the pieces that waited for a
    skipped one no longer wait for it."""
    known = {p.name for p in pieces}
    unknown = sorted(set(skip) - known)
    if unknown:
        raise ValueError(f"--skip: unknown piece(s) {unknown}; the pieces are {sorted(known)}")
    return [Piece(p.name, p.pipeline, p.namespaces, p.nodes, tuple(a for a in p.after if a not in skip))
            for p in pieces if p.name not in skip]


def _write_summary(path: Path, results: Sequence[PieceResult]) -> None:
    """``pieces.csv``: one row per piece that ran (wall, CPU seconds, peak RSS, exit code)."""
    from gtzan_kedro.fileio import atomic_write_text

    rows = ["piece,returncode,wall_seconds,cpu_seconds,peak_rss_mb"]
    rows += [f"{r.name},{r.returncode},{r.seconds:.1f},{r.cpu_seconds:.1f},{r.peak_rss_mb:.0f}" for r in results]
    atomic_write_text(path, "\n".join(rows) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gtzan_kedro.lanes", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", "-j", type=int, default=2, help="pieces at once (default 2)")
    parser.add_argument("--env", default=None, help="Kedro environment, passed to every piece")
    parser.add_argument("--skip", default="", help="comma-separated pieces to leave out (e.g. embeddings)")
    parser.add_argument("--log-dir", default="data/09_logs/lanes", type=Path,
                        help="one <piece>.log per piece (default data/09_logs/lanes)")
    parser.add_argument("--kedro", default=str(Path(sys.executable).with_name("kedro")),
                        help="the kedro executable (default: the one beside this Python)")
    args = parser.parse_args(argv)
    try:
        pieces = plan([s for s in args.skip.split(",") if s])
    except ValueError as exc:
        parser.error(str(exc))
    extra = ["--env", args.env] if args.env else []
    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("COLUMNS", "160")   # the pieces' logs: rich wraps files at 80 columns otherwise
    start = time.monotonic()
    results = run_pieces(pieces, args.jobs, args.log_dir,
                         lambda piece: [args.kedro, "run", *piece.arguments(), *extra])
    ok = len(results) == len(pieces) and all(r.returncode == 0 for r in results)
    _write_summary(args.log_dir / "pieces.csv", results)
    slowest = sorted(results, key=lambda r: -r.seconds)[:3]
    print(f"{'all' if ok else 'NOT all'} pieces succeeded: {format_duration(time.monotonic() - start)} wall with "
          f"--jobs {args.jobs}; slowest: " + ", ".join(f"{r.name} {format_duration(r.seconds)}" for r in slowest)
          + f"; logs in {args.log_dir}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
